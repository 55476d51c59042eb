package lazyfs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/parley-chat/parley/internal/testutil/lazyfs"
)

func write(t *testing.T, path string, data []byte, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

func wantContent(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("after the cut: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("after the cut %s holds %q, want %q", path, got, want)
	}
}

func wantMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the cut %s: stat gave %v, want it gone", path, err)
	}
}

func TestSyncedDataSurvivesUnsyncedVanishes(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "f")
	write(t, p, []byte("durable "), true)
	syncDir(t, dir)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantContent(t, p, []byte("durable lost")) // visible before the cut
	lfs.PowerCycle(t, nil)
	wantContent(t, p, []byte("durable "))
}

func TestFdatasyncMakesDataDurable(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "f")
	write(t, p, nil, false)
	syncDir(t, dir)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 3000) // several pages
	if _, err := f.WriteAt(big, 100); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XX"), 5000); err != nil { // not synced
		t.Fatal(err)
	}
	f.Close()
	lfs.PowerCycle(t, nil)
	wantContent(t, p, append(make([]byte, 100), big...))
}

func TestCreatedFileWithoutDirSyncVanishes(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "new")
	write(t, p, []byte("synced data, unsynced name"), true)
	lfs.PowerCycle(t, nil)
	wantMissing(t, p)
}

func TestDirSyncWithoutFileSyncLeavesEmptyFile(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "new")
	write(t, p, []byte("unsynced data"), false)
	syncDir(t, dir)
	lfs.PowerCycle(t, nil)
	wantContent(t, p, []byte{})
}

func TestMkdirWithoutParentSyncVanishes(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(sub, "f"), []byte("x"), true)
	syncDir(t, sub) // the file's name is durable in sub, but sub is not
	lfs.PowerCycle(t, nil)
	wantMissing(t, sub)

	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(sub, "f"), []byte("x"), true)
	syncDir(t, sub)
	syncDir(t, dir)
	lfs.PowerCycle(t, nil)
	wantContent(t, filepath.Join(sub, "f"), []byte("x"))
}

func TestRenameNeedsDirSync(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	tmp, final := filepath.Join(dir, "tmp"), filepath.Join(dir, "final")
	write(t, tmp, []byte("v1"), true)
	syncDir(t, dir)
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	lfs.PowerCycle(t, nil)
	wantMissing(t, final)
	wantContent(t, tmp, []byte("v1"))

	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	syncDir(t, dir)
	lfs.PowerCycle(t, nil)
	wantMissing(t, tmp)
	wantContent(t, final, []byte("v1"))
}

func TestLinkAndUnlinkNeedDirSync(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write(t, a, []byte("key"), true)
	syncDir(t, dir)
	if err := os.Link(a, b); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	lfs.PowerCycle(t, nil)
	wantContent(t, a, []byte("key"))
	wantMissing(t, b)

	if err := os.Link(a, b); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	syncDir(t, dir)
	lfs.PowerCycle(t, nil)
	wantMissing(t, a)
	wantContent(t, b, []byte("key"))
}

func TestTruncateAndRegrow(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "f")
	write(t, p, bytes.Repeat([]byte{'a'}, 10000), true)
	syncDir(t, dir)
	if err := os.Truncate(p, 10); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("b"), 9000); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := make([]byte, 9001)
	copy(want, bytes.Repeat([]byte{'a'}, 10))
	want[9000] = 'b'
	lfs.PowerCycle(t, nil)
	wantContent(t, p, want)
}

func TestEverythingFailsAfterTheCut(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lfs.Cut()
	if _, err := f.Write([]byte("x")); !errors.Is(err, syscall.EIO) {
		t.Errorf("write after the cut: %v, want EIO", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Errorf("fsync after the cut: %v, want EIO", err)
	}
	if _, err := os.Create(filepath.Join(dir, "g")); !errors.Is(err, syscall.EIO) {
		t.Errorf("create after the cut: %v, want EIO", err)
	}
	f.Close()
	if err := lfs.Unmount(); err != nil {
		t.Fatal(err)
	}
	if err := lfs.Mount(dir); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, p)
}

func TestCleanUnmountKeepsEverything(t *testing.T) {
	lfs, dir := lazyfs.Mount(t)
	p := filepath.Join(dir, "f")
	write(t, p, []byte("never synced"), false)
	if err := lfs.Unmount(); err != nil {
		t.Fatal(err)
	}
	if err := lfs.Mount(dir); err != nil {
		t.Fatal(err)
	}
	wantContent(t, p, []byte("never synced"))
}
