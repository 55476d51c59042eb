package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil"
)

// ackWriter sends chat messages to a room over its own connection, a
// window at a time, and records the id of each message acknowledged.
type ackWriter struct {
	c     *testutil.Client
	mu    *sync.Mutex
	acked map[string]bool
}

// run sends until stop closes; it returns early if the connection fails.
func (w ackWriter) run(room string, stop <-chan struct{}) error {
	const window = 20
	for n := 0; ; n += window {
		select {
		case <-stop:
			return nil
		default:
		}
		for i := range window {
			w.c.Send("chat", strconv.Itoa(n+i), map[string]string{"room": room, "text": fmt.Sprint("m", n+i)})
		}
		for got := 0; got < window; {
			f, ok := w.c.TryNext(10 * time.Second)
			if !ok {
				return fmt.Errorf("no ack within 10s: %v", w.c.Err())
			}
			if f.Type != "ack" {
				continue
			}
			var a struct {
				MessageID string `json:"message_id"`
			}
			if err := f.DecodeErr(&a); err != nil {
				return err
			}
			w.mu.Lock()
			w.acked[a.MessageID] = true
			w.mu.Unlock()
			got++
		}
	}
}

// roomHistory reads every message of room from the server at addr, newest
// first, and returns their ids and the room's last sequence number.
func roomHistory(t *testing.T, addr, room string) (map[string]bool, int64) {
	t.Helper()
	c, _, err := testutil.DialURL(t, fmt.Sprintf("ws://%s/ws/%s?name=checker", addr, room), testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Welcome()
	var j struct {
		LastSeq int64 `json:"last_seq"`
	}
	c.Expect("joined").Decode(t, &j)
	found := map[string]bool{}
	for before := j.LastSeq + 1; before > 1; {
		c.Send("history", "h", map[string]any{"room": room, "before": before, "limit": 1000})
		var h struct {
			Messages []struct {
				ID  string `json:"id"`
				Seq int64  `json:"seq"`
			} `json:"messages"`
		}
		c.Expect("history", "presence").Decode(t, &h)
		if len(h.Messages) == 0 {
			break
		}
		for _, m := range h.Messages {
			found[m.ID] = true
			before = m.Seq
		}
	}
	return found, j.LastSeq
}

// TestBackupUnderWriteLoad backs up the database of the real binary while
// clients send and collect acks, starts a fresh server from the copy and
// finds there every message acknowledged before the backup started. On the
// way it checks that a running server's data directory cannot be restored
// over or served twice.
func TestBackupUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	p := adminBin{t: t, bin: bin}
	dataDir := t.TempDir()
	addr := freeAddr(t)
	server := startParley(t, bin, addr, dataDir)

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	for i := range 4 {
		c, _, err := testutil.DialURL(t, fmt.Sprintf("ws://%s/ws/load?name=writer%d", addr, i), testutil.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Expect("joined", "welcome", "presence")
		wg.Add(1)
		go func() { defer wg.Done(); errs <- ackWriter{c: c, mu: &mu, acked: acked}.run("load", stop) }()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	testutil.Eventually(t, 30*time.Second, func() bool { return count() >= 2000 }, "fewer than 2000 acks in 30s")

	mu.Lock()
	before := make([]string, 0, len(acked))
	for id := range acked {
		before = append(before, id)
	}
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "parley-backup.db")
	start := time.Now()
	out := p.ok("", nil, "backup", backup, "--data-dir", dataDir)
	took := time.Since(start)
	during := count() - len(before)
	// The writers go on a moment after the backup, so the test shows it
	// did not stop them.
	testutil.Eventually(t, 10*time.Second, func() bool { return count() >= len(before)+during+200 }, "writers stalled after the backup")
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	if !strings.Contains(out, "backed up "+filepath.Join(dataDir, "parley.db")+" to "+backup) || !strings.Contains(out, "integrity check ok") {
		t.Fatalf("backup said %q", out)
	}
	t.Logf("backup in %v with %d acks before it and %d during it; %d acks in all", took, len(before), during, count())

	// The live server's data directory is refused, twice over.
	_, stderr, code := p.run("", nil, "restore", backup, "--data-dir", dataDir, "--force")
	if code != 1 || !strings.Contains(stderr, "in use by a running parley serve (process "+strconv.Itoa(server.Process.Pid)) {
		t.Fatalf("restore into the live data directory: exit %d, %q", code, stderr)
	}
	var second bytes.Buffer
	cmd := exec.Command(bin, "serve", "--addr", freeAddr(t), "--data-dir", dataDir)
	cmd.Env, cmd.Stderr = cleanEnv(), &second
	if err := cmd.Run(); err == nil || !strings.Contains(second.String(), "already in use by another parley serve") {
		t.Fatalf("a second serve on the data directory: %v, %q", err, second.String())
	}

	// A fresh server from the copy has everything acknowledged before.
	fresh := t.TempDir()
	out = p.ok("", nil, "restore", backup, "--data-dir", fresh)
	if !strings.Contains(out, "restored "+backup) {
		t.Fatalf("restore said %q", out)
	}
	freshAddr := freeAddr(t)
	startParley(t, bin, freshAddr, fresh)
	found, lastSeq := roomHistory(t, freshAddr, "load")
	for _, id := range before {
		if !found[id] {
			t.Errorf("message %s, acknowledged before the backup, is not in it", id)
		}
	}
	if int64(len(found)) != lastSeq || len(found) < len(before) {
		t.Errorf("the restored room has %d messages, last_seq %d, %d acked before the backup", len(found), lastSeq, len(before))
	}
	t.Logf("the restored room has %d messages (last_seq %d)", len(found), lastSeq)
}

// TestBackupAndRestoreRefusals: each command checks its arguments and the
// files before writing anything, and says what is wrong.
func TestBackupAndRestoreRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	p := adminBin{t: t, bin: buildParley(t)}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(data, "parley.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	p.ok("", nil, "backup", newer, "--data-dir", data)
	sdb, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`INSERT INTO schema_version (version) VALUES (?)`, sqlite.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	sdb.Close()

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"backup without FILE", []string{"backup", "--data-dir", data}, 2, "parley backup: missing FILE"},
		{"backup over a file", []string{"backup", existing, "--data-dir", data}, 2, "exists; give --force to replace it"},
		{"backup onto the database", []string{"backup", db, "--data-dir", data}, 2, "is the server's database itself"},
		{"backup into a missing directory", []string{"backup", filepath.Join(dir, "nope", "b.db"), "--data-dir", data}, 2, "does not exist"},
		{"backup of no database", []string{"backup", filepath.Join(dir, "b.db"), "--data-dir", dir}, 1, "there is no Parley database at"},
		{"backup of PostgreSQL", []string{"backup", filepath.Join(dir, "b.db"), "--database-url", "postgres://u:secret@db.internal/parley"},
			1, "the configured store is PostgreSQL (postgres://u:xxxxx@db.internal/parley), which backup does not handle; use pg_dump"},
		{"restore of junk", []string{"restore", junk, "--data-dir", filepath.Join(dir, "fresh")}, 1, "junk.db is not a Parley database: it is not a SQLite database"},
		{"restore of a newer schema", []string{"restore", newer, "--data-dir", filepath.Join(dir, "fresh")}, 1, "is from a newer Parley than this one"},
		{"restore of a missing file", []string{"restore", filepath.Join(dir, "gone.db"), "--data-dir", filepath.Join(dir, "fresh")}, 2, "gone.db: does not exist"},
		{"restore over a database", []string{"restore", newer, "--data-dir", data}, 2, "exists; stop its server, back it up, and give --force"},
		{"restore into a missing parent", []string{"restore", newer, "--data-dir", filepath.Join(dir, "a", "b")}, 2, "does not exist"},
		{"restore to PostgreSQL", []string{"restore", newer, "--database-url", "postgres://db.internal/parley"}, 1, "use pg_restore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := p.run("", nil, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q\nwant it to say %q", code, tt.code, stdout, stderr, tt.want)
			}
			if !strings.HasPrefix(stderr, "parley "+tt.args[0]+": ") {
				t.Errorf("stderr %q is not prefixed with the command", stderr)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatalf("the refused backup changed %s", existing)
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh")); err == nil {
		t.Fatal("a refused restore created the data directory")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	// --force replaces, and the result is the new copy.
	out := p.ok("", nil, "backup", existing, "--force", "--data-dir", data, "--json")
	if !strings.Contains(out, `"schema_version": `+strconv.Itoa(sqlite.SchemaVersion())) {
		t.Fatalf("backup --json said %q", out)
	}
	if _, err := sqlite.Check(context.Background(), existing); err != nil {
		t.Fatalf("the replaced file: %v", err)
	}
	p.ok("", nil, "restore", existing, "--force", "--data-dir", data)
}
