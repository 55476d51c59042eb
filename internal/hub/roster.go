package hub

import (
	"github.com/google/btree"

	"github.com/parley-chat/parley/internal/protocol"
)

// roster is a room's local users: by id for joins and leaves, and in id
// order for the joined reply's member list. Every join reads the first
// MaxJoinedMembers in order; keeping them in a B-tree makes that read cost
// O(MaxJoinedMembers + log N) instead of sorting the whole room, which
// made filling a room of N users cost O(N² log N). Guarded by the room's
// mutex.
type roster struct {
	byID    map[string]*presence
	ordered *btree.BTreeG[*presence]
}

// rosterDegree is the B-tree's branching: small nodes, cheap inserts.
const rosterDegree = 16

func newRoster() roster {
	return roster{byID: make(map[string]*presence),
		ordered: btree.NewG(rosterDegree, func(a, b *presence) bool { return a.user.ID < b.user.ID })}
}

// len is the number of users.
func (r *roster) len() int { return len(r.byID) }

// get returns the user's presence, nil when not in the room.
func (r *roster) get(uid string) *presence { return r.byID[uid] }

// add puts u in the roster with no connections counted and returns their
// presence, or returns the one already there; first says it was not.
func (r *roster) add(u protocol.User) (p *presence, first bool) {
	if p = r.byID[u.ID]; p != nil {
		return p, false
	}
	p = &presence{user: u}
	r.byID[u.ID] = p
	r.ordered.ReplaceOrInsert(p)
	return p, true
}

// remove takes a user out of the roster.
func (r *roster) remove(uid string) {
	if p := r.byID[uid]; p != nil {
		delete(r.byID, uid)
		r.ordered.Delete(p)
	}
}

// list returns the users in id order: all of them when limit is 0, else
// the first limit.
func (r *roster) list(limit int) []protocol.User {
	n := r.len()
	if limit > 0 {
		n = min(n, limit)
	}
	users := make([]protocol.User, 0, n)
	r.ordered.Ascend(func(p *presence) bool {
		users = append(users, p.user)
		return len(users) < n
	})
	return users
}
