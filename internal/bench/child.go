package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ChildArgs are the serve flags of a server the tool starts itself: guests
// on and allowed to create rooms (the load connects as guests), and rate
// and per-user connection limits lifted so the tool measures the server
// rather than its abuse limits.
var ChildArgs = []string{"--guests", "--room-creation", "anyone", "--rate-messages", "100000", "--rate-burst", "100000",
	"--max-conns-per-user", "100000", "--log-level", "warn"}

// Child is a server started as a child process on a loopback port with a
// temporary data directory.
type Child struct {
	// URL is the server's base WebSocket URL.
	URL string
	// PID is the child's process id, for the Meter.
	PID int

	cmd  *exec.Cmd
	dir  string
	logs *tailBuffer
	done chan error
}

// StartChild runs exe (normally os.Executable(), the parley binary itself)
// as "exe serve --addr 127.0.0.1:PORT --data-dir DIR <ChildArgs>" and waits
// until it answers /readyz. Stop it with Stop.
func StartChild(ctx context.Context, exe string) (*Child, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temporary data directory: %w", err)
	}
	args := append([]string{"serve", "--addr", addr, "--data-dir", dir}, ChildArgs...)
	ch := &Child{URL: "ws://" + addr, dir: dir, logs: &tailBuffer{max: 16 << 10}, done: make(chan error, 1)}
	ch.cmd = exec.Command(exe, args...)
	ch.cmd.Stdout = ch.logs
	ch.cmd.Stderr = ch.logs
	if err := ch.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: start %s serve: %w", exe, err)
	}
	ch.PID = ch.cmd.Process.Pid
	go func() { ch.done <- ch.cmd.Wait() }()
	if err := ch.waitReady(ctx, "http://"+addr+"/readyz"); err != nil {
		ch.Stop()
		return nil, err
	}
	return ch, nil
}

func (ch *Child) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-ch.done:
			ch.done <- err
			return fmt.Errorf("bench: the server exited (%v):\n%s", err, ch.logs.String())
		case <-ctx.Done():
			return fmt.Errorf("bench: the server did not become ready: %w\n%s", ctx.Err(), ch.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Logs returns the tail of the child's output.
func (ch *Child) Logs() string { return ch.logs.String() }

// Stop sends SIGTERM, waits up to 20 s for a graceful exit (then kills the
// child) and removes the data directory.
func (ch *Child) Stop() error {
	defer os.RemoveAll(ch.dir)
	_ = ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-ch.done:
		if err != nil {
			return fmt.Errorf("bench: server exit: %w", err)
		}
		return nil
	case <-time.After(20 * time.Second):
		_ = ch.cmd.Process.Kill()
		<-ch.done
		return fmt.Errorf("bench: the server ignored SIGTERM for 20s and was killed")
	}
}

// freePort finds a free loopback port below the ephemeral range
// (32768–60999 here), so the tool's own outgoing connections, which use
// that range, cannot collide with the server's port.
func freePort() (string, error) {
	for range 100 {
		addr := "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			_ = ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("bench: no free port in 20000–32000 on 127.0.0.1")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

var _ io.Writer = (*tailBuffer)(nil)

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
