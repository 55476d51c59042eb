package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestBatchesLockRoomsInOneOrder arranges, with row locks held from outside,
// the interleaving in which two nodes' batches over the same two rooms
// deadlock unless both lock the rooms in one order: node 1's batch has its
// messages for a then b, node 2's for b then a. Holders of a and b make
// each node's batch wait for its first lock; a is let go first, then b.
// Locking in the order of the messages, node 1 would then hold a and wait
// for b while node 2 held b and waited for a: PostgreSQL breaks the cycle
// by failing one batch, which the store then runs again one message at a
// time and logs. Locking in name order, node 2 waits for a behind node 1,
// and both batches commit whole. Three rounds, so that a random order
// would be caught too.
func TestBatchesLockRoomsInOneOrder(t *testing.T) {
	base := pgtest.FreshSchema(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	app := "parley_lockorder_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	var logs storetest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	var nodes [2]*Store
	for i := range nodes {
		s, err := Open(ctx, u.String(), logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	for _, r := range []string{"a", "b", "gate1", "gate2"} {
		if _, err := nodes[0].CreateRoom(ctx, store.Room{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	// Holders connect without the application name, so that waiting
	// counts only the nodes.
	holder := func(room string) (release func()) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.Begin(ctx)
		if err == nil {
			_, err = tx.Exec(ctx, `SELECT 1 FROM rooms WHERE name = $1 FOR UPDATE`, room)
		}
		if err != nil {
			t.Fatal(err)
		}
		return func() {
			_ = tx.Commit(ctx)
			conn.Close(ctx)
		}
	}
	waiting := func(n int) {
		t.Helper()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var got int
			err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&got)
			if err == nil && got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d node batches never waited for a row lock (%d did; %v)", n, got, err)
			}
		}
	}

	for round := range 3 {
		done := make(chan error, 6)
		appendTo := func(s *Store, room string) {
			s.AppendAsync(ctx, store.NewMessage{Room: room, Sender: "s", Text: room}, func(_ store.Event, _ bool, err error) {
				done <- err
			})
		}
		// Each node's first batch waits on its gate room, so that the next
		// two messages gather into one batch behind it, in the order sent.
		gates := []func(){holder("gate1"), holder("gate2")}
		appendTo(nodes[0], "gate1")
		appendTo(nodes[1], "gate2")
		waiting(2)
		appendTo(nodes[0], "a")
		appendTo(nodes[0], "b")
		appendTo(nodes[1], "b")
		appendTo(nodes[1], "a")
		releaseA, releaseB := holder("a"), holder("b")
		for _, open := range gates {
			open()
		}
		waiting(2) // both two-message batches wait for a row lock
		releaseA()
		waiting(2) // node 1 holds a and waits for b; node 2 waits too
		releaseB()
		for range 6 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("round %d: append: %v", round, err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("round %d: appends not answered within 20 s", round)
			}
		}
		if strings.Contains(logs.String(), "one by one") {
			t.Fatalf("round %d: a batch failed (a deadlock) and was run one message at a time:\n%s", round, logs.String())
		}
	}
}
