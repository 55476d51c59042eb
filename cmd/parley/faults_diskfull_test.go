package main

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// mountSmall mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it when the test ends; the test skips, saying why, where it
// cannot (not root, or no mount permitted in this container).
func mountSmall(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a size-limited tmpfs as the data directory")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the disk-full test needs one", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			return n
		}
		if err != nil {
			t.Fatalf("filling %s: %v", path, err)
		}
	}
}

// TestDiskFullUnderWriteLoad fills the SQLite data directory while writers
// send: senders get the documented error, history and presence keep
// working, /readyz answers 503 (and 200 again), the log stays a few lines
// with the refusals counted in /metrics, writes resume once space is
// freed, nothing acknowledged is lost, and the database is intact.
func TestDiskFullUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	cycles, refusals := 1, 300
	if faultsLong() {
		cycles, refusals = 5, 3000
	}
	dataDir := mountSmall(t, "48m")
	bin := buildParley(t)
	addr := freeAddr(t)
	var stderr syncBuffer
	proc := startParleyWith(t, bin, addr, dataDir, &stderr)
	wsBase := "ws://" + addr
	load := testutil.StartLoad(wsBase, "full", testutil.LoadOptions{})
	defer load.Stop()
	filler := filepath.Join(dataDir, "filler")
	for cycle := 1; cycle <= cycles; cycle++ {
		acked := load.Ledger.Len()
		if _, ok := waitFor(30*time.Second, func() bool { return load.Ledger.Len() >= acked+200 }); !ok {
			t.Fatalf("cycle %d: only %d acks before the disk filled", cycle, load.Ledger.Len()-acked)
		}
		logBefore := logLines(stderr.String())
		errsBefore := load.ErrorCount()
		filled := fill(t, filler)
		if _, ok := waitFor(60*time.Second, func() bool { return load.ErrorCount() >= errsBefore+refusals }); !ok {
			t.Fatalf("cycle %d: disk full (%d bytes of filler), but only %d sends refused; log:\n%s",
				cycle, filled, load.ErrorCount()-errsBefore, stderr.String())
		}
		// The node says it cannot store, with a reason.
		var body string
		if _, ok := waitFor(10*time.Second, func() bool {
			var code int
			code, body = getText("http://" + addr + "/readyz")
			return code == http.StatusServiceUnavailable && strings.Contains(body, "not writable")
		}); !ok {
			t.Fatalf("cycle %d: /readyz with the disk full: %s, want 503 store not writable", cycle, body)
		}
		t.Logf("cycle %d: /readyz with the disk full: %s", cycle, strings.TrimSpace(body))
		// Reads and presence go on: the history, and a newcomer seen by
		// the room.
		if n := len(testutil.FetchRoom(t, wsBase, "full")); n < load.Ledger.Len()-10 {
			t.Errorf("cycle %d: history holds %d messages with the disk full, %d were acknowledged", cycle, n, load.Ledger.Len())
		}
		checkPresence(t, wsBase, "full")
		logged := logLines(stderr.String()) - logBefore
		if logged >= 20 {
			t.Errorf("cycle %d: %d sends refused wrote %d log lines, want under 20:\n%s", cycle, load.ErrorCount()-errsBefore, logged, stderr.String())
		}
		// Space back: writes resume, and the node is ready again.
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		freed := time.Now()
		back, ok := waitFor(30*time.Second, func() bool { return load.LastAck().After(freed) })
		if !ok {
			t.Fatalf("cycle %d: no ack within 30 s of freeing space; log:\n%s", cycle, stderr.String())
		}
		ready, ok := waitFor(30*time.Second, func() bool { code, _ := getText("http://" + addr + "/readyz"); return code == http.StatusOK })
		if !ok {
			t.Fatalf("cycle %d: /readyz not 200 within 30 s of freeing space", cycle)
		}
		t.Logf("cycle %d: %d bytes filled; %d sends refused (slowest error frame %v), %d log lines; first ack %v and /readyz 200 %v after space came back",
			cycle, filled, load.ErrorCount()-errsBefore, load.SlowestError().Round(time.Millisecond), logged, back.Round(time.Millisecond), ready.Round(time.Millisecond))
	}
	load.Stop()
	byCode, byText := load.Errors()
	for code := range byCode {
		if code != "unavailable" {
			t.Errorf("error frames with code %q; want only unavailable: %s", code, fmtCodes(byText))
		}
	}
	assertHumanErrors(t, byText)
	if slow := load.SlowestError(); slow > 10*time.Second {
		t.Errorf("a refused send waited %v for its error frame; sends must fail fast", slow)
	}
	if n := metric(t, addr, "parley_store_write_failures_total", `kind="disk_full"`); n < float64(refusals) {
		t.Errorf("parley_store_write_failures_total{kind=\"disk_full\"} = %v, want at least %d", n, refusals)
	}
	if n := metric(t, addr, "parley_log_records_total", `message="store call failed"`); n < float64(refusals) {
		t.Errorf("parley_log_records_total{message=\"store call failed\"} = %v, want at least %d", n, refusals)
	}
	stored := load.Ledger.Check(t, wsBase, "full")
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.Wait(); err != nil {
		t.Errorf("parley exited with %v after SIGTERM, want 0", err)
	}
	integrityCheck(t, filepath.Join(dataDir, "parley.db"))
	t.Logf("%d cycles: %d sent, %d acknowledged, %d refused (%s), %d stored, 0 acknowledged lost",
		cycles, load.Sent(), load.Ledger.Len(), load.ErrorCount(), fmtCodes(byText), stored)
}

// checkPresence connects a newcomer to room and checks that an observer
// already there sees it arrive.
func checkPresence(t *testing.T, wsBase, room string) {
	t.Helper()
	obs, _, err := testutil.DialURL(t, wsBase+"/ws/"+room+"?name=observer", testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	obs.Expect("joined", "welcome", "presence")
	nc, _, err := testutil.DialURL(t, wsBase+"/ws/"+room+"?name=newcomer", testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	f := nc.Expect("joined", "welcome", "presence")
	_ = f
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f, ok := obs.TryNext(time.Until(deadline))
		if !ok {
			break
		}
		if f.Type == "presence" && strings.Contains(string(f.Raw), "newcomer") {
			return
		}
	}
	t.Errorf("the room's members did not see a newcomer arrive while the disk was full")
}
