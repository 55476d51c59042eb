package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/natstest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// startCluster starts n nodes in this process on one PostgreSQL schema and
// one NATS, as a cluster of processes would run: the same database, the
// same signing key, the same subject prefix, a data directory each.
func startCluster(t *testing.T, n int) []*testutil.TestServer {
	t.Helper()
	return startClusterWith(t, n, nil)
}

// startClusterWith is startCluster with every node's settings changed by
// mutate.
func startClusterWith(t *testing.T, n int, mutate func(*config.Config)) []*testutil.TestServer {
	t.Helper()
	return startClusterOn(t, n, natstest.URL(t), mutate)
}

// startClusterOn is startClusterWith on the NATS at nats.
func startClusterOn(t *testing.T, n int, nats string, mutate func(*config.Config)) []*testutil.TestServer {
	t.Helper()
	db := pgtest.FreshSchema(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "parleytest" + hex.EncodeToString(b[:])
	key := filepath.Join(t.TempDir(), "signing.key")
	nodes := make([]*testutil.TestServer, n)
	for i := range nodes {
		nodes[i] = testutil.StartServer(t, func(c *config.Config) {
			c.DatabaseURL = db
			c.Broker = nats
			c.BrokerPrefix = prefix
			c.SigningKeyFile = key
			c.RateMessages, c.RateBurst = 10_000, 10_000
			testutil.WithoutUserLimits(c)
			if mutate != nil {
				mutate(c)
			}
		})
	}
	return nodes
}

// TestClusterChat: users connected to different nodes share rooms as if
// on one server: messages both ways, typing, private messages, a guest
// coming back through another node, and an API post on a third.
func TestClusterChat(t *testing.T) {
	nodes := startCluster(t, 3)
	a, b := nodes[0], nodes[1]
	alice := connect(t, a, "alice", "lobby")
	bob := connect(t, b, "bob", "lobby")

	alice.Send("chat", "1", map[string]any{"room": "lobby", "text": "hi from node a"})
	alice.Expect("ack", "presence")
	var m msgBody
	bob.Expect("message", "presence").Decode(t, &m)
	if m.Text != "hi from node a" || m.From.Name != "alice" || m.Seq != 1 {
		t.Fatalf("bob on node b got %+v", m)
	}
	bob.Send("chat", "2", map[string]any{"room": "lobby", "text": "hi from node b"})
	bob.Expect("ack", "presence")
	alice.Expect("message", "presence").Decode(t, &m)
	if m.Text != "hi from node b" || m.Seq != 2 {
		t.Fatalf("alice on node a got %+v", m)
	}

	bob.Send("typing", "", map[string]any{"room": "lobby", "state": "start"})
	alice.Expect("typing", "presence")

	// Accounts made on one node sign in on another; a private message
	// crosses to wherever its recipient is connected.
	_, carol := register(t, a, "carol")
	_, dave := register(t, nodes[2], "dave")
	cc := b.DialToken(t, "/ws", carol)
	dc := a.DialToken(t, "/ws", dave)
	cc.Send("private", "p", map[string]any{"to": dc.ID(), "text": "psst"})
	cc.Expect("ack", "unread")
	dc.Expect("private", "unread").Decode(t, &m)
	if m.Text != "psst" || m.From.Name != "carol" {
		t.Fatalf("dave's private message: %+v", m)
	}

	// Alice's connection moves to node c with her guest token; she is the
	// same user there and recovers what she missed.
	alice.Close()
	bob.Send("chat", "3", map[string]any{"room": "lobby", "text": "while you moved"})
	bob.Expect("ack", "presence", "typing")
	moved := nodes[2].DialAgain(t, "/ws", alice)
	moved.Send("join", "j", map[string]any{"room": "lobby", "since": 2})
	moved.Expect("joined", "presence")
	moved.Expect("message", "presence").Decode(t, &m)
	if m.Text != "while you moved" || m.Seq != 3 {
		t.Fatalf("alice on node c recovered %+v", m)
	}
}

// TestClusterOneOrder: writers on every node into one room at once; every
// reader, on every node, sees the same gap-free order, each message once.
func TestClusterOneOrder(t *testing.T) {
	nodes := startCluster(t, 3)
	const perWriter = 40
	var readers, writers []*testutil.Client
	for i, n := range nodes {
		readers = append(readers, connect(t, n, fmt.Sprintf("reader%d", i), "race"))
	}
	for i, n := range nodes {
		writers = append(writers, connect(t, n, fmt.Sprintf("writer%d", i), "race"))
	}
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Go(func() {
			for k := range perWriter {
				w.Send("chat", fmt.Sprint(k), map[string]any{"room": "race", "text": fmt.Sprintf("w%d-%d", i, k)})
			}
		})
	}
	wg.Wait()
	total := perWriter * len(writers)
	var orders [][]string
	for i, r := range readers {
		var order []string
		for len(order) < total {
			f := r.Next()
			if f.Type != "message" {
				continue
			}
			var m msgBody
			f.Decode(t, &m)
			if m.Seq != int64(len(order)+1) {
				t.Fatalf("reader %d got seq %d after %d messages: a gap or a repeat", i, m.Seq, len(order))
			}
			order = append(order, m.Text)
		}
		orders = append(orders, order)
	}
	for i := 1; i < len(orders); i++ {
		for k := range orders[i] {
			if orders[i][k] != orders[0][k] {
				t.Fatalf("readers 0 and %d disagree at seq %d: %q and %q", i, k+1, orders[0][k], orders[i][k])
			}
		}
	}
}

