package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// moderationTests cover room lock and archive state, deleting rooms, bans
// and mutes, and the audit log.
var moderationTests = []namedTest{
	{"LockAndArchive", func(t *testing.T, s store.Store) {
		c := ctx(t)
		r, err := s.CreateRoom(c, store.Room{Name: "news", Owner: "ann"})
		noErr(t, err, "CreateRoom")
		equal(t, r.Locked || r.Archived, false, "a new room is neither locked nor archived")
		r.Locked, r.Topic = true, "read only"
		got, err := s.UpdateRoom(c, r)
		noErr(t, err, "UpdateRoom locked")
		equal(t, [2]bool{got.Locked, got.Archived}, [2]bool{true, false}, "locked, archived after locking")
		got.Archived = true
		_, err = s.UpdateRoom(c, got)
		noErr(t, err, "UpdateRoom archived")
		got, err = s.Room(c, "news")
		noErr(t, err, "Room")
		equal(t, [2]bool{got.Locked, got.Archived}, [2]bool{true, true}, "locked, archived as read back")
		rooms, err := s.Rooms(c, "bob")
		noErr(t, err, "Rooms")
		equal(t, len(rooms) == 1 && rooms[0].Locked && rooms[0].Archived, true, "Rooms carries the state")
		got.Locked, got.Archived = false, false
		got, err = s.UpdateRoom(c, got)
		noErr(t, err, "UpdateRoom unlocked")
		equal(t, [2]bool{got.Locked, got.Archived}, [2]bool{false, false}, "locked, archived after lifting both")
	}},
	{"DeleteRoom", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateRoom(c, store.Room{Name: "gone", Owner: "ann"})
		noErr(t, err, "CreateRoom")
		noErr(t, s.AddMember(c, "gone", "bob", store.RoleMember), "AddMember")
		for i := range 3 {
			_, _, err := s.Append(c, store.NewMessage{Room: "gone", Sender: "ann", Text: "m", ClientID: string(rune('a' + i))})
			noErr(t, err, "Append")
		}
		noErr(t, s.Sanction(c, store.Sanction{Room: "gone", UserID: "eve", Kind: store.SanctionBan, By: "ann"}), "Sanction")
		_, err = s.CreateRoom(c, store.Room{Name: "kept", Owner: "ann"})
		noErr(t, err, "CreateRoom kept")
		_, _, err = s.Append(c, store.NewMessage{Room: "kept", Sender: "ann", Text: "stays"})
		noErr(t, err, "Append kept")

		noErr(t, s.DeleteRoom(c, "gone"), "DeleteRoom")
		_, err = s.Room(c, "gone")
		wantErr(t, err, store.ErrNotFound, "Room after DeleteRoom")
		wantErr(t, s.DeleteRoom(c, "gone"), store.ErrNotFound, "DeleteRoom twice")
		_, err = s.Member(c, "gone", "bob")
		wantErr(t, err, store.ErrNotFound, "a member of a deleted room")
		n, err := s.OwnedRooms(c, "ann")
		noErr(t, err, "OwnedRooms")
		equal(t, n, 1, "rooms ann owns after one was deleted")

		// Made again, the room starts empty, its sequence from 1 and
		// without the old bans.
		_, err = s.CreateRoom(c, store.Room{Name: "gone", Owner: "carl"})
		noErr(t, err, "CreateRoom again")
		ev, _, err := s.Append(c, store.NewMessage{Room: "gone", Sender: "carl", Text: "new"})
		noErr(t, err, "Append to the new room")
		equal(t, ev.Seq, int64(1), "first seq of the room made again")
		hist, err := s.History(c, "gone", store.HistoryQuery{Limit: 10})
		noErr(t, err, "History")
		equal(t, len(hist), 1, "messages in the room made again")
		bans, err := s.Sanctions(c, "gone", "")
		noErr(t, err, "Sanctions")
		equal(t, len(bans), 0, "sanctions of the room made again")
		hist, err = s.History(c, "kept", store.HistoryQuery{Limit: 10})
		noErr(t, err, "History kept")
		equal(t, len(hist), 1, "messages of another room")
	}},
	{"OwnedRoomsCountsNamedRooms", func(t *testing.T, s store.Store) {
		c := ctx(t)
		for _, name := range []string{"a", "b"} {
			_, err := s.CreateRoom(c, store.Room{Name: name, Owner: "ann"})
			noErr(t, err, "CreateRoom")
		}
		_, err := s.CreateRoom(c, store.Room{Name: "c", Owner: "bob"})
		noErr(t, err, "CreateRoom")
		_, err = s.EnsureDirect(c, "ann", "bob")
		noErr(t, err, "EnsureDirect")
		n, err := s.OwnedRooms(c, "ann")
		noErr(t, err, "OwnedRooms")
		equal(t, n, 2, "rooms ann owns")
		n, err = s.OwnedRooms(c, "nobody")
		noErr(t, err, "OwnedRooms of nobody")
		equal(t, n, 0, "rooms nobody owns")
	}},
	{"BanEndsMembership", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateRoom(c, store.Room{Name: "r", Owner: "ann"})
		noErr(t, err, "CreateRoom")
		noErr(t, s.AddMember(c, "r", "bob", store.RoleMember), "AddMember bob")
		noErr(t, s.AddMember(c, "r", "carl", store.RoleMember), "AddMember carl")
		at := store.Timestamp(time.Now().Add(-time.Minute))
		ban := store.Sanction{Room: "r", UserID: "bob", Kind: store.SanctionBan, Reason: "spam", By: "ann", CreatedAt: at}
		noErr(t, s.Sanction(c, ban), "Sanction ban")
		mute := store.Sanction{Room: "r", UserID: "carl", Kind: store.SanctionMute, By: "ann", CreatedAt: at.Add(time.Second)}
		noErr(t, s.Sanction(c, mute), "Sanction mute")
		_, err = s.Member(c, "r", "bob")
		wantErr(t, err, store.ErrNotFound, "the membership of a banned user")
		_, err = s.Member(c, "r", "carl")
		noErr(t, err, "the membership of a muted user")

		all, err := s.Sanctions(c, "r", "")
		noErr(t, err, "Sanctions")
		equal(t, all, []store.Sanction{ban, mute}, "sanctions in force, oldest first")
		bob, err := s.Sanctions(c, "r", "bob")
		noErr(t, err, "Sanctions of bob")
		equal(t, bob, []store.Sanction{ban}, "bob's sanctions")

		// Banning again replaces the ban.
		ban.Reason, ban.ExpiresAt = "spam again", store.Timestamp(time.Now().Add(time.Hour))
		noErr(t, s.Sanction(c, ban), "Sanction again")
		bob, err = s.Sanctions(c, "r", "bob")
		noErr(t, err, "Sanctions of bob")
		equal(t, bob, []store.Sanction{ban}, "bob's sanction after banning again")

		noErr(t, s.Unsanction(c, "r", "bob", store.SanctionBan), "Unsanction")
		wantErr(t, s.Unsanction(c, "r", "bob", store.SanctionBan), store.ErrNotFound, "Unsanction twice")
		wantErr(t, s.Unsanction(c, "r", "carl", store.SanctionBan), store.ErrNotFound, "Unsanction of a kind not imposed")
		bob, err = s.Sanctions(c, "r", "bob")
		noErr(t, err, "Sanctions of bob")
		equal(t, len(bob), 0, "bob's sanctions after the ban is lifted")
		wantErr(t, s.Sanction(c, store.Sanction{Room: "nope", UserID: "bob", Kind: store.SanctionBan}), store.ErrNotFound,
			"Sanction in a missing room")
	}},
	{"ExpiredSanctions", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateRoom(c, store.Room{Name: "r", Owner: "ann"})
		noErr(t, err, "CreateRoom")
		past := store.Timestamp(time.Now().Add(-time.Second))
		noErr(t, s.Sanction(c, store.Sanction{Room: "r", UserID: "bob", Kind: store.SanctionMute, By: "ann",
			CreatedAt: past.Add(-time.Hour), ExpiresAt: past}), "Sanction")
		got, err := s.Sanctions(c, "r", "")
		noErr(t, err, "Sanctions")
		equal(t, len(got), 0, "sanctions in force after the only one expired")
		wantErr(t, s.Unsanction(c, "r", "bob", store.SanctionMute), store.ErrNotFound, "Unsanction of an expired mute")
	}},
	{"AuditNewestFirst", func(t *testing.T, s store.Store) {
		c := ctx(t)
		t0 := store.Timestamp(time.Now())
		var in []store.AuditEntry
		for i, a := range []string{"room.ban", "user.disable", "room.ban", "room.mute"} {
			e := store.AuditEntry{ID: store.NewID(), At: t0.Add(time.Duration(i) * time.Millisecond), Actor: "u_ann",
				ActorName: "ann", Action: a, Room: "r", Target: "u_bob", Detail: `{"reason":"spam"}`}
			if a == "user.disable" {
				e.Room, e.Actor = "", "key:k1"
			}
			noErr(t, s.AddAudit(c, e), "AddAudit")
			in = append(in, e)
		}
		all, err := s.Audit(c, store.AuditQuery{Limit: 10})
		noErr(t, err, "Audit")
		equal(t, all, []store.AuditEntry{in[3], in[2], in[1], in[0]}, "the log, newest first")
		page, err := s.Audit(c, store.AuditQuery{Before: in[2].ID, Limit: 1})
		noErr(t, err, "Audit page")
		equal(t, page, []store.AuditEntry{in[1]}, "one entry before the third")
		bans, err := s.Audit(c, store.AuditQuery{Action: "room.ban", Limit: 10})
		noErr(t, err, "Audit by action")
		equal(t, bans, []store.AuditEntry{in[2], in[0]}, "bans only")
		inRoom, err := s.Audit(c, store.AuditQuery{Room: "r", Actor: "u_ann", Limit: 10})
		noErr(t, err, "Audit by room and actor")
		equal(t, len(inRoom), 3, "entries in r by ann")
		wantErr(t, s.AddAudit(c, in[0]), store.ErrConflict, "AddAudit with a taken id")
	}},
}

