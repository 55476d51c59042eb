package testutil

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
	"github.com/parley-chat/parley/server"
)

// TestServer is a real Parley server serving on a loopback port.
type TestServer struct {
	// URL is the base HTTP URL, like http://127.0.0.1:41234.
	URL string
	// WSURL is the base WebSocket URL, like ws://127.0.0.1:41234.
	WSURL string
	// Server is the running server.
	Server *server.Server
	// Config is the configuration it runs with.
	Config config.Config

	cancel context.CancelFunc
	done   chan error
}

// EnvStore names the variable that picks the store of every server a test
// starts with StartServer: "sqlite" (the default) or "postgres" (a fresh
// schema on PARLEY_TEST_POSTGRES_URL for each server). CI runs the
// server-level suites once with each, so a fault that only one store shows
// in the hub, the API or the client cannot pass.
const EnvStore = "PARLEY_TEST_STORE"

// Postgres reports whether StartServer's servers use PostgreSQL, for the
// few tests about something only SQLite has (its checkpoints, say).
func Postgres() bool { return os.Getenv(EnvStore) == "postgres" }

// StartServer starts a server with test defaults (the store EnvStore picks,
// SQLite in a temporary directory unless told otherwise; guests allowed,
// and allowed to create rooms by joining them; quiet logs) changed by
// mutate, and stops it when the test ends.
func StartServer(tb testing.TB, mutate func(*config.Config)) *TestServer {
	tb.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	switch os.Getenv(EnvStore) {
	case "", "sqlite":
	case "postgres":
		if os.Getenv(pgtest.EnvURL) == "" {
			tb.Fatalf("%s=postgres needs %s", EnvStore, pgtest.EnvURL)
		}
		cfg.DatabaseURL = pgtest.FreshSchema(tb)
	default:
		tb.Fatalf("%s=%q: want sqlite or postgres", EnvStore, os.Getenv(EnvStore))
	}
	cfg.Guests = true
	cfg.RoomCreation = "anyone"
	cfg.LogLevel = "warn"
	cfg.ShutdownTimeout = 5 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{LogOutput: testWriter{tb}})
	if err != nil {
		cancel()
		tb.Fatalf("start server: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		cancel()
		srv.Close()
		tb.Fatalf("listen: %v", err)
	}
	ts := &TestServer{
		URL:    "http://" + ln.Addr().String(),
		WSURL:  "ws://" + ln.Addr().String(),
		Server: srv,
		Config: cfg,
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() { ts.Stop(tb) })
	return ts
}

// BeginStop starts a graceful shutdown, as SIGTERM does, without waiting
// for it; Stop (or the test's end) waits.
func (ts *TestServer) BeginStop() { ts.cancel() }

// Stop shuts the server down gracefully and waits for it; it returns what
// Serve returned. Calling it again returns nil at once.
func (ts *TestServer) Stop(tb testing.TB) error {
	tb.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok {
			close(ts.done)
		}
		return err
	case <-time.After(15 * time.Second):
		tb.Fatalf("server did not stop within 15s")
		return nil
	}
}

// testWriter sends server logs to the test log, so they show only when a
// test fails or runs with -v.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// EachStore runs test once for each store a server can use, as subtests
// named "sqlite" and "postgres", so that a server-level behaviour is held on
// both backends. useStore points a configuration at a new, empty database
// of the subtest's store: call it from StartServer's mutate. The PostgreSQL
// run (a fresh schema for each call of useStore) skips, saying how to run
// it, when PARLEY_TEST_POSTGRES_URL is unset; SQLite needs nothing, as each
// server gets a data directory of its own.
func EachStore(t *testing.T, test func(t *testing.T, useStore func(*config.Config))) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		test(t, func(*config.Config) {})
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.EnvURL) == "" {
			pgtest.FreshSchema(t) // skips with the how-to
		}
		test(t, func(c *config.Config) { c.DatabaseURL = pgtest.FreshSchema(t) })
	})
}

// OpenStore opens a second handle on the server's database, as the
// command line would, and closes it when the test ends.
func (ts *TestServer) OpenStore(tb testing.TB) store.Store {
	tb.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch driver, dsn := ts.Config.DatabaseDSN(); driver {
	case config.DriverPostgres:
		st, err = postgres.Open(ctx, dsn, nil)
	default:
		st, err = sqlite.Open(ctx, dsn, nil)
	}
	if err != nil {
		tb.Fatalf("open the server's store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// SetAdmin gives the account userID the server admin flag, as an operator
// would with the command line. Tokens issued afterwards carry it (sign in
// again).
func (ts *TestServer) SetAdmin(tb testing.TB, userID string) {
	tb.Helper()
	if err := ts.OpenStore(tb).SetAdmin(context.Background(), userID, true); err != nil {
		tb.Fatalf("make %s an admin: %v", userID, err)
	}
}

// WithoutUserLimits lifts the rate limits that follow a user or an address
// across connections, for tests that send faster than a person to test
// something else (and open many connections from one address): each
// connection's own rate-messages still applies.
func WithoutUserLimits(c *config.Config) {
	c.UserRateMessages, c.UserRateJoins = 0, 0
	c.AddressRateMessages, c.AddressRateJoins = 0, 0
	c.RoomCreateRate = 0
}
