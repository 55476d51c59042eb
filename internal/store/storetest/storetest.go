package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Run runs the conformance suite against the backend that open returns.
// open must return a new, empty, migrated store for each call and register
// its Close with t.Cleanup; Close must tolerate being called again after the
// suite's own Close test has closed the store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []namedTest
	}{
		{"Append", appendTests},
		{"AppendAsync", asyncTests},
		{"Observe", observeTests},
		{"Log", logTests},
		{"Change", changeTests},
		{"Rooms", roomTests},
		{"Members", memberTests},
		{"Users", userTests},
		{"Lookalikes", lookalikeTests},
		{"ExternalUsers", externalUserTests},
		{"APIKeys", apiKeyTests},
		{"Notifications", notifyTests},
		{"Webhooks", webhookTests},
		{"Admin", adminTests},
		{"Moderation", moderationTests},
		{"Accounts", accountTests},
		{"Presence", presenceTests},
		{"Sessions", sessionTests},
		{"Lifecycle", lifecycleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// namedTest is one subtest of the suite; fn gets a fresh store.
type namedTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// ctx is the context for store calls: bounded, so a hung backend fails the
// test instead of the whole run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// storeTime checks that tm is how stores keep times (UTC, whole
// milliseconds) and lies between before and after.
func storeTime(t *testing.T, tm, before, after time.Time, what string) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Fatalf("%s: %v is not UTC", what, tm)
	}
	if tm != store.Timestamp(tm) {
		t.Fatalf("%s: %v is finer than a millisecond", what, tm)
	}
	if tm.Before(store.Timestamp(before)) || tm.After(after) {
		t.Fatalf("%s: %v not within [%v, %v]", what, tm, before, after)
	}
}

// mkRoom creates a public room named name owned by owner.
func mkRoom(t *testing.T, s store.Store, name, owner string) store.Room {
	t.Helper()
	r, err := s.CreateRoom(ctx(t), store.Room{Name: name, Kind: store.KindRoom, Owner: owner})
	noErr(t, err, "CreateRoom "+name)
	return r
}

// send appends text from sender to room and returns the event.
func send(t *testing.T, s store.Store, room, sender, text string) store.Event {
	t.Helper()
	ev, dup, err := s.Append(ctx(t), store.NewMessage{Room: room, Sender: sender, SenderName: sender + " name", Text: text})
	noErr(t, err, "Append")
	if dup {
		t.Fatal("Append without ClientID reported dup")
	}
	return ev
}

// allEvents reads a room's whole log, paging with a small limit.
func allEvents(t *testing.T, s store.Store, room string) []store.Event {
	t.Helper()
	var all []store.Event
	var after int64
	for {
		evs, err := s.Events(ctx(t), room, after, 7)
		noErr(t, err, "Events")
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Seq
	}
}

// seqs returns the sequence numbers of evs.
func seqs(evs []store.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// msgSeqs returns the sequence numbers of ms.
func msgSeqs(ms []store.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// span returns the numbers from to to inclusive, counting down if to < from.
func span(from, to int64) []int64 {
	var out []int64
	step := int64(1)
	if to < from {
		step = -1
	}
	for i := from; ; i += step {
		out = append(out, i)
		if i == to {
			return out
		}
	}
}
