package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildParley compiles this command once per test binary run.
func buildParley(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "parley")
		cmd := exec.Command("go", "build", "-o", builtBin, ".")
		cmd.Stderr = os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		t.Fatalf("build parley: %v", buildErr)
	}
	return builtBin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startParley runs the real binary and waits until it is ready.
func startParley(t *testing.T, bin, addr, dataDir string) *exec.Cmd {
	t.Helper()
	return startParleyWith(t, bin, addr, dataDir, os.Stderr)
}

// startParleyWith is startParley with the binary's standard error going to
// stderr and extra flags after the usual ones.
func startParleyWith(t *testing.T, bin, addr, dataDir string, stderr io.Writer, extra ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--guests", "--room-creation", "anyone",
		"--rate-messages", "100000", "--rate-burst", "100000", "--user-rate-messages", "0", "--address-rate-messages", "0",
		"--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start parley: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testutil.Eventually(t, 15*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "parley at %s never became ready", addr)
	return cmd
}

// TestAcknowledgedMessagesSurviveKill9 sends messages from several writers
// to the real binary, kills it with SIGKILL while sends are still in flight,
// restarts it on the same data directory and finds every message that was
// acknowledged before the kill.
func TestAcknowledgedMessagesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	proc := startParley(t, bin, addr, dataDir)

	const writers, perWriter, killAfter = 4, 400, 600
	var (
		acked testutil.Ledger
		wg    sync.WaitGroup
		kill  = make(chan struct{})
		once  sync.Once
	)
	for w := 0; w < writers; w++ {
		c, _, err := testutil.DialURL(t, fmt.Sprintf("ws://%s/ws/durable?name=writer%d", addr, w), testutil.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Expect("joined", "welcome", "presence")
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Keep sends in flight: send ahead, then read acks as they come.
			for i := 0; i < perWriter; i++ {
				if err := c.Conn.WriteMessage(1, []byte(fmt.Sprintf(
					`{"type":"chat","id":"%d","body":{"room":"durable","text":"w%d-%d"}}`, i, w, i))); err != nil {
					return
				}
			}
			for {
				f, ok := c.TryNext(10 * time.Second)
				if !ok {
					return // killed
				}
				if f.Type != "ack" {
					continue
				}
				var a struct {
					Room      string `json:"room"`
					MessageID string `json:"message_id"`
					Seq       int64  `json:"seq"`
				}
				if f.DecodeErr(&a) != nil {
					continue
				}
				acked.Ack(testutil.Acked{Room: a.Room, Seq: a.Seq, MessageID: a.MessageID})
				if acked.Len() >= killAfter {
					once.Do(func() { close(kill) })
				}
			}
		}()
	}
	select {
	case <-kill:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d acks within 30s", acked.Len())
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	wg.Wait()
	t.Logf("killed with %d messages acknowledged of %d sent", acked.Len(), writers*perWriter)

	startParley(t, bin, addr, dataDir)
	// Every ack stored, once, in a gap-free sequence (testutil.Ledger).
	stored := acked.Check(t, "ws://"+addr, "durable")
	t.Logf("after restart: %d stored, all %d acknowledged present", stored, acked.Len())
}

// TestSigtermDrainsAndExitsZero: on SIGTERM the binary closes every
// WebSocket with 1012 and exits 0.
func TestSigtermDrainsAndExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	addr := freeAddr(t)
	proc := startParley(t, bin, addr, t.TempDir())
	c, _, err := testutil.DialURL(t, "ws://"+addr+"/ws/lobby?name=alice", testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Expect("joined", "welcome")
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := c.ExpectClose(); code != 1012 {
		t.Fatalf("close code %d, want 1012", code)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("parley exited with %v, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("parley still running 15s after SIGTERM")
	}
}

// TestSigtermWithNoShutdownTimeoutExitsZero: --shutdown-timeout 0s (no
// wait for clients) still stops cleanly, with exit status 0 and no warning,
// when there is nothing to drain.
func TestSigtermWithNoShutdownTimeoutExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	addr := freeAddr(t)
	var stderr syncBuffer
	proc := startParleyWith(t, bin, addr, t.TempDir(), &stderr, "--shutdown-timeout", "0s")
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("parley exited with %v, want 0; it said:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("parley still running 15s after SIGTERM")
	}
	if out := stderr.String(); strings.Contains(out, "drain") || strings.Contains(out, "deadline") {
		t.Fatalf("a clean stop logged a drain failure:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test
// reading it at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
