package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil"
)

// spawnParley starts the binary without waiting for it to be ready, for a
// test that kills it while it starts.
func spawnParley(t *testing.T, bin, addr, dataDir string, stderr *syncBuffer, env []string, extra ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--guests", "--room-creation", "anyone",
		"--rate-messages", "100000", "--rate-burst", "100000", "--user-rate-messages", "0", "--address-rate-messages", "0", "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start parley: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// kill9 kills proc with SIGKILL and reaps it.
func kill9(t *testing.T, proc *exec.Cmd) {
	t.Helper()
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
}

// fileState is what changes when a checkpoint writes into a file.
func fileState(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())
}

// TestKillDuringCheckpoint kills the binary in the middle of a SQLite
// checkpoint, the copy of the WAL into the database file, and restarts it.
//
// The moment is made reliable this way: writers fill a WAL of many
// megabytes and the server is killed (SIGKILL), which leaves every frame
// of it in the WAL file. On the next start SQLite rebuilds the WAL's index
// with nothing marked copied, so the first checkpoint, which the first
// commit after the start sets off, copies the whole WAL. Only checkpoints
// write into parley.db (the writer writes the WAL), so the test kills the
// server the moment parley.db changes: a few milliseconds into a copy of
// many megabytes.
func TestKillDuringCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	cycles, walBytes := 1, int64(4<<20)
	if faultsLong() {
		cycles, walBytes = 5, 32<<20
	}
	// The WAL file keeps its size when SQLite starts it over, so its size
	// alone does not say how much it holds: each cycle also waits for a
	// message (of nearly a page) per 8 KiB of it.
	minAcks := int(walBytes / 8192)
	bin := buildParley(t)
	dataDir := t.TempDir()
	db := filepath.Join(dataDir, "parley.db")
	addr := freeAddr(t)
	var stderr syncBuffer
	proc := startParleyWith(t, bin, addr, dataDir, &stderr)
	wsBase := "ws://" + addr
	// Messages of nearly a page each: the WAL then holds many distinct
	// pages, and a checkpoint copies each distinct page once.
	load := testutil.StartLoad(wsBase, "ckpt", testutil.LoadOptions{TextBytes: 3500})
	defer load.Stop()
	for cycle := 1; cycle <= cycles; cycle++ {
		acked := load.Ledger.Len()
		if _, ok := waitFor(120*time.Second, func() bool {
			st, err := os.Stat(db + "-wal")
			return err == nil && st.Size() >= walBytes && load.Ledger.Len() >= acked+minAcks
		}); !ok {
			t.Fatalf("cycle %d: %d acks and the WAL not at %d bytes within 120 s", cycle, load.Ledger.Len()-acked, walBytes)
		}
		kill9(t, proc)
		wal, _ := os.Stat(db + "-wal")
		before := fileState(db)
		proc = spawnParley(t, bin, addr, dataDir, &stderr, nil)
		// A tight poll: the copy takes milliseconds, not tens of them.
		var after string
		start := time.Now()
		for after = fileState(db); after == before; after = fileState(db) {
			if time.Since(start) > 60*time.Second {
				t.Fatalf("cycle %d: no checkpoint within 60 s of the restart; log:\n%s", cycle, stderr.String())
			}
			time.Sleep(100 * time.Microsecond)
		}
		changed := time.Since(start)
		kill9(t, proc)
		dead := fileState(db)
		t.Logf("cycle %d: killed %v after the restart, as the first checkpoint began copying a WAL file of %d bytes written with %d messages (parley.db size@mtime %s, then %s when the kill was sent, %s at its death)",
			cycle, changed.Round(time.Millisecond), wal.Size(), load.Ledger.Len()-acked, before, after, dead)
		proc = startParleyWith(t, bin, addr, dataDir, &stderr)
		// The same copy again, not cut short: how long it takes says how
		// far into it the kill came.
		var n float64
		if _, ok := waitFor(30*time.Second, func() bool {
			n = metric(t, addr, "parley_store_checkpoint_seconds_count", `by="background"`)
			return n >= 1
		}); ok {
			sum := metric(t, addr, "parley_store_checkpoint_seconds_sum", `by="background"`)
			t.Logf("cycle %d: after the restart, %v background checkpoints (the first copying that WAL whole) took %v in all",
				cycle, n, time.Duration(sum*float64(time.Second)).Round(time.Millisecond))
		}
	}
	acked := load.Ledger.Len()
	if _, ok := waitFor(30*time.Second, func() bool { return load.Ledger.Len() > acked }); !ok {
		t.Fatal("no ack after the last restart")
	}
	load.Stop()
	stored := load.Ledger.Check(t, wsBase, "ckpt")
	kill9(t, proc) // leave the WAL for integrityCheck to recover, as a start would
	integrityCheck(t, db)
	t.Logf("%d kills during a checkpoint: %d sent, %d acknowledged, %d in doubt, %d stored, 0 acknowledged lost",
		cycles, load.Sent(), load.Ledger.Len(), load.InDoubt(), stored)
}

