package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/natstest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// clusterNode is one node of a test cluster of built binaries.
type clusterNode struct {
	addr, dataDir string
	cmd           *exec.Cmd
}

// cluster starts the nodes of a test cluster on one PostgreSQL schema and
// one NATS, with a short node timeout.
type cluster struct {
	t     *testing.T
	bin   string
	extra []string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	db := pgtest.FreshSchema(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	key := filepath.Join(t.TempDir(), "signing.key")
	return &cluster{t: t, bin: buildParley(t), extra: []string{"--database-url", db, "--broker", natstest.URL(t),
		"--broker-prefix", "parleytest" + hex.EncodeToString(b[:]), "--signing-key-file", key, "--node-timeout", "2s"}}
}

// start runs a node with a data directory of its own.
func (c *cluster) start() *clusterNode {
	c.t.Helper()
	n := &clusterNode{addr: freeAddr(c.t), dataDir: c.t.TempDir()}
	n.cmd = startParleyWith(c.t, c.bin, n.addr, n.dataDir, os.Stderr, c.extra...)
	return n
}

// restart starts n again on its address and data directory.
func (c *cluster) restart(n *clusterNode) {
	c.t.Helper()
	n.cmd = startParleyWith(c.t, c.bin, n.addr, n.dataDir, os.Stderr, c.extra...)
}

// dial opens a WebSocket to path on n (with token, when given) and reads
// the welcome.
func (n *clusterNode) dial(t *testing.T, path string, token string) *testutil.Client {
	t.Helper()
	o := testutil.DialOptions{}
	if token != "" {
		o.Header = testutil.Bearer(token)
	}
	c, _, err := testutil.DialURL(t, "ws://"+n.addr+path, o)
	if err != nil {
		t.Fatal(err)
	}
	c.Welcome()
	return c
}

type presenceFrame struct {
	Event string `json:"event"`
	User  struct {
		ID string `json:"id"`
	} `json:"user"`
}

// TestClusterNodeDeath: a node killed with SIGKILL takes its users out of
// the rooms' presence on the other nodes within the node timeout.
func TestClusterNodeDeath(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.start(), cl.start()
	alice := a.dial(t, "/ws/lobby?name=alice", "")
	alice.Expect("joined")
	bob := b.dial(t, "/ws/lobby?name=bob", "")
	bob.Expect("joined")
	var p presenceFrame
	alice.Expect("presence").Decode(t, &p)

	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	alice.Expect("presence").Decode(t, &p)
	if p.Event != "leave" || p.User.ID != bob.ID() {
		t.Fatalf("alice got %+v, want bob's leave", p)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("bob's leave came %v after his node died; the node timeout is 2s", d)
	}
}

// TestClusterNodeRestart: a node stopped with SIGTERM and started again on
// its data directory, whose users come back, causes no leave and no join
// on the other nodes; one who does not come back leaves after the node
// timeout.
func TestClusterNodeRestart(t *testing.T) {
	cl := newCluster(t)
	a, b := cl.start(), cl.start()
	alice := a.dial(t, "/ws/lobby?name=alice", "")
	alice.Expect("joined")
	bob := b.dial(t, "/ws/lobby?name=bob", "")
	bob.Expect("joined")
	carol := b.dial(t, "/ws/lobby?name=carol", "")
	carol.Expect("joined")
	for range 2 {
		alice.Expect("presence")
	}

	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = b.cmd.Wait()
	cl.restart(b)
	back := b.dial(t, "/ws", bob.Welcomed.GuestToken)
	back.Send("join", "j", map[string]any{"room": "lobby"})
	var jb struct {
		MemberCount int `json:"member_count"`
	}
	back.Expect("joined").Decode(t, &jb)

	// Carol did not come back: after the node timeout she leaves, and bob
	// never did.
	var p presenceFrame
	f := alice.Next()
	if f.Type != "presence" {
		t.Fatalf("alice got %s: %s", f.Type, f.Raw)
	}
	f.Decode(t, &p)
	if p.Event != "leave" || p.User.ID != carol.ID() {
		t.Fatalf("alice got %+v, want carol's leave only (bob came back)", p)
	}
	alice.ExpectNone(500 * time.Millisecond)
	if jb.MemberCount < 2 {
		t.Fatalf("bob's join after the restart counts %d members, want alice and bob at least", jb.MemberCount)
	}
}
