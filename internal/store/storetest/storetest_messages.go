package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

var appendTests = []namedTest{
	{"AssignsSeqAndFields", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "general", "ann")
		before := time.Now()
		ev, dup, err := s.Append(ctx(t), store.NewMessage{
			Room: "general", Sender: "ann", SenderName: "Ann", Guest: true, ClientID: "c1", Text: "hello",
		})
		after := time.Now()
		noErr(t, err, "Append")
		if dup {
			t.Fatal("first Append reported dup")
		}
		m := ev.Message
		if ev.Room != "general" || ev.Seq != 1 || ev.Kind != store.EventMessage || ev.Actor != "ann" || ev.Emoji != "" {
			t.Fatalf("event = %+v", ev)
		}
		if len(m.ID) != store.IDLen || m.Room != "general" || m.Seq != 1 || m.Sender != "ann" ||
			m.SenderName != "Ann" || !m.Guest || m.ClientID != "c1" || m.Text != "hello" ||
			!m.EditedAt.IsZero() || m.Deleted || m.Reactions != nil {
			t.Fatalf("message = %+v", m)
		}
		storeTime(t, m.CreatedAt, before, after, "CreatedAt")
		equal(t, ev.At, m.CreatedAt, "event At")
		got, err := s.Message(ctx(t), "general", m.ID)
		noErr(t, err, "Message")
		equal(t, got, m, "Message read back")
		r, err := s.Room(ctx(t), "general")
		noErr(t, err, "Room")
		equal(t, r.LastSeq, int64(1), "LastSeq")
		evs, err := s.Events(ctx(t), "general", 0, 10)
		noErr(t, err, "Events")
		equal(t, evs, []store.Event{ev}, "Events")
	}},
	{"MissingRoom", func(t *testing.T, s store.Store) {
		_, _, err := s.Append(ctx(t), store.NewMessage{Room: "nowhere", Sender: "ann", Text: "x"})
		wantErr(t, err, store.ErrNotFound, "Append to missing room")
	}},
	{"IDsUniqueAndSortByCreation", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "a", "")
		mkRoom(t, s, "b", "")
		var prev string
		for i := range 20 {
			room := []string{"a", "b"}[i%2]
			id := send(t, s, room, "ann", "x").Message.ID
			if id <= prev {
				t.Fatalf("id %q does not sort after earlier id %q", id, prev)
			}
			prev = id
		}
	}},
	{"SeqGapFreeAcrossEventKinds", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "ann")
		c := ctx(t)
		m1 := send(t, s, "r", "ann", "one").Message
		_, err := s.Edit(c, "r", m1.ID, "ann", "one!")
		noErr(t, err, "Edit")
		// Failed changes must not use up a sequence number.
		_, err = s.Edit(c, "r", m1.ID, "bob", "hijack")
		wantErr(t, err, store.ErrForbidden, "Edit by other")
		_, err = s.Edit(c, "r", "missing", "ann", "x")
		wantErr(t, err, store.ErrNotFound, "Edit missing")
		_, err = s.React(c, "r", m1.ID, "bob", "👍", true)
		noErr(t, err, "React add")
		_, err = s.React(c, "r", m1.ID, "bob", "👍", true) // no change, no event
		noErr(t, err, "React add again")
		_, err = s.React(c, "r", m1.ID, "bob", "👍", false)
		noErr(t, err, "React remove")
		m2 := send(t, s, "r", "bob", "two").Message
		_, err = s.Delete(c, "r", m2.ID, "ann", false)
		wantErr(t, err, store.ErrForbidden, "Delete by other")
		_, err = s.Delete(c, "r", m2.ID, "bob", false)
		noErr(t, err, "Delete")
		ev := send(t, s, "r", "ann", "three")
		equal(t, ev.Seq, int64(7), "seq of the last append")
		evs := allEvents(t, s, "r")
		equal(t, seqs(evs), span(1, 7), "log seqs")
		var kinds []store.EventKind
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		equal(t, kinds, []store.EventKind{store.EventMessage, store.EventEdit, store.EventReaction,
			store.EventReaction, store.EventMessage, store.EventDelete, store.EventMessage}, "log kinds")
		r, err := s.Room(c, "r")
		noErr(t, err, "Room")
		equal(t, r.LastSeq, int64(7), "LastSeq")
	}},
	{"SeqPerRoom", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "a", "")
		mkRoom(t, s, "b", "")
		send(t, s, "a", "u", "1")
		send(t, s, "a", "u", "2")
		equal(t, send(t, s, "b", "u", "1").Seq, int64(1), "first seq in b")
		equal(t, send(t, s, "a", "u", "3").Seq, int64(3), "third seq in a")
	}},
	{"ClientIDDedupe", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "a", "")
		mkRoom(t, s, "b", "")
		c := ctx(t)
		nm := store.NewMessage{Room: "a", Sender: "ann", ClientID: "k1", Text: "once"}
		first, dup, err := s.Append(c, nm)
		noErr(t, err, "Append")
		if dup {
			t.Fatal("first Append reported dup")
		}
		send(t, s, "a", "ann", "in between")
		again, dup, err := s.Append(c, store.NewMessage{Room: "a", Sender: "ann", ClientID: "k1", Text: "retry text ignored"})
		noErr(t, err, "Append retry")
		if !dup {
			t.Fatal("retried Append not reported as dup")
		}
		equal(t, again, first, "retried Append returns the original event")
		// The same client id from someone else, or in another room, is a
		// different message.
		other, dup, err := s.Append(c, store.NewMessage{Room: "a", Sender: "bob", ClientID: "k1", Text: "bob"})
		noErr(t, err, "Append other sender")
		if dup || other.Seq != 3 {
			t.Fatalf("other sender: dup=%v seq=%d, want new message 3", dup, other.Seq)
		}
		elsewhere, dup, err := s.Append(c, store.NewMessage{Room: "b", Sender: "ann", ClientID: "k1", Text: "b"})
		noErr(t, err, "Append other room")
		if dup || elsewhere.Seq != 1 {
			t.Fatalf("other room: dup=%v seq=%d, want new message 1", dup, elsewhere.Seq)
		}
		// No client id: never deduplicated.
		send(t, s, "a", "ann", "same")
		send(t, s, "a", "ann", "same")
		equal(t, seqs(allEvents(t, s, "a")), span(1, 5), "log of a")
		// Still deduplicated after the message is edited.
		_, err = s.Edit(c, "a", first.Message.ID, "ann", "edited")
		noErr(t, err, "Edit")
		again, dup, err = s.Append(c, nm)
		noErr(t, err, "Append retry after edit")
		if !dup || again.Message.ID != first.Message.ID || again.Seq != first.Seq {
			t.Fatalf("retry after edit: dup=%v ev=%+v", dup, again)
		}
	}},
	{"ConcurrentAppendsGapFree", func(t *testing.T, s store.Store) {
		rooms := []string{"r0", "r1", "r2"}
		for _, r := range rooms {
			mkRoom(t, s, r, "")
		}
		const workers, each = 12, 25
		c := ctx(t)
		var mu sync.Mutex
		got := map[string][]int64{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					room := rooms[(w+i)%len(rooms)]
					ev, _, err := s.Append(c, store.NewMessage{Room: room, Sender: fmt.Sprint("u", w), Text: fmt.Sprint(i)})
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					mu.Lock()
					got[room] = append(got[room], ev.Seq)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		total := 0
		for _, room := range rooms {
			n := int64(len(got[room]))
			total += len(got[room])
			seen := map[int64]bool{}
			for _, q := range got[room] {
				if q < 1 || q > n || seen[q] {
					t.Fatalf("room %s: seq %d duplicated or outside 1..%d", room, q, n)
				}
				seen[q] = true
			}
			equal(t, seqs(allEvents(t, s, room)), span(1, n), "log of "+room)
			r, err := s.Room(c, room)
			noErr(t, err, "Room")
			equal(t, r.LastSeq, n, "LastSeq of "+room)
		}
		equal(t, total, workers*each, "appends")
	}},
	{"ConcurrentRetriesStoredOnce", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		const workers = 10
		var mu sync.Mutex
		fresh, ids := 0, map[string]bool{}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				ev, dup, err := s.Append(c, store.NewMessage{Room: "r", Sender: "ann", ClientID: "same", Text: "x"})
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[ev.Message.ID] = true
				if !dup {
					fresh++
				}
			})
		}
		wg.Wait()
		if fresh != 1 || len(ids) != 1 {
			t.Fatalf("%d appends reported new and %d distinct ids, want 1 and 1", fresh, len(ids))
		}
		equal(t, seqs(allEvents(t, s, "r")), []int64{1}, "log")
	}},
}

