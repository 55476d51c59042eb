package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// fill appends n messages to room r of s.
func fill(t *testing.T, s *Store, room string, n int) []store.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateRoom(ctx, store.Room{Name: room, Owner: "ann"}); err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	var evs []store.Event
	for i := range n {
		ev, _, err := s.Append(ctx, store.NewMessage{Room: room, Sender: "ann", ClientID: fmt.Sprint(room, i), Text: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestBackupOfALiveStore backs up a store that keeps writing, and finds in
// the copy every message stored before the backup began.
func TestBackupOfALiveStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "parley.db")
	s := openAt(t, src)
	before := fill(t, s, "r", 200)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", ClientID: fmt.Sprint("during", i), Text: "x"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dst := filepath.Join(dir, "backup.db")
	info, err := Backup(ctx, src, dst, false)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != SchemaVersion() || info.Bytes == 0 {
		t.Fatalf("backup info %+v, want version %d", info, SchemaVersion())
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v; want 0600", err, st.Mode())
	}
	copied := openAt(t, dst)
	for _, ev := range before {
		if _, err := copied.Message(ctx, "r", ev.Message.ID); err != nil {
			t.Fatalf("message %d (%s) is missing from the backup: %v", ev.Seq, ev.Message.ID, err)
		}
	}

	if _, err := Backup(ctx, src, dst, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("backup over an existing file without replace: %v, want ErrExist", err)
	}
	if _, err := Backup(ctx, src, dst+"-missing-dir/x.db", false); err == nil {
		t.Fatal("backup into a missing directory succeeded")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".backup.db.tmp-*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func TestCheckRefusesWhatIsNotAParleyDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (text TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, path := range []string{junk, other} {
		if _, err := Check(ctx, path); !errors.Is(err, ErrNotParley) {
			t.Errorf("Check(%s): %v, want ErrNotParley", filepath.Base(path), err)
		}
	}
	if _, err := Check(ctx, filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check(missing): %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Check created the missing file")
	}

	newer := filepath.Join(dir, "newer.db")
	s, err := Open(ctx, newer, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ = sql.Open("sqlite", newer)
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (?)`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Check(ctx, newer); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Check(newer): %v, want ErrSchemaTooNew", err)
	}
	if _, err := Restore(ctx, newer, filepath.Join(dir, "restored.db"), false); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Restore(newer): %v, want ErrSchemaTooNew", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "restored.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a refused restore created the database")
	}
}

// TestRestoreReplacesTheDatabaseAndItsWAL restores a backup over a database
// whose server crashed with a WAL beside it: the WAL must go, else SQLite
// would apply the old database's frames to the restored file.
func TestRestoreReplacesTheDatabaseAndItsWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	s := openAt(t, src)
	want := fill(t, s, "kept", 30)
	backup := filepath.Join(dir, "backup.db")
	if _, err := Backup(ctx, src, backup, false); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(dir, "data", "parley.db")
	if err := os.Mkdir(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	old, err := Open(ctx, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, old, "lost", 10)
	// A crash: the WAL and shared memory stay (copied before Close tidies
	// them away).
	wal, _ := os.ReadFile(dst + "-wal")
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst+"-wal", wal, 0o600); err != nil {
		t.Fatal(err)
	}

	if _, err := Restore(ctx, backup, dst, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("restore over a database without replace: %v, want ErrExist", err)
	}
	info, err := Restore(ctx, backup, dst, true)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != SchemaVersion() {
		t.Fatalf("restored version %d, want %d", info.Version, SchemaVersion())
	}
	if _, err := os.Stat(dst + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the old WAL is still there: %v", err)
	}
	r := openAt(t, dst)
	msgs, err := r.History(ctx, "kept", store.HistoryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(want) {
		t.Fatalf("restored room has %d messages, want %d", len(msgs), len(want))
	}
	if _, err := r.Room(ctx, "lost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the replaced database's room is still there: %v", err)
	}
}