// accountTests cover what users do to their own accounts.
var accountTests = []namedTest{
	{"SetPasswordHashKeepsOneSession", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann", PasswordHash: "old"})
		noErr(t, err, "CreateUser")
		live := store.Now().Add(time.Hour)
		for _, id := range []string{"s1", "s2", "s3"} {
			noErr(t, s.CreateSession(c, store.Session{ID: id, UserID: "u1", TokenHash: "h" + id, ExpiresAt: live}), "CreateSession")
		}
		n, err := s.SetPasswordHash(c, "u1", "new", "s2")
		noErr(t, err, "SetPasswordHash")
		equal(t, n, 2, "other live sessions signed out")
		_, err = s.SessionByID(c, "s2")
		noErr(t, err, "the kept session")
		_, err = s.SessionByID(c, "s1")
		wantErr(t, err, store.ErrNotFound, "another session")
	}},
	{"SetDisplayName", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann", DisplayName: "Ann"})
		noErr(t, err, "CreateUser")
		noErr(t, s.SetDisplayName(c, "u1", "Ann B."), "SetDisplayName")
		u, err := s.User(c, "u1")
		noErr(t, err, "User")
		equal(t, u.DisplayName, "Ann B.", "display name")
		noErr(t, s.SetDisplayName(c, "u1", "Ann B."), "SetDisplayName to the same name")
		wantErr(t, s.SetDisplayName(c, "ghost", "x"), store.ErrNotFound, "SetDisplayName of a missing account")
	}},
	{"DeleteUser", func(t *testing.T, s store.Store) {
		c := ctx(t)
		_, err := s.CreateUser(c, store.User{ID: "u1", Username: "ann", DisplayName: "Ann", PasswordHash: "h"})
		noErr(t, err, "CreateUser")
		_, err = s.CreateUser(c, store.User{ID: "u2", Username: "bob", DisplayName: "Bob", PasswordHash: "h"})
		noErr(t, err, "CreateUser bob")
		live := store.Now().Add(time.Hour)
		noErr(t, s.CreateSession(c, store.Session{ID: "s1", UserID: "u1", TokenHash: "h1", ExpiresAt: live}), "CreateSession")
		_, err = s.CreateRoom(c, store.Room{Name: "r", Owner: "u1"})
		noErr(t, err, "CreateRoom")
		noErr(t, s.AddMember(c, "r", "u2", store.RoleMember), "AddMember")
		ev, _, err := s.Append(c, store.NewMessage{Room: "r", Sender: "u1", SenderName: "Ann", Text: "hello"})
		noErr(t, err, "Append")
		noErr(t, s.Subscribe(c, "u1", "orders.>"), "Subscribe")
		noErr(t, s.CreateNotification(c, store.Notification{ID: store.NewID(), Title: "hi", CreatedAt: store.Now()},
			[]string{"u1", "u2"}), "CreateNotification")

		n, err := s.DeleteUser(c, "u1")
		noErr(t, err, "DeleteUser")
		equal(t, n, 1, "live sessions ended")
		_, err = s.User(c, "u1")
		wantErr(t, err, store.ErrNotFound, "User after DeleteUser")
		_, err = s.UserByName(c, "ann")
		wantErr(t, err, store.ErrNotFound, "UserByName after DeleteUser")
		_, err = s.SessionByID(c, "s1")
		wantErr(t, err, store.ErrNotFound, "a session of a deleted account")
		_, err = s.Member(c, "r", "u1")
		wantErr(t, err, store.ErrNotFound, "a membership of a deleted account")
		subs, err := s.Subscribers(c, []string{"orders.>"})
		noErr(t, err, "Subscribers")
		equal(t, len(subs), 0, "subscribers after the only one was deleted")
		unread, err := s.UnreadNotifications(c, "u1")
		noErr(t, err, "UnreadNotifications")
		equal(t, unread, 0, "notifications of a deleted account")
		unread, err = s.UnreadNotifications(c, "u2")
		noErr(t, err, "UnreadNotifications of bob")
		equal(t, unread, 1, "bob's copy of the notification")
		users, err := s.Users(c)
		noErr(t, err, "Users")
		equal(t, len(users), 1, "accounts listed after one was deleted")
		all, err := s.AllUsers(c)
		noErr(t, err, "AllUsers")
		equal(t, all, []string{"u2"}, "everyone, after one was deleted")

		// The messages stay; the name stays taken.
		m, err := s.Message(c, "r", ev.Message.ID)
		noErr(t, err, "Message")
		equal(t, m.Text, "hello", "a deleted account's message")
		_, err = s.CreateUser(c, store.User{ID: "u3", Username: "ANN"})
		wantErr(t, err, store.ErrConflict, "CreateUser with a deleted account's name")
		_, err = s.DeleteUser(c, "u1")
		wantErr(t, err, store.ErrNotFound, "DeleteUser twice")
		_, err = s.SetDisabled(c, "u1", false)
		wantErr(t, err, store.ErrNotFound, "SetDisabled of a deleted account")
		wantErr(t, s.SetAdmin(c, "u1", true), store.ErrNotFound, "SetAdmin of a deleted account")
		_, err = s.SetPasswordHash(c, "u1", "x", "")
		wantErr(t, err, store.ErrNotFound, "SetPasswordHash of a deleted account")
	}},
}