// TestKillDuringMigration kills the binary inside a schema migration and
// restarts it: it opens, migrates to the end, and every message
// acknowledged before is there.
//
// Messages are sent (and acknowledged) at the newest schema; the server is
// stopped and the newest migration undone (its tables and indexes
// dropped, its version row deleted), so the next start has a migration to
// run on a database with data. That start runs with
// sqlite.EnvMigrationPause, which holds the migration's transaction open
// after its statements, and is killed in that wait: SQLite's migration is
// one transaction, and without the wait the kill would race steps that
// take well under a millisecond. (A database with enough rows to make a
// step slow would make the moment likely, not certain, at seconds of CI
// time.)
func TestKillDuringMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	cycles, messages := 1, 300
	if faultsLong() {
		cycles, messages = 5, 3000
	}
	bin := buildParley(t)
	dataDir := t.TempDir()
	db := filepath.Join(dataDir, "parley.db")
	addr := freeAddr(t)
	var stderr syncBuffer
	wsBase := "ws://" + addr
	var ledger *testutil.Ledger
	for cycle := 1; cycle <= cycles; cycle++ {
		proc := startParleyWith(t, bin, addr, dataDir, &stderr)
		load := testutil.StartLoad(wsBase, "migrate", testutil.LoadOptions{})
		if ledger != nil {
			for _, a := range ledger.Acks() {
				load.Ledger.Ack(a)
			}
		}
		want := load.Ledger.Len() + messages
		if _, ok := waitFor(60*time.Second, func() bool { return load.Ledger.Len() >= want }); !ok {
			t.Fatalf("cycle %d: %d acks of %d within 60 s", cycle, load.Ledger.Len(), want)
		}
		load.Stop()
		ledger = &load.Ledger
		if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := proc.Wait(); err != nil {
			t.Fatalf("parley exited with %v after SIGTERM", err)
		}
		undone := undoNewestMigration(t, db)
		pause := []string{sqlite.EnvMigrationPause + "=60s"}
		const paused = "migration paused before its commit"
		seen := strings.Count(stderr.String(), paused)
		proc = spawnParley(t, bin, addr, dataDir, &stderr, pause)
		took, ok := waitFor(60*time.Second, func() bool { return strings.Count(stderr.String(), paused) > seen })
		if !ok {
			t.Fatalf("cycle %d: the migration never reached its pause; log:\n%s", cycle, stderr.String())
		}
		kill9(t, proc)
		t.Logf("cycle %d: undid migration %d, killed inside it (its statements run, its commit not) %v after the start",
			cycle, undone, took.Round(time.Millisecond))
	}
	proc := startParleyWith(t, bin, addr, dataDir, &stderr)
	stored := ledger.Check(t, wsBase, "migrate")
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.Wait(); err != nil {
		t.Fatalf("parley exited with %v after SIGTERM", err)
	}
	if v := schemaVersion(t, db); v != sqlite.SchemaVersion() {
		t.Errorf("after the restart the schema is at version %d, want %d", v, sqlite.SchemaVersion())
	}
	integrityCheck(t, db)
	t.Logf("%d kills during a migration: %d acknowledged, %d stored, 0 acknowledged lost, schema at version %d",
		cycles, ledger.Len(), stored, sqlite.SchemaVersion())
}

// createdObject finds what a migration creates: a table, an index or a
// column added to a table.
var createdObject = regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)|ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?(\w+)`)

// undoNewestMigration takes the closed database at path back to the
// schema version before the newest, dropping what the newest migration
// creates, and returns the newest version. It handles migrations that
// only create tables and indexes, and fails the test, saying so, for
// any other.
func undoNewestMigration(t *testing.T, path string) int {
	t.Helper()
	files, err := filepath.Glob("../../internal/store/sqlite/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations not found: %v", err)
	}
	sort.Strings(files)
	newest := files[len(files)-1]
	text, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	body := strings.Join(code, "\n")
	// ALTER TABLE … ADD COLUMN is undone below; other ALTERs are not.
	undoable := regexp.MustCompile(`(?i)ALTER\s+TABLE\s+\w+\s+ADD\b`).ReplaceAllString(body, "")
	for _, verb := range []string{"ALTER", "UPDATE", "DELETE", "INSERT", "DROP"} {
		if regexp.MustCompile(`(?i)\b` + verb + `\b`).MatchString(undoable) {
			t.Fatalf("%s does %s; undoNewestMigration knows how to undo CREATE TABLE, CREATE INDEX and ADD COLUMN only: teach it", newest, verb)
		}
	}
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	matches := createdObject.FindAllStringSubmatch(body, -1)
	for i := len(matches) - 1; i >= 0; i-- {
		undo := "DROP " + matches[i][1] + " " + matches[i][2]
		if matches[i][3] != "" {
			undo = "ALTER TABLE " + matches[i][3] + " DROP COLUMN " + matches[i][4]
		}
		if _, err := tx.Exec(undo); err != nil {
			t.Fatalf("undo %s: %v", newest, err)
		}
	}
	v := sqlite.SchemaVersion()
	if _, err := tx.Exec(`DELETE FROM schema_version WHERE version >= ?`, v); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := schemaVersion(t, path); got != v-1 {
		t.Fatalf("undid %s, and the schema is at version %d, not %d", newest, got, v-1)
	}
	return v
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v int
	if err := conn.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
