package auth

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/testutil/lazyfs"
)

// TestCreatedKeySurvivesPowerLoss: a key LoadOrCreateKey has returned is
// durable, name and content, so that tokens signed with it stay valid
// after a power cut. It runs on lazyfs, which forgets unsynced data and
// directory entries on a cut.
func TestCreatedKeySurvivesPowerLoss(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	path := filepath.Join(dir, "jwt.key")
	key, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey = %v, created %v", err, created)
	}
	lfs.PowerCycle(t, nil)
	got, err := LoadKey(path)
	if err != nil {
		t.Fatalf("after a power cut: %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Fatalf("after a power cut the key is %x, want %x", got, key)
	}
}