// TestClusterPresence: presence and member lists span the nodes — a user
// on two nodes is one member, who leaves only when their last connection
// anywhere does — and the per-user connection limit counts every node.
func TestClusterPresence(t *testing.T) {
	nodes := startClusterWith(t, 2, func(c *config.Config) { c.MaxConnsPerUser = 2 })
	a, b := nodes[0], nodes[1]
	alice := connect(t, a, "alice", "")
	if jb := join(t, alice, "lobby"); jb.MemberCount != 1 || len(jb.Members) != 1 {
		t.Fatalf("alice alone in lobby: %+v", jb)
	}
	bob := connect(t, b, "bob", "")
	jb := join(t, bob, "lobby")
	if jb.MemberCount != 2 || len(jb.Members) != 2 {
		t.Fatalf("bob on node b sees %+v, want alice (node a) and himself", jb)
	}
	var p presenceBody
	alice.Expect("presence").Decode(t, &p)
	if p.Event != "join" || p.User.ID != bob.ID() {
		t.Fatalf("alice got %+v, want bob's join", p)
	}

	// Bob opens a second connection, on node a: no news for alice.
	bob2 := again(t, a, bob, "lobby")
	alice.ExpectNone(200 * time.Millisecond)
	// A third connection, anywhere, is over his limit of two.
	third, _, err := b.DialWith(t, "/ws", testutil.DialOptions{Header: testutil.Bearer(bob.Welcomed.GuestToken)})
	if err != nil {
		t.Fatal(err)
	}
	if code := third.ExpectClose(); code != 4009 {
		t.Fatalf("bob's third connection closed with %d, want 4009 (too many connections)", code)
	}

	// Bob's connection on node b goes: he is still in the room (node a).
	bob.Close()
	alice.ExpectNone(300 * time.Millisecond)
	bob2.Close()
	alice.Expect("presence").Decode(t, &p)
	if p.Event != "leave" || p.User.ID != bob.ID() {
		t.Fatalf("alice got %+v, want bob's leave", p)
	}
}

// TestClusterNATSRestart: with NATS gone, each node keeps serving its own
// clients and stores what they send, and says it is not ready; when NATS
// is back, what was stored meanwhile reaches the other nodes' clients, in
// order, within 5 s, and live traffic crosses again.
func TestClusterNATSRestart(t *testing.T) {
	nats := natstest.Start(t)
	_, portText, _ := net.SplitHostPort(nats.Addr().String())
	port, _ := strconv.Atoi(portText)
	nodes := startClusterOn(t, 2, nats.ClientURL(), nil)
	a, b := nodes[0], nodes[1]
	alice := connect(t, a, "alice", "lobby")
	bob := connect(t, b, "bob", "lobby")
	alice.Expect("presence")

	nats.Shutdown()
	nats.WaitForShutdown()
	testutil.Eventually(t, 10*time.Second, func() bool { return readyStatus(t, b) == 503 },
		"node b still says it is ready with NATS gone")
	for i := range 3 {
		bob.Send("chat", fmt.Sprint(i), map[string]any{"room": "lobby", "text": fmt.Sprint("during ", i)})
		bob.Expect("ack")
	}
	back := time.Now()
	natstest.StartAt(t, port)
	for i := range 3 {
		var m msgBody
		alice.Expect("message", "presence").Decode(t, &m)
		if m.Text != fmt.Sprint("during ", i) || m.Seq != int64(i+1) {
			t.Fatalf("alice got %+v, want message %d sent while NATS was down", m, i+1)
		}
	}
	if d := time.Since(back); d > 5*time.Second {
		t.Fatalf("the messages sent during the outage took %v after NATS returned", d)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return readyStatus(t, b) == 200 },
		"node b is not ready again after NATS returned")
	bob.Send("chat", "after", map[string]any{"room": "lobby", "text": "after"})
	bob.Expect("ack")
	var m msgBody
	alice.Expect("message", "presence").Decode(t, &m)
	if m.Text != "after" || m.Seq != 4 {
		t.Fatalf("alice got %+v after NATS returned, want seq 4", m)
	}
}

// readyStatus is a node's /readyz status.
func readyStatus(t *testing.T, ts *testutil.TestServer) int {
	t.Helper()
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
