package hub

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// presenceDiff gathers a busy room's presence changes between two
// flushes: for each user, their last change.
type presenceDiff struct {
	joins, leaves map[string]protocol.User
	timer         *time.Timer
}

// presenceLocked delivers a presence frame. A room with no more than
// PresenceBatchAbove local connections sends it at once; a busier one
// gathers the changes and sends one presence_diff per interval (see
// diffIntervalLocked),
// so that filling a room of N costs O(N) frames per interval rather than
// one frame to every member for every join. The diff's lists are bounded
// too (see flushPresence): otherwise each member would still be told of
// every arrival, O(N²) users in all.
func (r *room) presenceLocked(exclude string, frame []byte) {
	// Changes wait behind a diff still to be sent, so none overtakes it.
	if len(r.members) <= r.hub.cfg.PresenceBatchAbove && r.diff.timer == nil {
		r.fanoutLocked(0, exclude, frame)
		return
	}
	var f struct {
		Body protocol.PresenceBody `json:"body"`
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		r.hub.log.Warn("dropping a malformed presence event", "room", r.key, "err", err)
		return
	}
	d := &r.diff
	if d.joins == nil {
		d.joins, d.leaves = make(map[string]protocol.User), make(map[string]protocol.User)
	}
	u := f.Body.User
	switch f.Body.Event {
	case "join":
		delete(d.leaves, u.ID)
		d.joins[u.ID] = u
	case "leave":
		delete(d.joins, u.ID)
		d.leaves[u.ID] = u
	}
	if d.timer == nil && !r.stopped {
		d.timer = time.AfterFunc(r.diffIntervalLocked(), r.flushPresence)
	}
}

// diffIntervalLocked is how long a busy room gathers presence changes:
// PresenceInterval, times one more for every 10 × PresenceBatchAbove local
// connections (1,000 by default). A diff goes to every member, so a fixed
// interval made filling a room of N cost N frames a second for the whole
// fill, which itself lasts in proportion to N: O(N²) frames in all. Growing
// the interval with the room keeps a room's presence to about 1,000 frames
// a second per node, whatever its size.
func (r *room) diffIntervalLocked() time.Duration {
	per := 10 * r.hub.cfg.PresenceBatchAbove
	return r.hub.cfg.PresenceInterval * time.Duration(1+(len(r.members)-1)/per)
}

// flushPresence sends the gathered changes as one presence_diff frame:
// each list cut to the first MaxJoinedMembers by id, with the room's
// member count. The count of a cluster comes from the store, read
// outside the room's lock; the timer stays set meanwhile, so changes that
// arrive are gathered for the next diff and none overtakes this one.
func (r *room) flushPresence() {
	r.mu.Lock()
	d := &r.diff
	if r.stopped || len(d.joins)+len(d.leaves) == 0 {
		d.timer = nil
		r.mu.Unlock()
		return
	}
	limit := r.hub.cfg.MaxJoinedMembers
	joins, jcut := firstUsers(d.joins, limit)
	leaves, lcut := firstUsers(d.leaves, limit)
	clear(d.joins)
	clear(d.leaves)
	r.mu.Unlock()

	count, counted := 0, false
	if r.hub.cluster != nil {
		count, counted = r.hub.clusterCount(r.key)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	d.timer = nil
	if r.stopped {
		return
	}
	if !counted {
		// One node, or the store cannot count: this node's users.
		count = r.users.len()
	}
	body := protocol.PresenceDiffBody{Room: r.key, Joins: joins, Leaves: leaves, MemberCount: count, Truncated: jcut || lcut}
	r.fanoutLocked(0, "", protocol.Encode(protocol.TypePresenceDiff, "", body))
	if len(d.joins)+len(d.leaves) > 0 {
		d.timer = time.AfterFunc(r.diffIntervalLocked(), r.flushPresence)
	}
}

// firstUsers returns the first limit users of m by id, and whether any
// were left out.
func firstUsers(m map[string]protocol.User, limit int) ([]protocol.User, bool) {
	out := make([]protocol.User, 0, min(len(m), limit))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		return out[:limit], true
	}
	return out, false
}
