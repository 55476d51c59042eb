package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/migration"
	"github.com/parley-chat/parley/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openAt opens the store at path and closes it when the test ends.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTemp(t *testing.T) *Store {
	return openAt(t, filepath.Join(t.TempDir(), "parley.db"))
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestDurableAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, store.User{ID: "u1", Username: "Ann"}); err != nil {
		t.Fatal(err)
	}
	var sent []store.Event
	for i := range 20 {
		ev, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", ClientID: fmt.Sprint("c", i), Text: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ev)
	}
	if _, err := s.React(ctx, "r", sent[0].Message.ID, "bob", "👍", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkRead(ctx, "r", "ann", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	evs, err := s.Events(ctx, "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 21 {
		t.Fatalf("%d events after reopen, want 21", len(evs))
	}
	for i, ev := range sent {
		if fmt.Sprint(evs[i]) != fmt.Sprint(ev) {
			t.Fatalf("event %d after reopen:\n got %+v\nwant %+v", i, evs[i], ev)
		}
	}
	m, err := s.Message(ctx, "r", sent[0].Message.ID)
	if err != nil || len(m.Reactions) != 1 {
		t.Fatalf("message after reopen = %+v, %v", m, err)
	}
	if mem, err := s.Member(ctx, "r", "ann"); err != nil || mem.ReadSeq != 7 || mem.Role != store.RoleOwner {
		t.Fatalf("member after reopen = %+v, %v", mem, err)
	}
	if _, err := s.UserByName(ctx, "ANN"); err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
	// Client-id dedupe survives the restart too.
	ev, dup, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", ClientID: "c3", Text: "again"})
	if err != nil || !dup || ev.Seq != sent[3].Seq {
		t.Fatalf("retry after reopen: ev=%+v dup=%v err=%v", ev, dup, err)
	}
	if ev := mustAppend(t, s, "r"); ev.Seq != 22 {
		t.Fatalf("seq after reopen = %d, want 22", ev.Seq)
	}
}

func mustAppend(t *testing.T, s *Store, room string) store.Event {
	t.Helper()
	ev, _, err := s.Append(context.Background(), store.NewMessage{Room: room, Sender: "u", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Pretend a newer parley migrated the file.
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, nil)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "999") {
		t.Fatalf("error %q does not name the database's version", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	for range 3 {
		s, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || v != len(ms) {
		t.Fatalf("schema_version has %d rows, max %d; want %d and %d", n, v, len(ms), len(ms))
	}
}

// TestBatchIsolatesFailures runs one batch by hand: a write that fails after
// changing the database must leave no trace, and the writes around it in the
// same transaction must still commit, gap-free.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var evs [2]store.Event
	mk := func(fn func(ctx context.Context, tx *writeTx) error) *writeReq {
		return &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	}
	appendReq := func(i int) *writeReq {
		return mk(func(ctx context.Context, tx *writeTx) error {
			var err error
			evs[i], _, err = appendTx(ctx, tx, store.NewMessage{Room: "r", Sender: "u", Text: fmt.Sprint(i)})
			return err
		})
	}
	failing := mk(func(ctx context.Context, tx *writeTx) error {
		// Take a sequence number and write a room, then fail.
		if _, _, err := appendTx(ctx, tx, store.NewMessage{Room: "r", Sender: "u", Text: "doomed"}); err != nil {
			return err
		}
		if err := insertRoom(ctx, tx, store.NewRoom(store.Room{Name: "ghost"}), false); err != nil {
			return err
		}
		return boom
	})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	gone := &writeReq{ctx: cancelled, fn: func(context.Context, *writeTx) error { t.Error("ran a cancelled request"); return nil },
		done: make(chan error, 1)}
	batch := []*writeReq{appendReq(0), failing, gone, appendReq(1)}
	// The writer goroutine is idle, so running the batch here is safe: the
	// single writer connection is free. The requests join it one by one,
	// as they would arriving during a flush: the first has run without a
	// savepoint when the second fails.
	var b *openBatch
	for _, r := range batch {
		b = s.add(b, r)
	}
	s.commitBatch(b)
	if err := <-batch[0].done; err != nil {
		t.Fatalf("first append: %v", err)
	}
	if err := <-failing.done; !errors.Is(err, boom) {
		t.Fatalf("failing write: err = %v, want boom", err)
	}
	if err := <-gone.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: err = %v, want context.Canceled", err)
	}
	if err := <-batch[3].done; err != nil {
		t.Fatalf("last append: %v", err)
	}
	if evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("seqs = %d, %d; want 1, 2", evs[0].Seq, evs[1].Seq)
	}
	got, err := s.Events(ctx, "r", 0, 10)
	if err != nil || len(got) != 2 || got[1].Message.Text != "1" {
		t.Fatalf("events = %+v, %v", got, err)
	}
	if _, err := s.Room(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("room written by the failed write: err = %v, want ErrNotFound", err)
	}
	if r, err := s.Room(ctx, "r"); err != nil || r.LastSeq != 2 {
		t.Fatalf("room r: LastSeq %d, err %v; want 2 (the failed write's number given back)", r.LastSeq, err)
	}
}

// TestTwoStoresOneFile: the writer keeps rooms' sequence counters in
// memory, which is only right while no one else writes the file (each batch
// checks data_version; a clash would also fail on the (room, seq) keys and
// re-run the batch with fresh counters). Two stores on one file, as two
// processes would be, take turns appending to one room, and every number
// is used once, in order.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	a, b := openAt(t, path), openAt(t, path)
	if _, err := a.CreateRoom(ctx, store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		s := []*Store{a, b}[i%2]
		ev, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "u", Text: fmt.Sprint(i)})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if ev.Seq != int64(i+1) {
			t.Fatalf("append %d took seq %d, want %d", i, ev.Seq, i+1)
		}
	}
	for _, s := range []*Store{a, b} {
		if r, err := s.Room(ctx, "r"); err != nil || r.LastSeq != 10 {
			t.Fatalf("LastSeq %d, err %v; want 10", r.LastSeq, err)
		}
	}
}

