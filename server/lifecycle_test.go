package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
	"github.com/parley-chat/parley/server"
)

// TestShutdownSends1012: a draining server tells each client to
// reconnect, with a wait of its own in the close reason, within the
// window a small node uses (1 s).
func TestShutdownSends1012(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	a := connect(t, ts, "alice", "lobby")
	b := connect(t, ts, "bob", "")
	done := make(chan error, 1)
	go func() { done <- ts.Stop(t) }()
	for _, c := range []*testutil.Client{a, b} {
		var notice struct {
			Text string `json:"text"`
		}
		c.Expect("system").Decode(t, &notice)
		if notice.Text == "" {
			t.Fatalf("empty shutdown notice")
		}
		if code := c.ExpectClose(); code != 1012 {
			t.Fatalf("close code = %d, want 1012", code)
		}
		var ce *websocket.CloseError
		if !errors.As(c.Err(), &ce) {
			t.Fatalf("no close frame: %v", c.Err())
		}
		if wait, ok := protocol.ParseRestartReason(ce.Text); !ok || wait < 0 || wait >= time.Second {
			t.Fatalf("close reason %q, want a wait under 1s", ce.Text)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v after a clean drain", err)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s = %d", path, resp.StatusCode)
		}
	}
}

// TestHeartbeatTimeoutRemovesADeadClient uses a client that never reads, so
// it never answers the server's pings: the server must close it, take it out
// of its rooms and announce its departure.
func TestHeartbeatTimeoutRemovesADeadClient(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.HeartbeatInterval = 200 * time.Millisecond
		c.HeartbeatTimeout = 200 * time.Millisecond
	})
	bob := connect(t, ts, "bob", "lobby")
	dead, _, err := websocket.DefaultDialer.Dial(ts.WSURL+"/ws/lobby?name=ghost", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var p presenceBody
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "join" {
		t.Fatalf("presence %+v", p)
	}
	ghost := p.User.ID
	start := time.Now()
	bob.Expect("presence").Decode(t, &p)
	if p.Event != "leave" || p.User.ID != ghost {
		t.Fatalf("presence %+v, want ghost leave", p)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("dead client removed after %v, before a heartbeat could be missed", waited)
	}
	// A live client that answers pings stays.
	bob.Send("ping", "still", nil)
	bob.Expect("pong")
}

