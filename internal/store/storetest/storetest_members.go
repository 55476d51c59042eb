package storetest

import (
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

var memberTests = []namedTest{
	{"AddRemove", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "r", "ann")
		noErr(t, s.AddMember(c, "r", "cat", store.RoleMember), "AddMember cat")
		noErr(t, s.AddMember(c, "r", "bob", store.RoleAdmin), "AddMember bob")
		ms, err := s.Members(c, "r")
		noErr(t, err, "Members")
		var got []string
		for _, m := range ms {
			got = append(got, m.UserID+":"+string(m.Role))
		}
		equal(t, got, []string{"ann:owner", "bob:admin", "cat:member"}, "members by user id")
		m, err := s.Member(c, "r", "bob")
		noErr(t, err, "Member")
		equal(t, m, ms[1], "Member matches Members")

		noErr(t, s.RemoveMember(c, "r", "bob"), "RemoveMember")
		_, err = s.Member(c, "r", "bob")
		wantErr(t, err, store.ErrNotFound, "Member after removal")
		wantErr(t, s.RemoveMember(c, "r", "bob"), store.ErrNotFound, "RemoveMember again")
		wantErr(t, s.RemoveMember(c, "nowhere", "bob"), store.ErrNotFound, "RemoveMember in missing room")
		ms, err = s.Members(c, "r")
		noErr(t, err, "Members")
		equal(t, len(ms), 2, "members after removal")
	}},
	{"NotFound", func(t *testing.T, s store.Store) {
		c := ctx(t)
		wantErr(t, s.AddMember(c, "nowhere", "ann", store.RoleMember), store.ErrNotFound, "AddMember to missing room")
		_, err := s.Members(c, "nowhere")
		wantErr(t, err, store.ErrNotFound, "Members of missing room")
		_, err = s.Member(c, "nowhere", "ann")
		wantErr(t, err, store.ErrNotFound, "Member of missing room")
		mkRoom(t, s, "r", "")
		_, err = s.Member(c, "r", "ann")
		wantErr(t, err, store.ErrNotFound, "Member who is not one")
	}},
	{"ReRoleKeepsReadMarker", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "r", "ann")
		noErr(t, s.AddMember(c, "r", "bob", store.RoleMember), "AddMember")
		send(t, s, "r", "ann", "1")
		send(t, s, "r", "ann", "2")
		_, err := s.MarkRead(c, "r", "bob", 2)
		noErr(t, err, "MarkRead")
		before, err := s.Member(c, "r", "bob")
		noErr(t, err, "Member")
		noErr(t, s.AddMember(c, "r", "bob", store.RoleAdmin), "AddMember again")
		m, err := s.Member(c, "r", "bob")
		noErr(t, err, "Member")
		want := before
		want.Role = store.RoleAdmin
		equal(t, m, want, "membership after re-role")
	}},
	{"MarkReadForwardOnlyAndCapped", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "r", "ann")
		for range 5 {
			send(t, s, "r", "bob", "x")
		}
		for _, tc := range []struct {
			seq, want int64
		}{{3, 3}, {2, 3}, {-1, 3}, {3, 3}, {4, 4}, {99, 5}} {
			got, err := s.MarkRead(c, "r", "ann", tc.seq)
			noErr(t, err, "MarkRead")
			equal(t, got, tc.want, "marker after MarkRead")
		}
		m, err := s.Member(c, "r", "ann")
		noErr(t, err, "Member")
		equal(t, m.ReadSeq, int64(5), "ReadSeq")
		_, err = s.MarkRead(c, "r", "stranger", 1)
		wantErr(t, err, store.ErrNotFound, "MarkRead by non-member")
		_, err = s.MarkRead(c, "nowhere", "ann", 1)
		wantErr(t, err, store.ErrNotFound, "MarkRead in missing room")
	}},
	{"Unread", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "r", "ann")
		noErr(t, s.AddMember(c, "r", "bob", store.RoleMember), "AddMember")
		mkRoom(t, s, "elsewhere", "bob") // ann is not a member: not listed
		send(t, s, "elsewhere", "bob", "x")
		d, err := s.EnsureDirect(c, "ann", "bob")
		noErr(t, err, "EnsureDirect")

		m1 := send(t, s, "r", "bob", "1")                   // seq 1
		send(t, s, "r", "ann", "own")                       // seq 2: ann's own, not unread
		send(t, s, "r", "bob", "2")                         // seq 3
		_, err = s.Edit(c, "r", m1.Message.ID, "bob", "1!") // seq 4: not a message event
		noErr(t, err, "Edit")
		_, err = s.React(c, "r", m1.Message.ID, "bob", "👍", true) // seq 5
		noErr(t, err, "React")
		send(t, s, "r", "bob", "3") // seq 6
		send(t, s, d.Name, "bob", "psst")

		want := []store.Unread{
			{Room: d.Name, Kind: store.KindDirect, LastSeq: 1, ReadSeq: 0, Count: 1},
			{Room: "r", Kind: store.KindRoom, LastSeq: 6, ReadSeq: 0, Count: 3},
		}
		us, err := s.Unread(c, "ann")
		noErr(t, err, "Unread")
		equal(t, us, want, "unread of ann")

		_, err = s.MarkRead(c, "r", "ann", 3)
		noErr(t, err, "MarkRead")
		_, err = s.MarkRead(c, d.Name, "ann", 1)
		noErr(t, err, "MarkRead direct")
		want[0].ReadSeq, want[0].Count = 1, 0
		want[1].ReadSeq, want[1].Count = 3, 1
		us, err = s.Unread(c, "ann")
		noErr(t, err, "Unread")
		equal(t, us, want, "unread of ann after reading")

		us, err = s.Unread(c, "nobody")
		noErr(t, err, "Unread of a user in no rooms")
		equal(t, len(us), 0, "rooms of a user in no rooms")
	}},
}
