// Package pgtest gives tests a fresh PostgreSQL schema on the server named by
// PARLEY_TEST_POSTGRES_URL, and skips them with a how-to message when it is
// not set.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the variable that points the tests at a PostgreSQL server.
const EnvURL = "PARLEY_TEST_POSTGRES_URL"

// FreshSchema creates an empty schema for the test, drops it when the test
// ends, and returns a URL whose connections use it (search_path).
func FreshSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		tb.Skip("PostgreSQL tests skipped: set " + EnvURL + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	ctx := context.Background()
	// Parse as a pool URL so pool_* settings in it are understood (and not
	// sent to the server as run-time parameters).
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	admin, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvURL, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "parley_test_" + hex.EncodeToString(b[:])
	// schema is made of hex digits only, so building the statement is safe;
	// identifiers cannot be bound as parameters.
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	// Unknown URL parameters become run-time parameters of each
	// connection, so every pooled connection gets this search_path.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
