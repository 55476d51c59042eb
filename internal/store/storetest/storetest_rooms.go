package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var roomTests = []namedTest{
	{"CreateRoom", func(t *testing.T, s store.Store) {
		c := ctx(t)
		before := time.Now()
		r, err := s.CreateRoom(c, store.Room{Name: "general", Kind: store.KindRoom, Owner: "ann", Topic: "chat"})
		after := time.Now()
		noErr(t, err, "CreateRoom")
		if r.Name != "general" || r.Kind != store.KindRoom || r.Private || r.Owner != "ann" || r.Topic != "chat" || r.LastSeq != 0 {
			t.Fatalf("room = %+v", r)
		}
		storeTime(t, r.CreatedAt, before, after, "CreatedAt")
		got, err := s.Room(c, "general")
		noErr(t, err, "Room")
		equal(t, got, r, "room read back")
		m, err := s.Member(c, "general", "ann")
		noErr(t, err, "Member owner")
		if m.Role != store.RoleOwner || m.Room != "general" || m.UserID != "ann" || m.ReadSeq != 0 {
			t.Fatalf("owner membership = %+v", m)
		}
		storeTime(t, m.JoinedAt, before, after, "JoinedAt")
	}},
	{"CreateRoomConflict", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "general", "ann")
		_, err := s.CreateRoom(c, store.Room{Name: "general", Kind: store.KindRoom, Owner: "bob", Topic: "mine"})
		wantErr(t, err, store.ErrConflict, "CreateRoom with a taken name")
		got, err := s.Room(c, "general")
		noErr(t, err, "Room")
		if got.Owner != "ann" || got.Topic != "" {
			t.Fatalf("room after conflict = %+v", got)
		}
		_, err = s.Member(c, "general", "bob")
		wantErr(t, err, store.ErrNotFound, "would-be owner of the conflicting room")
	}},
	{"CreateRoomPrivateNoOwner", func(t *testing.T, s store.Store) {
		c := ctx(t)
		created := store.Timestamp(time.Date(2020, 1, 2, 3, 4, 5, 6e6, time.UTC))
		r, err := s.CreateRoom(c, store.Room{Name: "secret", Kind: store.KindRoom, Private: true, CreatedAt: created})
		noErr(t, err, "CreateRoom")
		equal(t, r.CreatedAt, created, "CreatedAt given by the caller")
		got, err := s.Room(c, "secret")
		noErr(t, err, "Room")
		equal(t, got, r, "room read back")
		if !got.Private {
			t.Fatal("room not private")
		}
		ms, err := s.Members(c, "secret")
		noErr(t, err, "Members")
		equal(t, len(ms), 0, "members of a room without owner")
	}},
	{"RoomNotFound", func(t *testing.T, s store.Store) {
		_, err := s.Room(ctx(t), "nowhere")
		wantErr(t, err, store.ErrNotFound, "Room")
		_, err = s.UpdateRoom(ctx(t), store.Room{Name: "nowhere", Topic: "x"})
		wantErr(t, err, store.ErrNotFound, "UpdateRoom")
	}},
	{"UpdateRoom", func(t *testing.T, s store.Store) {
		c := ctx(t)
		r := mkRoom(t, s, "general", "ann")
		send(t, s, "general", "ann", "x")
		up, err := s.UpdateRoom(c, store.Room{Name: "general", Topic: "new topic", Private: true})
		noErr(t, err, "UpdateRoom")
		want := r
		want.Topic, want.Private, want.LastSeq = "new topic", true, 1
		equal(t, up, want, "updated room")
		got, err := s.Room(c, "general")
		noErr(t, err, "Room")
		equal(t, got, want, "updated room read back")
		up, err = s.UpdateRoom(c, store.Room{Name: "general", Topic: "", Private: false})
		noErr(t, err, "UpdateRoom back")
		if up.Private || up.Topic != "" {
			t.Fatalf("room = %+v", up)
		}
	}},
	{"EnsureDirect", func(t *testing.T, s store.Store) {
		c := ctx(t)
		r, err := s.EnsureDirect(c, "zed", "amy")
		noErr(t, err, "EnsureDirect")
		if r.Name != store.DirectRoomName("amy", "zed") || r.Kind != store.KindDirect || !r.Private || r.LastSeq != 0 {
			t.Fatalf("direct room = %+v", r)
		}
		ms, err := s.Members(c, r.Name)
		noErr(t, err, "Members")
		if len(ms) != 2 || ms[0].UserID != "amy" || ms[1].UserID != "zed" {
			t.Fatalf("members = %+v", ms)
		}
		send(t, s, r.Name, "amy", "hi")
		again, err := s.EnsureDirect(c, "amy", "zed")
		noErr(t, err, "EnsureDirect again, other way round")
		want := r
		want.LastSeq = 1
		equal(t, again, want, "same conversation")
		got, err := s.Room(c, r.Name)
		noErr(t, err, "Room")
		equal(t, got, want, "direct room read back")
		ms, err = s.Members(c, r.Name)
		noErr(t, err, "Members")
		equal(t, len(ms), 2, "members after second EnsureDirect")
	}},
	{"EnsureDirectStaysPrivate", func(t *testing.T, s store.Store) {
		c := ctx(t)
		r, err := s.EnsureDirect(c, "amy", "zed")
		noErr(t, err, "EnsureDirect")
		up, err := s.UpdateRoom(c, store.Room{Name: r.Name, Topic: "t", Private: false})
		noErr(t, err, "UpdateRoom")
		if !up.Private {
			t.Fatal("direct conversation made public")
		}
	}},
	{"RoomsListsPublicAndJoined", func(t *testing.T, s store.Store) {
		c := ctx(t)
		mkRoom(t, s, "pub-b", "x")
		mkRoom(t, s, "pub-a", "")
		_, err := s.CreateRoom(c, store.Room{Name: "priv-in", Kind: store.KindRoom, Private: true, Owner: "ann"})
		noErr(t, err, "CreateRoom")
		_, err = s.CreateRoom(c, store.Room{Name: "priv-out", Kind: store.KindRoom, Private: true, Owner: "bob"})
		noErr(t, err, "CreateRoom")
		d, err := s.EnsureDirect(c, "ann", "bob")
		noErr(t, err, "EnsureDirect")
		_, err = s.EnsureDirect(c, "bob", "cat")
		noErr(t, err, "EnsureDirect")
		names := func(user string) []string {
			rs, err := s.Rooms(c, user)
			noErr(t, err, "Rooms")
			var out []string
			for _, r := range rs {
				out = append(out, r.Name)
			}
			return out
		}
		equal(t, names("ann"), []string{d.Name, "priv-in", "pub-a", "pub-b"}, "rooms of ann")
		equal(t, names("nobody"), []string{"pub-a", "pub-b"}, "rooms of a stranger")
		rs, err := s.Rooms(c, "ann")
		noErr(t, err, "Rooms")
		got, err := s.Room(c, "priv-in")
		noErr(t, err, "Room")
		equal(t, rs[1], got, "listed room")
	}},
	{"ListRoomsListsEveryNamedRoom", func(t *testing.T, s store.Store) {
		c := ctx(t)
		rs, err := s.ListRooms(c)
		noErr(t, err, "ListRooms of an empty store")
		equal(t, len(rs), 0, "rooms of an empty store")
		// Names whose order differs between byte order and a language's
		// collation, which ignores punctuation.
		for _, name := range []string{"ab", "a_b", "a.c", "a-b", "b"} {
			mkRoom(t, s, name, "ann")
		}
		_, err = s.CreateRoom(c, store.Room{Name: "secret", Kind: store.KindRoom, Private: true, Owner: "bob", Topic: "plans"})
		noErr(t, err, "CreateRoom private")
		_, err = s.CreateRoom(c, store.Room{Name: "keyed", Kind: store.KindRoom})
		noErr(t, err, "CreateRoom without owner")
		_, err = s.EnsureDirect(c, "ann", "bob")
		noErr(t, err, "EnsureDirect")
		send(t, s, "secret", "bob", "one")
		send(t, s, "secret", "bob", "two")
		locked, err := s.Room(c, "b")
		noErr(t, err, "Room")
		locked.Locked, locked.Archived = true, true
		_, err = s.UpdateRoom(c, locked)
		noErr(t, err, "UpdateRoom")

		rs, err = s.ListRooms(c)
		noErr(t, err, "ListRooms")
		var names []string
		for _, r := range rs {
			names = append(names, r.Name)
			got, err := s.Room(c, r.Name)
			noErr(t, err, "Room "+r.Name)
			equal(t, r, got, "listed room "+r.Name)
		}
		equal(t, names, []string{"a-b", "a.c", "a_b", "ab", "b", "keyed", "secret"}, "every named room, in byte order")
		if r := rs[6]; !r.Private || r.Owner != "bob" || r.Topic != "plans" || r.LastSeq != 2 {
			t.Fatalf("listed private room = %+v", r)
		}
		if r := rs[4]; !r.Locked || !r.Archived {
			t.Fatalf("listed locked, archived room = %+v", r)
		}
		noErr(t, s.DeleteRoom(c, "ab"), "DeleteRoom")
		rs, err = s.ListRooms(c)
		noErr(t, err, "ListRooms after DeleteRoom")
		equal(t, len(rs), 6, "rooms after one was deleted")
	}},
}
