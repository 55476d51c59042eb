package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var changeTests = []namedTest{
	{"EditBySender", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		m := send(t, s, "r", "ann", "v1").Message
		before := time.Now()
		ev, err := s.Edit(c, "r", m.ID, "ann", "v2")
		after := time.Now()
		noErr(t, err, "Edit")
		if ev.Kind != store.EventEdit || ev.Seq != 2 || ev.Actor != "ann" || ev.Room != "r" {
			t.Fatalf("edit event = %+v", ev)
		}
		storeTime(t, ev.Message.EditedAt, before, after, "EditedAt")
		want := m
		want.Text, want.EditedAt = "v2", ev.Message.EditedAt
		equal(t, ev.Message, want, "message after edit")
		got, err := s.Message(c, "r", m.ID)
		noErr(t, err, "Message")
		equal(t, got, want, "message read back")
	}},
	{"EditForbiddenAndNotFound", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		mkRoom(t, s, "other", "")
		c := ctx(t)
		m := send(t, s, "r", "ann", "v1").Message
		_, err := s.Edit(c, "r", m.ID, "bob", "mine now")
		wantErr(t, err, store.ErrForbidden, "Edit by someone else")
		_, err = s.Edit(c, "r", "no-such-id", "ann", "x")
		wantErr(t, err, store.ErrNotFound, "Edit of missing message")
		_, err = s.Edit(c, "other", m.ID, "ann", "x")
		wantErr(t, err, store.ErrNotFound, "Edit in the wrong room")
		_, err = s.Edit(c, "nowhere", m.ID, "ann", "x")
		wantErr(t, err, store.ErrNotFound, "Edit in a missing room")
		_, err = s.Delete(c, "r", m.ID, "ann", false)
		noErr(t, err, "Delete")
		_, err = s.Edit(c, "r", m.ID, "ann", "undead")
		wantErr(t, err, store.ErrNotFound, "Edit of a deleted message")
		got, err := s.Message(c, "r", m.ID)
		noErr(t, err, "Message")
		if got.Text != "" || !got.Deleted || !got.EditedAt.IsZero() {
			t.Fatalf("message after failed edits = %+v", got)
		}
	}},
	{"DeleteBySenderAndModerator", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		own := send(t, s, "r", "ann", "mine").Message
		theirs := send(t, s, "r", "bob", "bob's").Message
		_, err := s.Delete(c, "r", theirs.ID, "ann", false)
		wantErr(t, err, store.ErrForbidden, "Delete of another's message")
		ev, err := s.Delete(c, "r", own.ID, "ann", false)
		noErr(t, err, "Delete own")
		if ev.Kind != store.EventDelete || ev.Seq != 3 || ev.Actor != "ann" || !ev.Message.Deleted || ev.Message.Text != "" {
			t.Fatalf("delete event = %+v", ev)
		}
		ev, err = s.Delete(c, "r", theirs.ID, "mod", true)
		noErr(t, err, "Delete by moderator")
		if ev.Actor != "mod" || ev.Message.Sender != "bob" || !ev.Message.Deleted {
			t.Fatalf("moderator delete event = %+v", ev)
		}
		got, err := s.Message(c, "r", theirs.ID)
		noErr(t, err, "Message")
		if !got.Deleted || got.Text != "" {
			t.Fatalf("deleted message = %+v", got)
		}
		_, err = s.Delete(c, "r", own.ID, "ann", false)
		wantErr(t, err, store.ErrNotFound, "Delete of a deleted message")
		_, err = s.Delete(c, "r", "no-such-id", "ann", true)
		wantErr(t, err, store.ErrNotFound, "Delete of a missing message")
	}},
	{"Reactions", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		m := send(t, s, "r", "ann", "hi").Message
		react := func(user, emoji string, add bool) store.Event {
			t.Helper()
			ev, err := s.React(c, "r", m.ID, user, emoji, add)
			noErr(t, err, "React")
			if ev.Kind != store.EventReaction || ev.Actor != user || ev.Emoji != emoji || ev.Added != add || ev.Room != "r" {
				t.Fatalf("reaction event = %+v", ev)
			}
			return ev
		}
		wantState := func(ev store.Event, want []store.Reaction) {
			t.Helper()
			if !equalReactions(ev.Message.Reactions, want) {
				t.Fatalf("reactions in event = %+v, want %+v", ev.Message.Reactions, want)
			}
			got, err := s.Message(c, "r", m.ID)
			noErr(t, err, "Message")
			if !equalReactions(got.Reactions, want) {
				t.Fatalf("reactions read back = %+v, want %+v", got.Reactions, want)
			}
		}
		ev := react("bob", "👍", true)
		equal(t, ev.Seq, int64(2), "seq of first reaction")
		react("cat", "❤", true)
		ev = react("ann", "👍", true)
		equal(t, ev.Seq, int64(4), "seq of third reaction")
		wantState(ev, []store.Reaction{{Emoji: "👍", Users: []string{"bob", "ann"}}, {Emoji: "❤", Users: []string{"cat"}}})

		// Nothing changes: nothing is logged and Seq is 0.
		ev = react("bob", "👍", true)
		equal(t, ev.Seq, int64(0), "seq of a repeated add")
		wantState(ev, []store.Reaction{{Emoji: "👍", Users: []string{"bob", "ann"}}, {Emoji: "❤", Users: []string{"cat"}}})
		ev = react("dan", "❤", false)
		equal(t, ev.Seq, int64(0), "seq of removing an absent reaction")
		r, err := s.Room(c, "r")
		noErr(t, err, "Room")
		equal(t, r.LastSeq, int64(4), "LastSeq after no-op reactions")

		// Remove and re-add: the user moves to the end. Emojis are ordered
		// by their oldest standing reaction, so with bob's 👍 gone, cat's
		// ❤ is older than ann's 👍.
		ev = react("bob", "👍", false)
		equal(t, ev.Seq, int64(5), "seq of removal")
		wantState(ev, []store.Reaction{{Emoji: "❤", Users: []string{"cat"}}, {Emoji: "👍", Users: []string{"ann"}}})
		ev = react("bob", "👍", true)
		wantState(ev, []store.Reaction{{Emoji: "❤", Users: []string{"cat"}}, {Emoji: "👍", Users: []string{"ann", "bob"}}})
		// The last user of an emoji leaves: the emoji goes.
		ev = react("cat", "❤", false)
		wantState(ev, []store.Reaction{{Emoji: "👍", Users: []string{"ann", "bob"}}})
		equal(t, seqs(allEvents(t, s, "r")), span(1, 7), "log")

		ms, err := s.History(c, "r", store.HistoryQuery{Limit: 10})
		noErr(t, err, "History")
		if !equalReactions(ms[0].Reactions, []store.Reaction{{Emoji: "👍", Users: []string{"ann", "bob"}}}) {
			t.Fatalf("reactions in history = %+v", ms[0].Reactions)
		}
	}},
	{"ReactNotFound", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		_, err := s.React(c, "r", "no-such-id", "bob", "👍", true)
		wantErr(t, err, store.ErrNotFound, "React to missing message")
		m := send(t, s, "r", "ann", "x").Message
		_, err = s.React(c, "nowhere", m.ID, "bob", "👍", true)
		wantErr(t, err, store.ErrNotFound, "React in missing room")
		_, err = s.Delete(c, "r", m.ID, "ann", false)
		noErr(t, err, "Delete")
		_, err = s.React(c, "r", m.ID, "bob", "👍", true)
		wantErr(t, err, store.ErrNotFound, "React to deleted message")
	}},
}
