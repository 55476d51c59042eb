package lazyfs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// RequireEnv names the environment variable that, set to 1, makes Mount
// fail rather than skip a test where FUSE cannot be mounted (CI sets it).
const RequireEnv = "PARLEY_TEST_REQUIRE_FUSE"

// FS is one lazy file system: its files live in memory, and survive a
// power cut only as far as they were synced (see the package doc). It can
// be mounted at one directory at a time, and mounted again after a cut to
// show what survived.
type FS struct {
	mu      sync.Mutex
	root    *inode
	nextIno uint64
	cut     bool // the power is off: every operation fails with EIO
	syncs   int  // fsync and fdatasync calls served, for tests

	dir    string
	server *fuse.Server
}

// New returns an empty FS (its root directory is durable).
func New() *FS {
	root := newInode(1, syscall.S_IFDIR|0o755, 0, 0)
	root.nlink = 1
	return &FS{root: root, nextIno: 1}
}

// Mount serves the FS at dir, an existing empty directory, as the file
// system's root. It needs root and /dev/fuse; it calls mount(2) itself
// and never falls back to fusermount.
func (f *FS) Mount(dir string) error {
	f.mu.Lock()
	if f.server != nil {
		f.mu.Unlock()
		return fmt.Errorf("lazyfs: already mounted at %s", f.dir)
	}
	f.cut = false
	f.mu.Unlock()
	// No kernel caching of names or attributes: every lookup and stat
	// comes here, so nothing stale outlives a cut within a mount.
	var zero time.Duration
	server, err := fs.Mount(dir, &node{lfs: f, in: f.root}, &fs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			DirectMountStrict: true,
			FsName:            "lazyfs",
			Name:              "lazyfs",
			DisableXAttrs:     true,
			// Let the kernel keep POSIX and flock locks itself (SQLite
			// and the store's lock file need them; one machine holds
			// them all).
			EnableLocks: false,
			Debug:       os.Getenv("LAZYFS_DEBUG") == "1",
		},
	})
	if err != nil {
		return fmt.Errorf("lazyfs: mount at %s: %w", dir, err)
	}
	f.mu.Lock()
	f.dir, f.server = dir, server
	f.mu.Unlock()
	return nil
}

// Cut cuts the power: from now on every operation on the mount fails with
// EIO, and everything not durable is forgotten. Kill the processes using
// the mount, Unmount it and Mount it again to see what survived.
func (f *FS) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = true
	restore(f.root)
}

// Syncs returns how many fsync and fdatasync calls the FS has served.
func (f *FS) Syncs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs
}

// Unmount unmounts the FS, waiting up to 10 s for the processes using it
// to let go (a killed process closes its files as it dies). Unmounting
// without a Cut loses nothing: it is a clean shutdown, and the next Mount
// shows every file as it was.
func (f *FS) Unmount() error {
	f.mu.Lock()
	server, dir := f.server, f.dir
	f.mu.Unlock()
	if server == nil {
		return nil
	}
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err = server.Unmount(); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		// Detach it anyway, so that a test's clean-up is not left with a
		// mount it cannot remove; its server ends when the last file on
		// it is closed.
		derr := syscall.Unmount(dir, syscall.MNT_DETACH)
		f.mu.Lock()
		f.server, f.dir = nil, ""
		f.mu.Unlock()
		return fmt.Errorf("lazyfs: unmount %s: files still open after 10s: %w (detached: %v)", dir, err, derr)
	}
	server.Wait()
	f.mu.Lock()
	f.server, f.dir = nil, ""
	f.mu.Unlock()
	return nil
}

// Available reports why FUSE cannot be mounted here, or nil if it can be
// tried: it needs /dev/fuse and root.
func Available() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("no /dev/fuse: %w", err)
	}
	if os.Geteuid() != 0 {
		return errors.New("not root: mount(2) of a FUSE file system needs root")
	}
	return nil
}

// Mount mounts a new FS in a temporary directory for the test and returns
// it with its mount point, unmounting it when the test ends. Where FUSE is
// unavailable it skips the test, or fails it when RequireEnv is 1.
func Mount(t testing.TB) (*FS, string) {
	t.Helper()
	unavailable := func(err error) {
		t.Helper()
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("lazyfs: FUSE is required (%s=1) but unavailable: %v", RequireEnv, err)
		}
		t.Skipf("lazyfs: FUSE unavailable, skipping (set %s=1 to fail instead): %v", RequireEnv, err)
	}
	if err := Available(); err != nil {
		unavailable(err)
	}
	dir := t.TempDir()
	f := New()
	if err := f.Mount(dir); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENODEV) {
			unavailable(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return f, dir
}

// PowerCycle cuts the power, runs kill (which must end every process using
// the mount, or be nil when there is none), unmounts and mounts the FS
// again at the same place, failing the test on any error.
func (f *FS) PowerCycle(t testing.TB, kill func()) {
	t.Helper()
	f.mu.Lock()
	dir := f.dir
	f.mu.Unlock()
	f.Cut()
	if kill != nil {
		kill()
	}
	if err := f.Unmount(); err != nil {
		t.Fatal(err)
	}
	if err := f.Mount(dir); err != nil {
		t.Fatal(err)
	}
}
