package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/natstest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
	"github.com/parley-chat/parley/server"
)

// warnCounter counts a server's WARN and ERROR log lines that mention
// the cluster, keeping the first few for the failure message.
type warnCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (w *warnCounter) Write(p []byte) (int, error) {
	line := string(p)
	if strings.Contains(line, "cluster:") && (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) {
		w.mu.Lock()
		w.n++
		if len(w.first) < 5 {
			w.first = append(w.first, strings.TrimSpace(line))
		}
		w.mu.Unlock()
	}
	return len(p), nil
}

// TestClusterConnectStorm: 5,000 clients connect at once (no accept
// pacing) to one cluster node on PostgreSQL and NATS, each joins a room,
// and all close at once. The node's presence writes are batched, so none
// of it overruns the 5 s store timeout: at most a handful of cluster
// warnings are logged (thousands before), and the store's counts and
// presence end at zero.
func TestClusterConnectStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 connections")
	}
	const n, rooms = 5000, 500
	needFiles(t, 2*n+500)
	db := pgtest.FreshSchema(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.DatabaseURL = db
	cfg.Broker = natstest.URL(t)
	cfg.BrokerPrefix = "parleytest" + hex.EncodeToString(b[:])
	cfg.SigningKeyFile = filepath.Join(t.TempDir(), "signing.key")
	cfg.Guests, cfg.RoomCreation, cfg.LogLevel = true, "anyone", "warn"
	cfg.AcceptRate = 0 // the storm unpaced
	cfg.MaxConnsPerAddress = 0
	cfg.ReadHeaderTimeout = time.Minute
	cfg.RateMessages, cfg.RateBurst = 10_000, 10_000
	testutil.WithoutUserLimits(&cfg)
	warns := &warnCounter{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{LogOutput: warns})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	ws := "ws://" + ln.Addr().String()

	start := time.Now()
	conns := make([]*websocket.Conn, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range n {
		wg.Go(func() {
			d := websocket.Dialer{HandshakeTimeout: time.Minute}
			c, _, err := d.Dial(fmt.Sprintf("%s/ws?name=storm%d", ws, i), nil)
			if err == nil {
				conns[i] = c
				err = stormJoin(c, fmt.Sprint("storm", i%rooms), &ids[i])
			}
			if err != nil && failed.Add(1) <= 3 {
				t.Errorf("client %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	connected := time.Since(start)
	for _, c := range conns {
		if c != nil {
			wg.Go(func() { _ = c.Close() })
		}
	}
	wg.Wait()
	t.Logf("%d clients connected and joined in %v (failed %d)", n, connected, failed.Load())

	direct, err := postgres.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.Close() })
	testutil.Eventually(t, 30*time.Second, func() bool {
		for r := range rooms {
			if _, total, err := direct.RoomPresence(context.Background(), fmt.Sprint("storm", r), 1); err != nil || total != 0 {
				return false
			}
		}
		for _, id := range ids[:50] {
			if k, err := direct.Connections(context.Background(), id); err != nil || k != 0 {
				return false
			}
		}
		return true
	}, "presence and counts in the store did not come back to zero after every client closed")
	warns.mu.Lock()
	defer warns.mu.Unlock()
	t.Logf("cluster warnings logged: %d", warns.n)
	// A handful is allowed: on a loaded machine a heartbeat or a reap may
	// still wait past its timeout. Before the writes were batched, 10,000
	// connects logged thousands.
	if warns.n > 5 {
		t.Errorf("a storm of %d connects logged %d cluster warnings; want at most a handful. First: %s", n, warns.n, strings.Join(warns.first, "\n"))
	}
}

// stormJoin reads the welcome (taking the user id), joins room and waits
// for the reply.
func stormJoin(c *websocket.Conn, room string, id *string) error {
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	var f struct {
		Type string
		ID   string
		Body struct {
			User struct{ ID string }
		}
	}
	if err := c.ReadJSON(&f); err != nil {
		return err
	}
	if f.Type != "welcome" {
		return fmt.Errorf("first frame %q, want welcome", f.Type)
	}
	*id = f.Body.User.ID
	if err := c.WriteJSON(map[string]any{"type": "join", "id": "j", "body": map[string]any{"room": room}}); err != nil {
		return err
	}
	for {
		f.Type, f.ID = "", ""
		if err := c.ReadJSON(&f); err != nil {
			return err
		}
		switch {
		case f.ID == "j" && f.Type == "joined":
			return nil
		case f.ID == "j":
			return fmt.Errorf("join answered %q", f.Type)
		}
	}
}
