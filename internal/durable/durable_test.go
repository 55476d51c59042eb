package durable

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// The power-loss tests (internal/testutil/lazyfs, cmd/parley) show that
// SyncDir makes entries durable; these show what it answers.

func TestSyncDirOfADirectory(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatalf("SyncDir of a fresh directory: %v", err)
	}
}

func TestSyncDirNamesTheMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	err := SyncDir(dir)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("SyncDir(%s) = %v, want an error wrapping fs.ErrNotExist that names the directory", dir, err)
	}
}