var logTests = []namedTest{
	{"EventsPaging", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		for i := range 10 {
			send(t, s, "r", "u", fmt.Sprint(i+1))
		}
		for _, tc := range []struct {
			after int64
			limit int
			want  []int64
		}{
			{0, 4, span(1, 4)},
			{4, 4, span(5, 8)},
			{8, 4, span(9, 10)},
			{10, 4, nil},
			{3, 1000, span(4, 10)},
			{-1, 2, span(1, 2)},
		} {
			evs, err := s.Events(c, "r", tc.after, tc.limit)
			noErr(t, err, "Events")
			if len(evs) == 0 && tc.want == nil {
				continue
			}
			equal(t, seqs(evs), tc.want, fmt.Sprintf("Events(after %d, limit %d)", tc.after, tc.limit))
		}
		evs, err := s.Events(c, "r", 0, 1)
		noErr(t, err, "Events")
		if evs[0].Message.Text != "1" || evs[0].Room != "r" {
			t.Fatalf("first event = %+v", evs[0])
		}
	}},
	{"EventsCarryStateAfterEachEvent", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		m := send(t, s, "r", "ann", "v1").Message
		_, err := s.Edit(c, "r", m.ID, "ann", "v2")
		noErr(t, err, "Edit")
		_, err = s.React(c, "r", m.ID, "bob", "👍", true)
		noErr(t, err, "React")
		_, err = s.Delete(c, "r", m.ID, "ann", false)
		noErr(t, err, "Delete")
		evs := allEvents(t, s, "r")
		if len(evs) != 4 {
			t.Fatalf("%d events, want 4", len(evs))
		}
		equal(t, evs[0].Message, m, "state after the message event")
		if evs[1].Message.Text != "v2" || evs[1].Message.EditedAt.IsZero() || evs[1].Actor != "ann" {
			t.Fatalf("edit event = %+v", evs[1])
		}
		if ev := evs[2]; ev.Emoji != "👍" || !ev.Added || ev.Actor != "bob" ||
			!equalReactions(ev.Message.Reactions, []store.Reaction{{Emoji: "👍", Users: []string{"bob"}}}) {
			t.Fatalf("reaction event = %+v", ev)
		}
		if ev := evs[3]; !ev.Message.Deleted || ev.Message.Text != "" || ev.Kind != store.EventDelete {
			t.Fatalf("delete event = %+v", ev)
		}
		for _, ev := range evs {
			if ev.Message.ID != m.ID || ev.Message.Seq != m.Seq {
				t.Fatalf("event %d names message %s seq %d, want %s seq %d", ev.Seq, ev.Message.ID, ev.Message.Seq, m.ID, m.Seq)
			}
		}
	}},
	{"EventsPagingAcrossKinds", func(t *testing.T, s store.Store) {
		// Messages that later change and messages that never do, with the
		// changes between them, paged through with every small limit: each
		// page is in order, the pages join without gap or repeat, and every
		// creation event shows the message as it was sent.
		mkRoom(t, s, "r", "")
		c := ctx(t)
		var sent []store.Event
		for i := range 12 {
			ev := send(t, s, "r", "ann", fmt.Sprint("m", i))
			sent = append(sent, ev)
			m := ev.Message
			var err error
			switch i % 4 {
			case 1:
				_, err = s.Edit(c, "r", m.ID, "ann", fmt.Sprint("m", i, " edited"))
			case 2:
				_, err = s.React(c, "r", m.ID, "bob", "👍", true)
			case 3:
				if i > 4 {
					_, err = s.Delete(c, "r", sent[i-4].Message.ID, "ann", false) // an older, unchanged message
				}
			}
			noErr(t, err, fmt.Sprint("change after message ", i))
		}
		full, err := s.Events(c, "r", 0, 1000)
		noErr(t, err, "Events")
		equal(t, seqs(full), span(1, int64(len(full))), "log seqs")
		created := map[string]store.Event{}
		for _, ev := range full {
			if ev.Kind == store.EventMessage {
				created[ev.Message.ID] = ev
			}
		}
		for _, want := range sent {
			equal(t, created[want.Message.ID], want, "creation event of "+want.Message.Text)
		}
		for limit := 1; limit <= 5; limit++ {
			var paged []store.Event
			for after := int64(0); ; {
				evs, err := s.Events(c, "r", after, limit)
				noErr(t, err, "Events")
				if len(evs) == 0 {
					break
				}
				if len(evs) > limit {
					t.Fatalf("Events(after %d, limit %d) returned %d", after, limit, len(evs))
				}
				paged = append(paged, evs...)
				after = evs[len(evs)-1].Seq
			}
			equal(t, paged, full, fmt.Sprint("log paged by ", limit))
		}
	}},
	{"EventsMissingRoom", func(t *testing.T, s store.Store) {
		_, err := s.Events(ctx(t), "nowhere", 0, 10)
		wantErr(t, err, store.ErrNotFound, "Events of missing room")
		mkRoom(t, s, "empty", "")
		evs, err := s.Events(ctx(t), "empty", 0, 10)
		noErr(t, err, "Events of empty room")
		equal(t, len(evs), 0, "events in empty room")
	}},
	{"HistoryModes", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		var ids []string
		for i := range 10 {
			ids = append(ids, send(t, s, "r", "u", fmt.Sprint(i+1)).Message.ID)
			// Non-message events between messages must not show up as
			// history entries.
			_, err := s.React(c, "r", ids[i], "v", "👍", true)
			noErr(t, err, "React")
		}
		// Messages took odd sequence numbers 1, 3, …, 19.
		odd := func(from, to int64) []int64 {
			var out []int64
			for _, n := range span(from, to) {
				out = append(out, 2*n-1)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			q    store.HistoryQuery
			want []int64
		}{
			{"newest", store.HistoryQuery{Limit: 3}, odd(10, 8)},
			{"newest all", store.HistoryQuery{Limit: 50}, odd(10, 1)},
			{"before", store.HistoryQuery{Before: 9, Limit: 10}, odd(4, 1)},
			{"before limited", store.HistoryQuery{Before: 19, Limit: 2}, odd(9, 8)},
			{"before first", store.HistoryQuery{Before: 1, Limit: 10}, nil},
			{"forward from start", store.HistoryQuery{Forward: true, After: 0, Limit: 2}, odd(1, 2)},
			{"forward after", store.HistoryQuery{Forward: true, After: 14, Limit: 10}, odd(8, 10)},
			{"forward past end", store.HistoryQuery{Forward: true, After: 19, Limit: 10}, nil},
			{"before wins over forward", store.HistoryQuery{Before: 5, After: 1, Forward: true, Limit: 10}, odd(2, 1)},
			{"limit 0 clamps to 1", store.HistoryQuery{Limit: 0}, odd(10, 10)},
			{"negative limit clamps to 1", store.HistoryQuery{Forward: true, Limit: -3}, odd(1, 1)},
			{"huge limit clamps to 1000", store.HistoryQuery{Limit: 1 << 30}, odd(10, 1)},
		} {
			ms, err := s.History(c, "r", tc.q)
			noErr(t, err, tc.name)
			if len(ms) == 0 && tc.want == nil {
				continue
			}
			equal(t, msgSeqs(ms), tc.want, tc.name)
		}
		ms, err := s.History(c, "r", store.HistoryQuery{Limit: 1})
		noErr(t, err, "History")
		got, err := s.Message(c, "r", ids[9])
		noErr(t, err, "Message")
		equal(t, ms[0], got, "History entry is the message's current state")
		if !equalReactions(got.Reactions, []store.Reaction{{Emoji: "👍", Users: []string{"v"}}}) {
			t.Fatalf("reactions = %+v", got.Reactions)
		}
	}},
	{"HistoryLimitCap", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		c := ctx(t)
		const n = store.MaxLimit + 5
		// Many writers, so backends that batch commits can do so.
		const workers = 50
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					if _, _, err := s.Append(c, store.NewMessage{Room: "r", Sender: "u", Text: "x"}); err != nil {
						t.Errorf("Append: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		ms, err := s.History(c, "r", store.HistoryQuery{Limit: 5000})
		noErr(t, err, "History")
		equal(t, len(ms), store.MaxLimit, "messages returned for Limit 5000")
		equal(t, ms[0].Seq, int64(n), "newest first")
		evs, err := s.Events(c, "r", 0, 5000)
		noErr(t, err, "Events")
		equal(t, len(evs), store.MaxLimit, "events returned for limit 5000")
	}},
	{"HistoryIncludesDeleted", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "r", "")
		m := send(t, s, "r", "ann", "secret").Message
		send(t, s, "r", "ann", "kept")
		_, err := s.Delete(ctx(t), "r", m.ID, "ann", false)
		noErr(t, err, "Delete")
		ms, err := s.History(ctx(t), "r", store.HistoryQuery{Forward: true, Limit: 10})
		noErr(t, err, "History")
		if len(ms) != 2 || ms[0].ID != m.ID || !ms[0].Deleted || ms[0].Text != "" || ms[1].Text != "kept" {
			t.Fatalf("history = %+v", ms)
		}
	}},
	{"HistoryMissingRoom", func(t *testing.T, s store.Store) {
		_, err := s.History(ctx(t), "nowhere", store.HistoryQuery{Limit: 10})
		wantErr(t, err, store.ErrNotFound, "History of missing room")
		mkRoom(t, s, "empty", "")
		ms, err := s.History(ctx(t), "empty", store.HistoryQuery{Limit: 10})
		noErr(t, err, "History of empty room")
		equal(t, len(ms), 0, "messages in empty room")
	}},
	{"MessageNotFound", func(t *testing.T, s store.Store) {
		mkRoom(t, s, "a", "")
		mkRoom(t, s, "b", "")
		m := send(t, s, "a", "ann", "x").Message
		_, err := s.Message(ctx(t), "a", "no-such-id")
		wantErr(t, err, store.ErrNotFound, "Message with unknown id")
		_, err = s.Message(ctx(t), "b", m.ID)
		wantErr(t, err, store.ErrNotFound, "Message looked up in the wrong room")
	}},
}

// equalReactions compares reaction lists, emoji and user order included.
func equalReactions(got, want []store.Reaction) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Emoji != want[i].Emoji || fmt.Sprint(got[i].Users) != fmt.Sprint(want[i].Users) {
			return false
		}
	}
	return true
}
