// Package natstest gives tests a NATS server: the machine's own when
// PARLEY_TEST_NATS_URL names one (as .ci/run does), otherwise one embedded
// in the test process on a free loopback port.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EnvURL names the environment variable with a NATS URL for tests.
const EnvURL = "PARLEY_TEST_NATS_URL"

// URL returns the URL of a NATS server for tb: PARLEY_TEST_NATS_URL, or an
// embedded server that stops when tb ends. Tests share the machine's NATS,
// so they keep apart with subject prefixes of their own.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return Start(tb).ClientURL()
}

// Start runs an embedded NATS server on a free loopback port until tb
// ends; tests that stop and start NATS use it directly.
func Start(tb testing.TB) *server.Server {
	tb.Helper()
	return StartAt(tb, -1)
}

// StartAt runs an embedded NATS server on port (-1: a free one), for a
// restart on the port an earlier one had.
func StartAt(tb testing.TB, port int) *server.Server {
	tb.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		tb.Fatal("natstest: the embedded NATS server did not start")
	}
	tb.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}
