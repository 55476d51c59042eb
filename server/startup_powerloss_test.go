package server_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/testutil/lazyfs"
)

// TestFirstStartSurvivesPowerLoss: what the first start creates — the data
// directory, the signing key and the database — is durable once the server
// has started, names and all. It runs on lazyfs, which forgets unsynced
// data and directory entries on a power cut. (The server is closed before
// the cut, so that no file is open on the mount; closing syncs the
// database but none of the directories.)
func TestFirstStartSurvivesPowerLoss(t *testing.T) {
	lfs, mnt := lazyfs.Mount(t)
	cfg := startupConfig(t)
	cfg.DataDir = filepath.Join(mnt, "data")
	if err, logs := newServer(t, cfg); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	keyPath := filepath.Join(cfg.DataDir, "signing.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	lfs.PowerCycle(t, nil)
	for _, p := range []string{cfg.DataDir, keyPath, filepath.Join(cfg.DataDir, "parley.db")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after a power cut: %v", err)
		}
	}
	if got, err := os.ReadFile(keyPath); err == nil && !bytes.Equal(got, key) {
		t.Errorf("after a power cut the key file holds %q, want %q", got, key)
	}
	if t.Failed() {
		t.FailNow()
	}
	if err, logs := newServer(t, cfg); err != nil {
		t.Fatalf("restart after a power cut: %v\n%s", err, logs)
	}
}