// TestSlowReaderIsDisconnectedWhileTheRoomKeepsFlowing has one member stop
// reading. Its queue overflows and it is cut off; the others get every
// message, in order.
func TestSlowReaderIsDisconnectedWhileTheRoomKeepsFlowing(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.MaxMessageLength = 1000
		c.MaxFrameBytes = 8192
		c.SendQueueBytes = 256 << 10 // slack for the members that do read; far below the 6 MB sent
		c.RateMessages = 100000
		c.RateBurst = 100000
		testutil.WithoutUserLimits(c)
	})
	// The slow reader's socket buffer is made small so its backlog reaches
	// the server's queue quickly.
	dialer := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		conn, err := net.Dial(network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return conn, err
	}}
	slow, _, err := dialer.Dial(ts.WSURL+"/ws/lobby?name=slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	var welcome struct {
		Body struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"body"`
	}
	if err := slow.ReadJSON(&welcome); err != nil || welcome.Body.User.ID == "" {
		t.Fatalf("slow reader's welcome: %+v, %v", welcome, err)
	}
	bob := connect(t, ts, "bob", "lobby")
	alice := connect(t, ts, "alice", "lobby")
	bob.Expect("presence")

	// 3-byte characters: about 3 KB a message, 6 MB in all, more than the
	// kernel's socket buffers can hide.
	text := strings.Repeat("€", 990)
	const n = 2000
	for i := 1; i <= n; i++ {
		alice.Send("chat", fmt.Sprint(i), map[string]any{"room": "lobby", "text": fmt.Sprintf("%d %s", i, text)})
		alice.Expect("ack", "presence")
	}
	var seq int64
	for i := 1; i <= n; i++ {
		f := bob.Expect("message", "presence")
		var m msgBody
		f.Decode(t, &m)
		seq++
		if m.Seq != seq {
			t.Fatalf("bob got seq %d, want %d", m.Seq, seq)
		}
	}
	// The slow member was cut off, and the room was told.
	testutil.Eventually(t, 5*time.Second, func() bool {
		return ts.Server.Online(welcome.Body.User.ID) == 0
	}, "slow reader still connected")
	// Reading now drains what the socket holds, then ends.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	var closeErr error
	got := 0
	for closeErr == nil {
		_, _, closeErr = slow.ReadMessage()
		got++
	}
	t.Logf("slow reader drained %d frames, then %v", got, closeErr)
	if ce, ok := closeErr.(*websocket.CloseError); ok && ce.Code != 4008 {
		t.Fatalf("slow reader closed with %d, want 4008 (or a cut connection)", ce.Code)
	}
	if ne, ok := closeErr.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slow reader's connection was not closed")
	}
}

func TestMetricsEndpointCountsTraffic(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	c := connect(t, ts, "alice", "lobby")
	c.Send("chat", "1", map[string]any{"room": "lobby", "text": "counted"})
	c.Expect("ack")
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"parley_connections 1", "parley_store_append_seconds_count 1", "parley_rooms 1", "parley_users_online 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The store's writer reports its commits: at least the chat message's.
	if !regexp.MustCompile(`(?m)^parley_store_commit_writes_sum [1-9]`).Match(body) {
		t.Errorf("/metrics shows no committed writes")
	}
	// And the SQLite store its checkpoints, the first soon after a commit.
	if testutil.Postgres() {
		return // PostgreSQL checkpoints on its own; Parley reports none
	}
	checkpointed := regexp.MustCompile(`(?m)^parley_store_checkpoint_seconds_count\{by="background"\} [1-9]`)
	testutil.Eventually(t, 5*time.Second, func() bool {
		resp, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return checkpointed.Match(body)
	}, "/metrics shows no background checkpoint")
}

// TestBrokerSettingIsRefusedUntilBuilt: a node told to share events through
// NATS must not start as an isolated node instead.
func TestBrokerSettingIsRefusedUntilBuilt(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Broker = "nats://127.0.0.1:4222"
	srv, err := server.New(context.Background(), cfg, server.Options{LogOutput: io.Discard})
	if err == nil {
		srv.Close()
		t.Fatal("server started with --broker set")
	}
	if !strings.Contains(err.Error(), "broker") {
		t.Fatalf("error %q does not name the setting", err)
	}
}

// readyz asks the server's handler directly, so that the answer does not
// depend on the listener, which a shutdown closes first.
func readyz(ts *testutil.TestServer) (int, string) {
	rec := httptest.NewRecorder()
	ts.Server.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	return rec.Code, rec.Body.String()
}

// TestReadyzIsUnavailableWhileDraining: once a shutdown begins, a load
// balancer must stop sending clients, while connections still drain.
func TestReadyzIsUnavailableWhileDraining(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	// A client that never answers the close keeps the drain going for the
	// close grace period.
	stuck, _, err := websocket.DefaultDialer.Dial(ts.WSURL+"/ws?name=stuck", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if code, body := readyz(ts); code != http.StatusOK {
		t.Fatalf("/readyz before the shutdown: %d %s", code, body)
	}
	ts.BeginStop()
	testutil.Eventually(t, testutil.DefaultWait, func() bool {
		code, body := readyz(ts)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "draining")
	}, "/readyz did not answer 503 draining while connections drained")
	if ts.Server.Online(stuckID(t, stuck)) == 0 {
		t.Fatal("the drain was over before /readyz was checked; the test proves nothing")
	}
}

// stuckID reads a raw connection's welcome and returns its user id.
func stuckID(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	var w struct {
		Body struct {
			User struct{ ID string } `json:"user"`
		} `json:"body"`
	}
	if err := c.ReadJSON(&w); err != nil {
		t.Fatal(err)
	}
	return w.Body.User.ID
}

// TestReadyzFollowsTheStore: while the database cannot be reached /readyz
// answers 503, and 200 again once it is back. PostgreSQL only: its
// connections go through a proxy the test cuts.
func TestReadyzFollowsTheStore(t *testing.T) {
	base, err := url.Parse(pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testutil.NewProxy(t, base.Host)
	base.Host = proxy.Addr
	ts := testutil.StartServer(t, func(c *config.Config) { c.DatabaseURL = base.String() })
	if code, body := readyz(ts); code != http.StatusOK {
		t.Fatalf("/readyz with the database up: %d %s", code, body)
	}
	proxy.Cut()
	if code, body := readyz(ts); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("/readyz with the database cut off: %d %s, want 503 naming the store", code, body)
	}
	proxy.Restore(t)
	testutil.Eventually(t, testutil.DefaultWait, func() bool {
		code, _ := readyz(ts)
		return code == http.StatusOK
	}, "/readyz did not recover after the database came back")
}