func TestReaderIsQueryOnly(t *testing.T) {
	s := openTemp(t)
	if _, err := s.r.Exec(`INSERT INTO rooms (name, kind, private, owner, topic, created_at) VALUES ('x', 'room', 0, '', '', 0)`); err == nil {
		t.Fatal("read pool accepted a write")
	}
}

// TestCancelledCallerDoesNotRace gives up on appends while the writer may
// still be running them; run with -race.
func TestCancelledCallerDoesNotRace(t *testing.T) {
	s := openTemp(t)
	if _, err := s.CreateRoom(context.Background(), store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "u", Text: "x"})
			done <- err
		}()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Append: %v", err)
		}
	}
	// Whatever was committed is gap-free.
	evs, err := s.Events(context.Background(), "r", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
}

// TestBackgroundCheckpoint: the writer never checkpoints, so the database
// file itself only grows when the checkpointer copies the WAL into it while
// the store is open; Close leaves the WAL empty, so parley.db alone holds
// everything.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		t.Helper()
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("x", 1000)
	for i := range 500 {
		if _, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: fmt.Sprint(i, text)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size(path) < before+400*1000 {
		if time.Now().After(deadline) {
			now := size(path)
			s.Close()
			t.Fatalf("database file still %d bytes (%d before 500 KB of messages): the WAL was not checkpointed", now, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := size(path + "-wal"); n != 0 {
		t.Errorf("WAL holds %d bytes after Close, want 0", n)
	}
	s = openAt(t, path)
	evs, err := s.Events(ctx, "r", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 500 {
		t.Errorf("%d events after reopening, want 500", len(evs))
	}
}

// TestCheckpointerSyncsDatabaseFile checks that the background checkpointer
// syncs the database file after copying pages into it, rather than leave
// them to SQLite's sync when the WAL starts over, and that a failed sync is
// reported.
func TestCheckpointerSyncsDatabaseFile(t *testing.T) {
	d, sync := checkpointSpacing, syncFile
	t.Cleanup(func() { checkpointSpacing, syncFile = d, sync })
	checkpointSpacing = 10 * time.Millisecond
	path := filepath.Join(t.TempDir(), "parley.db")
	var synced atomic.Int64
	var failing atomic.Bool
	var other atomic.Value
	syncFile = func(f *os.File) error {
		if f.Name() != path {
			other.Store(f.Name())
		}
		if failing.Load() {
			return errors.New("disk on fire")
		}
		synced.Add(1)
		return syncData(f)
	}
	var logs storetest.LogBuffer
	ctx := context.Background()
	s, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	appendUntil := func(what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; !done(); i++ {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 10 s of appends", what)
			}
			// Each append waits for its commit, which kicks the
			// checkpointer; no pause is needed between them.
			if _, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: fmt.Sprint("m", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendUntil("sync of the database file", func() bool { return synced.Load() > 0 })
	if name := other.Load(); name != nil {
		t.Fatalf("synced %s, want only the database file %s", name, path)
	}
	failing.Store(true)
	appendUntil("report of the failed sync", func() bool {
		return strings.Contains(logs.String(), "sync database file after checkpoint: disk on fire")
	})
}

// checkpointLog hears a store's commits and counts its checkpoints.
type checkpointLog struct {
	background, writer atomic.Int64
}

func (l *checkpointLog) Committed(int, time.Duration, error) {}

func (l *checkpointLog) Checkpointed(byWriter bool, _ time.Duration, err error) {
	if err != nil {
		return
	}
	if byWriter {
		l.writer.Add(1)
	} else {
		l.background.Add(1)
	}
}

// TestCheckpointsObserved checks that an observer of the store's commits
// that also hears checkpoints is told of the background ones and of those
// the writer runs to start the WAL over.
func TestCheckpointsObserved(t *testing.T) {
	n, d := walRestartFrames, checkpointSpacing
	t.Cleanup(func() { walRestartFrames, checkpointSpacing = n, d })
	walRestartFrames, checkpointSpacing = 64, 5*time.Millisecond
	ctx := context.Background()
	s := openTemp(t)
	var log checkpointLog
	s.ObserveCommits(&log)
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("x", 2000) // half a page a message: the WAL grows fast
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; log.background.Load() == 0 || log.writer.Load() == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s of appends: %d background and %d writer checkpoints heard, want some of each",
				log.background.Load(), log.writer.Load())
		}
		if _, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: fmt.Sprint(i, text)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWALBoundedUnderSustainedWrites keeps the writer busy without a pause,
// so the background checkpointer never finds the WAL copied in full between
// two batches, with readers reading all along, and checks that the WAL
// still starts over rather than grow with everything written.
func TestWALBoundedUnderSustainedWrites(t *testing.T) {
	n, d := walRestartFrames, checkpointSpacing
	t.Cleanup(func() { walRestartFrames, checkpointSpacing = n, d })
	walRestartFrames, checkpointSpacing = 256, 10*time.Millisecond // 1 MiB of 4 KiB pages
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	const rooms, writers = 300, 300
	appends := int64(40000)
	if raceEnabled {
		appends = 10000 // enough to check for races; the bound is checked without
	}
	for i := range rooms {
		if _, err := s.CreateRoom(ctx, store.Room{Name: fmt.Sprint("r", i), Owner: "ann"}); err != nil {
			t.Fatal(err)
		}
	}
	var largest atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > largest.Load() {
				largest.Store(fi.Size())
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	// Readers too, as joins and history pages are: each holds the WAL
	// frames of its snapshot while it reads, which can make a restart wait.
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.History(ctx, fmt.Sprint("r", i%rooms), store.HistoryQuery{Limit: 50}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	text := strings.Repeat("x", 100)
	for range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= appends; i = next.Add(1) {
				if _, _, err := s.Append(ctx, store.NewMessage{Room: fmt.Sprint("r", i%rooms), Sender: "ann", Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	<-sampled
	dbSize := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}()
	// Without restarts the WAL grows with everything written, several
	// times the database file (every batch writes a page per busy room and
	// index): 60-70 MiB here. With them it stays near walRestartFrames plus
	// what the writer commits between two background checkpoints, or a
	// few of them when a reader holds the WAL (4-14 MiB in repeated runs).
	if got, limit := largest.Load(), int64(24<<20); got > limit {
		t.Fatalf("the WAL grew to %d bytes (limit %d, database file %d bytes): it did not start over under load", got, limit, dbSize)
	}
	t.Logf("largest WAL %d bytes; database file %d bytes", largest.Load(), dbSize)
}
