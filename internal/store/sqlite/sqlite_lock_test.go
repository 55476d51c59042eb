package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockRefusesASecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	if err := Locked(path); err != nil {
		t.Fatalf("Locked with no lock file: %v", err)
	}
	l, err := AcquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	// A second open file, as another process would have: flock locks
	// belong to the open file, so this is refused in-process too.
	_, err = AcquireLock(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second AcquireLock: %v, want ErrLocked", err)
	}
	pid := "process " + strconv.Itoa(os.Getpid())
	if !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), LockPath(path)) {
		t.Errorf("error %q does not name %s and the lock file", err, pid)
	}
	if err := Locked(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("Locked while held: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if err := Locked(path); err != nil {
		t.Fatalf("Locked after release: %v", err)
	}
	l2, err := AcquireLock(path)
	if err != nil {
		t.Fatalf("AcquireLock after release: %v", err)
	}
	l2.Release()
}
