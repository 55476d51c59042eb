package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/natstest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestClusterRowsHealAfterTheStoreComesBack: connections that open and
// close while a node cannot reach PostgreSQL leave its rows wrong (counts
// and presence); once PostgreSQL is back, the node's heartbeat rewrites
// them from its memory, so the store matches the truth again within a
// heartbeat or two, with no client doing anything.
func TestClusterRowsHealAfterTheStoreComesBack(t *testing.T) {
	db := pgtest.FreshSchema(t)
	base, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testutil.NewProxy(t, base.Host)
	base.Host = proxy.Addr
	key := filepath.Join(t.TempDir(), "signing.key")
	var b [4]byte
	_, _ = rand.Read(b[:])
	node := testutil.StartServer(t, func(c *config.Config) {
		c.DatabaseURL = base.String()
		c.Broker = natstest.URL(t)
		c.BrokerPrefix = "parleytest" + hex.EncodeToString(b[:])
		c.SigningKeyFile = key
		c.NodeTimeout = 2 * time.Second // a heartbeat every 400ms
		c.RateMessages, c.RateBurst = 10_000, 10_000
		testutil.WithoutUserLimits(c)
	})
	direct, err := postgres.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.Close() })

	const n = 6
	users := make([]*testutil.Client, n)
	for i := range users {
		users[i] = connect(t, node, fmt.Sprint("healer", i), "lobby")
	}
	want := func(i int, conns int) bool {
		got, err := direct.Connections(context.Background(), users[i].ID())
		return err == nil && got == conns
	}
	testutil.Eventually(t, testutil.DefaultWait, func() bool { return want(0, 1) && want(n-1, 1) },
		"the node's connections never reached the store")

	// Cut off, half the users leave and the others open a second
	// connection: none of it reaches the store.
	proxy.Cut()
	for i := range n / 2 {
		users[i].Close()
	}
	for i := n / 2; i < n; i++ {
		again(t, node, users[i], "")
	}
	time.Sleep(500 * time.Millisecond) // a heartbeat or so, failing
	proxy.Restore(t)

	testutil.Eventually(t, 10*time.Second, func() bool {
		for i := range n {
			if !want(i, map[bool]int{true: 0, false: 2}[i < n/2]) {
				return false
			}
		}
		_, total, err := direct.RoomPresence(context.Background(), "lobby", 10)
		return err == nil && total == n/2
	}, "the store's counts and presence did not come back to the truth after PostgreSQL did")
}
