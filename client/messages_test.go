package client_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/parley-chat/parley/client"
)

// TestEditDeleteReact changes a message every way there is: each change is
// acked with its own sequence and reaches both the other member and the
// author's own connection as an update with the message's new state.
func TestEditDeleteReact(t *testing.T) {
	ts := startServer(t, nil)
	alice := dial(t, ts, client.Options{Name: "alice"})
	bob := dial(t, ts, client.Options{Name: "bob"})
	join(t, alice, "lobby") // alice creates, and so owns, the room
	join(t, bob, "lobby")
	sent, err := alice.Send(ctx(t), "lobby", "lunch at noon?")
	if err != nil {
		t.Fatal(err)
	}
	next(t, bob, client.EventMessage)

	// update waits for the same update on both connections and returns it.
	update := func(wantSeq int64, kind string) *client.Update {
		t.Helper()
		var got *client.Update
		for _, c := range []*client.Client{alice, bob} {
			ev := next(t, c, client.EventUpdate)
			u := ev.Update
			if u.Seq != wantSeq || u.Kind != kind || u.Message.ID != sent.MessageID || ev.Room != "lobby" {
				t.Fatalf("update = %+v, want %s seq %d of %s", u, kind, wantSeq, sent.MessageID)
			}
			got = u
		}
		return got
	}

	ack, err := alice.Edit(ctx(t), "lobby", sent.MessageID, "lunch at 12:30?")
	if err != nil || ack.Seq != 2 || ack.MessageID != sent.MessageID {
		t.Fatalf("edit = %+v, %v; want seq 2 for %s", ack, err, sent.MessageID)
	}
	if u := update(2, "edit"); u.Message.Text != "lunch at 12:30?" || u.Message.EditedAt == "" || u.Actor != alice.Session().User.ID {
		t.Fatalf("edit update = %+v", u)
	}

	if ack, err = bob.React(ctx(t), "lobby", sent.MessageID, "👍"); err != nil || ack.Seq != 3 {
		t.Fatalf("react = %+v, %v; want seq 3", ack, err)
	}
	u := update(3, "reaction")
	if want := []client.Reaction{{Emoji: "👍", Users: []string{bob.Session().User.ID}}}; u.Emoji != "👍" || u.Removed ||
		len(u.Message.Reactions) != 1 || u.Message.Reactions[0].Emoji != want[0].Emoji || !slices.Equal(u.Message.Reactions[0].Users, want[0].Users) {
		t.Fatalf("reaction update = %+v, want %+v", u, want)
	}
	// The same reaction again changes nothing: seq 0 and no update.
	if ack, err = bob.React(ctx(t), "lobby", sent.MessageID, "👍"); err != nil || ack.Seq != 0 {
		t.Fatalf("react again = %+v, %v; want seq 0", ack, err)
	}
	if ack, err = bob.Unreact(ctx(t), "lobby", sent.MessageID, "👍"); err != nil || ack.Seq != 4 {
		t.Fatalf("unreact = %+v, %v; want seq 4", ack, err)
	}
	if u := update(4, "reaction"); !u.Removed || len(u.Message.Reactions) != 0 {
		t.Fatalf("unreact update = %+v", u)
	}

	// Bob may neither edit nor delete alice's message.
	if _, err := bob.Edit(ctx(t), "lobby", sent.MessageID, "mine now"); !errors.Is(err, &client.ServerError{Code: client.CodeForbidden}) {
		t.Fatalf("bob's edit: %v, want forbidden", err)
	}
	if _, err := bob.Delete(ctx(t), "lobby", sent.MessageID); client.ErrorCode(err) != client.CodeForbidden {
		t.Fatalf("bob's delete: %v, want forbidden", err)
	}

	if ack, err = alice.Delete(ctx(t), "lobby", sent.MessageID); err != nil || ack.Seq != 5 {
		t.Fatalf("delete = %+v, %v; want seq 5", ack, err)
	}
	if u := update(5, "delete"); !u.Message.Deleted || u.Message.Text != "" {
		t.Fatalf("delete update = %+v", u)
	}
	if _, err := alice.Delete(ctx(t), "lobby", sent.MessageID); client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("second delete: %v, want not_found", err)
	}
	// Every sequence was delivered once: nothing is taken for a gap.
	noEvent(t, alice, client.EventUpdate, client.EventError)
	noEvent(t, bob, client.EventUpdate, client.EventError)
}

