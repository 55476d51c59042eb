package sqlite

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// flushGate holds the store's WAL flushes back for a test: a flush signals
// entered, then waits for a value on release and fails with it (nil lets
// it go through).
type flushGate struct {
	entered chan struct{}
	release chan error
}

// openGated opens a store whose flushes pass through a gate, letting the
// one Open makes through, and checks that only the store's WAL is flushed.
func openGated(t *testing.T) (*Store, flushGate, *storetest.LogBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	g := flushGate{entered: make(chan struct{}), release: make(chan error)}
	prev := syncWAL
	t.Cleanup(func() { syncWAL = prev })
	syncWAL = func(f *os.File) error {
		if f.Name() != path+"-wal" {
			t.Errorf("flushed %s, want the WAL %s-wal", f.Name(), path)
		}
		g.entered <- struct{}{}
		if err := <-g.release; err != nil {
			return err
		}
		return syncData(f)
	}
	opened := make(chan *Store, 1)
	logs := new(storetest.LogBuffer)
	go func() {
		s, err := Open(context.Background(), path, slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	g.pass(t, nil) // Open flushes what its migrations wrote
	s := <-opened
	if s == nil {
		t.FailNow()
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, g, logs
}

// pass waits for the next flush and lets it end with err.
func (g flushGate) pass(t *testing.T, err error) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no flush of the WAL within 10 s")
	}
	g.release <- err
}

// await returns what ch delivers, failing the test after 10 s.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		panic("unreachable")
	}
}

// notYet fails the test if ch delivers within a short look.
func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s before the WAL was flushed (%v)", what, v)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestAnsweredAfterFlush checks that a write is answered, and shown to
// readers, only once the WAL holding its commit is flushed.
func TestAnsweredAfterFlush(t *testing.T) {
	s, g, _ := openGated(t)
	ctx := context.Background()
	created := make(chan error, 1)
	go func() {
		_, err := s.CreateRoom(ctx, store.Room{Name: "r"})
		created <- err
	}()
	await(t, g.entered, "flush of the room's commit")
	// Committed: SQLite shows the room to readers already.
	read := make(chan error, 1)
	go func() {
		_, err := s.Room(ctx, "r")
		read <- err
	}()
	notYet(t, created, "CreateRoom answered")
	notYet(t, read, "a read showed the room")
	g.release <- nil
	if err := await(t, created, "answer to CreateRoom"); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if err := await(t, read, "answer to the read"); err != nil {
		t.Fatalf("Room after the flush: %v", err)
	}

	// An asynchronous append is answered after its flush too.
	appended := make(chan error, 1)
	s.AppendAsync(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: "hi"}, func(_ store.Event, _ bool, err error) {
		appended <- err
	})
	await(t, g.entered, "flush of the append's commit")
	notYet(t, appended, "AppendAsync answered")
	g.release <- nil
	if err := await(t, appended, "answer to AppendAsync"); err != nil {
		t.Fatalf("AppendAsync: %v", err)
	}
}

// TestFlushFailureStopsWrites checks that a failed flush fails the writes
// it held, and that the store then refuses writes and reads rather than
// trust a later flush, until it is reopened.
func TestFlushFailureStopsWrites(t *testing.T) {
	s, g, logs := openGated(t)
	ctx := context.Background()
	appended := make(chan error, 1)
	go func() {
		_, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: "hi"})
		appended <- err
	}()
	// The room does not exist: the append fails on its own, but its batch
	// still commits and is flushed. Let that flush fail instead.
	g.pass(t, errors.New("disk on fire"))
	if err := await(t, appended, "answer to Append"); err == nil {
		t.Fatal("Append into a missing room succeeded")
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.CreateRoom(ctx, store.Room{Name: "r"})
		done <- err
	}()
	if err := await(t, done, "answer to CreateRoom"); err == nil || !strings.Contains(err.Error(), "disk on fire") ||
		!strings.Contains(err.Error(), "restart Parley") {
		t.Fatalf("CreateRoom after a failed flush: %v, want the flush's error and a word on restarting", err)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Ping after a failed flush: %v, want the flush's error", err)
	}
	if _, err := s.Room(ctx, "r"); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("a read after a failed flush: %v, want the flush's error", err)
	}
	if got := logs.String(); strings.Count(got, "could not be flushed") != 1 || !strings.Contains(got, "disk on fire") {
		t.Fatalf("log %q, want the failed flush reported once", got)
	}
}

// TestFlushFollowsNewWAL checks that the syncer flushes the WAL file at the
// path, not one SQLite has since deleted: a flush of the old file would
// protect nothing written to the new one.
func TestFlushFollowsNewWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	w := &walSyncer{path: path + "-wal"}
	defer func() {
		if w.file != nil {
			w.file.Close()
		}
	}()
	if err := os.WriteFile(w.path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.syncWAL(); err != nil {
		t.Fatal(err)
	}
	old := w.file
	if err := os.Remove(w.path); err != nil {
		t.Fatal(err)
	}
	if err := w.syncWAL(); err == nil {
		t.Fatal("flushed a WAL that is gone")
	}
	if err := os.WriteFile(w.path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.syncWAL(); err != nil {
		t.Fatal(err)
	}
	held, err := w.file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(w.path)
	if err != nil {
		t.Fatal(err)
	}
	if w.file == old || !os.SameFile(held, now) {
		t.Fatal("the syncer still holds the deleted WAL")
	}
}

// TestOpenFailsWhenTheFirstFlushFails checks that Open reports a WAL it
// cannot flush and leaves nothing running (goleak checks at the end).
func TestOpenFailsWhenTheFirstFlushFails(t *testing.T) {
	prev := syncWAL
	t.Cleanup(func() { syncWAL = prev })
	syncWAL = func(*os.File) error { return errors.New("disk on fire") }
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), nil)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with a WAL that cannot be flushed")
	}
	if !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Open: %v, want the flush's error", err)
	}
}

// TestAWriteWhoseFlushFailsIsNotAcknowledged: an append that succeeded in
// SQLite but whose WAL flush fails is answered with the flush's error,
// never acknowledged: it may not be on disk.
func TestAWriteWhoseFlushFailsIsNotAcknowledged(t *testing.T) {
	s, g, _ := openGated(t)
	ctx := context.Background()
	created := make(chan error, 1)
	go func() {
		_, err := s.CreateRoom(ctx, store.Room{Name: "r"})
		created <- err
	}()
	g.pass(t, nil)
	if err := await(t, created, "answer to CreateRoom"); err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	go func() {
		_, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: "hi"})
		appended <- err
	}()
	g.pass(t, errors.New("disk on fire"))
	if err := await(t, appended, "answer to Append"); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("an append whose flush failed was answered %v, want the flush's error", err)
	}
}

// TestCloseReleasesTheWALFile: after Close the process holds no file
// descriptor on the WAL the syncer flushed (Linux, where /proc shows them).
func TestCloseReleasesTheWALFile(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRoom(context.Background(), store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.HasPrefix(target, path) {
			t.Fatalf("after Close file descriptor %s is still open on %s", fd.Name(), target)
		}
	}
}
