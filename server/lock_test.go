package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/server"
)

// TestSecondServerOnOneDatabaseIsRefused: while one server holds a data
// directory's database, a second refuses to start, naming the database
// and the setting to change; once the first closes, a new one starts.
func TestSecondServerOnOneDatabaseIsRefused(t *testing.T) {
	cfg := startupConfig(t)
	first, err := server.New(context.Background(), cfg, server.Options{LogOutput: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	err, _ = newServer(t, cfg)
	if err == nil {
		first.Close()
		t.Fatal("a second server started on the same data directory")
	}
	db := filepath.Join(cfg.DataDir, "parley.db")
	for _, want := range []string{db, "already in use by another parley serve", "process ", "--data-dir", db + ".lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	cfg2 := cfg
	cfg2.DatabaseURL = "sqlite:" + db
	if err, _ := newServer(t, cfg2); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Errorf("the same database by URL: %v, want a refusal naming --database-url", err)
	}

	first.Close()
	if err, _ := newServer(t, cfg); err != nil {
		t.Fatalf("after the first server closed: %v", err)
	}
}

// testWriter sends a server's logs to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