// TestHistoryPages pages a room both ways, with and without a limit.
func TestHistoryPages(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts, client.Options{Name: "carol"})
	join(t, c, "archive")
	for i := 1; i <= 25; i++ {
		if _, err := c.Send(ctx(t), "archive", fmt.Sprintf("m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A reader who never joined can read a public room.
	reader := dial(t, ts, client.Options{Name: "reader"})

	seqs := func(opts client.HistoryOptions) [][]int64 {
		t.Helper()
		var pages [][]int64
		for page, err := range reader.HistoryPages(ctx(t), "Archive", opts) {
			if err != nil {
				t.Fatalf("history %+v: %v", opts, err)
			}
			var p []int64
			for _, m := range page {
				if m.Text != fmt.Sprintf("m%d", m.Seq) || m.Room != "archive" {
					t.Fatalf("message %+v", m)
				}
				p = append(p, m.Seq)
			}
			pages = append(pages, p)
		}
		return pages
	}
	desc := func(from, to int64) []int64 {
		var s []int64
		for i := from; i >= to; i-- {
			s = append(s, i)
		}
		return s
	}
	asc := func(from, to int64) []int64 {
		var s []int64
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	}
	check := func(name string, got, want [][]int64) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: pages %v, want %v", name, got, want)
		}
	}
	check("backwards", seqs(client.HistoryOptions{Limit: 10}),
		[][]int64{desc(25, 16), desc(15, 6), desc(5, 1)})
	check("backwards before 12", seqs(client.HistoryOptions{Before: 12, Limit: 5}),
		[][]int64{desc(11, 7), desc(6, 2), desc(1, 1)})
	check("forwards", seqs(client.HistoryOptions{Forward: true, Limit: 10}),
		[][]int64{asc(1, 10), asc(11, 20), asc(21, 25)})
	check("forwards after 20, server's page size", seqs(client.HistoryOptions{Forward: true, After: 20}),
		[][]int64{asc(21, 25)})
	// Exactly a page's worth: one more request finds the end.
	check("backwards in pages of 25", seqs(client.HistoryOptions{Limit: 25}), [][]int64{desc(25, 1)})

	page, err := reader.History(ctx(t), "archive", client.HistoryOptions{Limit: 1})
	if err != nil || len(page) != 1 || page[0].Seq != 25 {
		t.Fatalf("newest page = %+v, %v", page, err)
	}
	if _, err := reader.History(ctx(t), "nowhere", client.HistoryOptions{}); client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("history of an unknown room: %v, want not_found", err)
	}
	// An error ends the pages, after one yield with it.
	n := 0
	for page, err := range reader.HistoryPages(ctx(t), "nowhere", client.HistoryOptions{}) {
		n++
		if page != nil || client.ErrorCode(err) != client.CodeNotFound {
			t.Fatalf("pages of an unknown room: %v, %v", page, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d iterations over an unknown room, want 1", n)
	}
}

// TestMembersFollowPresence keeps a room's member list from the joined
// reply and presence events.
func TestMembersFollowPresence(t *testing.T) {
	ts := startServer(t, nil)
	alice := dial(t, ts, client.Options{Name: "alice"})
	bob := dial(t, ts, client.Options{Name: "bob"})
	aliceID, bobID := alice.Session().User.ID, bob.Session().User.ID
	ids := func(us []client.User) []string {
		var s []string
		for _, u := range us {
			s = append(s, u.ID)
		}
		return s
	}
	join(t, alice, "lobby")
	if got := ids(alice.Members("lobby")); !slices.Equal(got, []string{aliceID}) {
		t.Fatalf("members after joining alone = %v", got)
	}
	join(t, bob, "lobby")
	if ev := next(t, alice, client.EventPresence); ev.Presence.Event != "join" {
		t.Fatalf("presence %+v", ev.Presence)
	}
	want := []string{aliceID, bobID}
	slices.Sort(want)
	if got := ids(alice.Members("lobby")); !slices.Equal(got, want) {
		t.Fatalf("alice's members = %v, want %v", got, want)
	}
	if got := ids(bob.Members("lobby")); !slices.Equal(got, want) {
		t.Fatalf("bob's members from his joined reply = %v, want %v", got, want)
	}
	if err := bob.Leave(ctx(t), "lobby"); err != nil {
		t.Fatal(err)
	}
	next(t, alice, client.EventPresence)
	if got := ids(alice.Members("lobby")); !slices.Equal(got, []string{aliceID}) {
		t.Fatalf("members after bob left = %v", got)
	}
	if got := bob.Members("lobby"); got != nil {
		t.Fatalf("bob's members of a room he left = %v, want nil", got)
	}
}

// TestIgnorePresence: a client that ignores presence hears nothing of
// joins and leaves, but still gets the messages that follow them.
func TestIgnorePresence(t *testing.T) {
	ts := startServer(t, nil)
	alice := dial(t, ts, client.Options{Name: "alice", IgnorePresence: true})
	bob := dial(t, ts, client.Options{Name: "bob"})
	join(t, alice, "lobby")
	join(t, bob, "lobby")
	if _, err := bob.Send(ctx(t), "lobby", "hello"); err != nil {
		t.Fatal(err)
	}
	// Bob's join came before his message: the first event alice gets must
	// be the message.
	if ev := next(t, alice, client.EventPresence, client.EventMessage); ev.Type != client.EventMessage {
		t.Fatalf("alice got %s first, want the message: presence should be dropped", ev.Type)
	}
	if n := len(alice.Members("lobby")); n != 1 {
		t.Fatalf("alice's members = %d, want only her joined reply's 1", n)
	}
}
