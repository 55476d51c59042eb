package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ChildArgs are the serve flags of a server the tool starts itself: guests
// on and allowed to create rooms (the load connects as guests), and rate,
// admission and connection limits lifted (all the load comes from one
// address, as fast as it can) so the tool measures the server rather than
// its abuse limits.
var ChildArgs = []string{"--guests", "--room-creation", "anyone", "--rate-messages", "100000", "--rate-burst", "100000",
	"--max-conns-per-user", "100000", "--user-rate-messages", "0", "--user-rate-joins", "0",
	"--address-rate-messages", "0", "--address-rate-joins", "0", "--room-create-rate", "0",
	"--max-conns-per-address", "0", "--accept-rate", "0", "--log-level", "warn"}

// Child is a server started as a child process on a loopback port with a
// temporary data directory.
type Child struct {
	// URL is the server's base WebSocket URL.
	URL string
	// PID is the child's process id, for the Meter.
	PID int
	// APIKey is a key of the server with the publish and rooms scopes.
	APIKey string
	// JWTSecret is the HS256 secret the server takes external tokens
	// signed with.
	JWTSecret []byte
	// DebugAddr is the loopback host:port of the server's profiler
	// (/debug/pprof/), to look into a leak while a long run goes on.
	DebugAddr string

	cmd  *exec.Cmd
	dir  string
	logs *tailBuffer
	done chan error
}

// StartChild runs exe (normally os.Executable(), the parley binary itself)
// as "exe serve --addr 127.0.0.1:PORT --data-dir DIR <ChildArgs>" with its
// profiler on a second loopback port, taking
// external HS256 tokens signed with a random secret of its own, waits until
// it answers /readyz and makes it an API key. Stop it with Stop.
func StartChild(ctx context.Context, exe string) (*Child, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	debugAddr, err := freePort()
	for err == nil && debugAddr == addr {
		debugAddr, err = freePort()
	}
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temporary data directory: %w", err)
	}
	secret, secretFile, err := writeSecret(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	args := append([]string{"serve", "--addr", addr, "--data-dir", dir,
		"--jwt-algorithm", "HS256", "--jwt-secret-file", secretFile, "--debug-addr", debugAddr}, ChildArgs...)
	ch := &Child{URL: "ws://" + addr, DebugAddr: debugAddr, JWTSecret: secret, dir: dir, logs: &tailBuffer{max: 16 << 10}, done: make(chan error, 1)}
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
	if ch.APIKey, err = createKey(ctx, exe, dir); err != nil {
		ch.Stop()
		return nil, err
	}
	return ch, nil
}

// writeSecret writes a random HS256 secret into dir, as `openssl rand -hex
// 32` would make it, and returns the secret as the server reads it (the
// file's text) and the file's path.
func writeSecret(dir string) ([]byte, string, error) {
	var b [32]byte
	_, _ = crand.Read(b[:])
	secret := []byte(hex.EncodeToString(b[:]))
	path := filepath.Join(dir, "bench-jwt.secret")
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		return nil, "", fmt.Errorf("bench: write the JWT secret: %w", err)
	}
	return secret, path, nil
}

// createKey makes an API key for publish with the binary's own "apikey
// create" on the server's data directory, as an operator would. It runs
// once the server is ready: the command refuses a directory with no
// database yet, and writes beside a running server by design (SQLite's WAL),
// here before any load starts.
func createKey(ctx context.Context, exe, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "apikey", "create", "--data-dir", dir,
		"--name", "parley bench", "--scopes", "publish,rooms", "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bench: %s apikey create: %w\n%s", exe, err, stderr.String())
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		return "", fmt.Errorf("bench: %s apikey create printed no key: %q", exe, out)
	}
	return k.Key, nil
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
