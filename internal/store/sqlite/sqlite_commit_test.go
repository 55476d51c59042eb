package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// TestAnsweredOnlyAfterCommit holds the COMMIT of a batch back and checks
// that its append is neither answered nor flushed meanwhile, that another
// connection cannot see the message yet, and that once the commit is let
// through the answer comes and the message is there for any reader: an
// acknowledged write is one SQLite has committed, never one it may yet
// fail to. (A flush and answer ahead of the COMMIT would pass every test
// that only looks at the answers.)
func TestAnsweredOnlyAfterCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	visible := func() bool {
		var n int
		if err := other.QueryRow(`SELECT count(*) FROM messages WHERE room = 'r'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	entered, release := make(chan struct{}), make(chan struct{})
	flushed := make(chan struct{}, 8)
	prevCommit, prevSync := commitTx, syncWAL
	t.Cleanup(func() { commitTx, syncWAL = prevCommit, prevSync })
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	t.Cleanup(let) // before the store closes, or its writer never ends
	commitTx = func(tx *sql.Tx) error {
		entered <- struct{}{}
		<-release
		return tx.Commit()
	}
	syncWAL = func(f *os.File) error {
		flushed <- struct{}{}
		return syncData(f)
	}

	answered := make(chan error, 1)
	go func() {
		_, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", Text: "hi"})
		answered <- err
	}()
	await(t, entered, "the batch's COMMIT")
	notWhileHeld(t, answered, "the append was answered")
	notWhileHeld(t, flushed, "the WAL was flushed")
	if visible() {
		t.Fatal("another connection sees the message before its COMMIT returned")
	}
	let()
	if err := await(t, answered, "answer to Append"); err != nil {
		t.Fatal(err)
	}
	if !visible() {
		t.Fatal("the append was answered, but another connection does not see the message")
	}
	select {
	case <-flushed:
	default:
		t.Fatal("the append was answered without a flush of the WAL")
	}
}

// notWhileHeld fails the test if ch delivers within a short look, while
// the COMMIT is held back.
func notWhileHeld[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s while the COMMIT was held back (%v)", what, v)
	case <-time.After(100 * time.Millisecond):
	}
}
