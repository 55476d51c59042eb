package bench

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/natstest"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// startBenchCluster starts n in-process nodes on one fresh PostgreSQL
// schema and the test NATS, with the limits the tool's own server gets.
func startBenchCluster(t *testing.T, n int) []*testutil.TestServer {
	t.Helper()
	db := pgtest.FreshSchema(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	prefix := "benchtest" + hex.EncodeToString(b[:])
	key := filepath.Join(t.TempDir(), "signing.key")
	nats := natstest.URL(t)
	nodes := make([]*testutil.TestServer, n)
	for i := range nodes {
		nodes[i] = testutil.StartServer(t, func(c *config.Config) {
			c.DatabaseURL, c.Broker, c.BrokerPrefix, c.SigningKeyFile = db, nats, prefix, key
			c.RateMessages, c.RateBurst, c.MaxConnsPerUser = 100000, 100000, 100000
		})
	}
	return nodes
}
