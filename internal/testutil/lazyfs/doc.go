// Package lazyfs is a test-only FUSE file system that loses, on a simulated
// power cut, everything that was not flushed to "disk" — as Jepsen's LazyFS
// does. A SIGKILL cannot show whether a program syncs what it promises is
// durable: the kernel's page cache outlives the process. On lazyfs, the
// page cache is the FS's memory, and a power cut (FS.Cut) throws it away.
//
// # The model: what counts as durable
//
// Every inode (file or directory) has a current state, which every process
// sees, and a durable state, which is all a power cut leaves:
//
//   - A regular file's data and length become durable when the file itself
//     is synced: fsync(2) or fdatasync(2) on any descriptor of it. write(2),
//     close(2), and the end of the writing process make nothing durable.
//     Both calls make the whole file durable, including its mode and owner;
//     timestamps are not modelled.
//   - A directory's entries — names created by open(O_CREAT), mkdir, link
//     and rename, and names removed by unlink, rmdir and rename — become
//     durable only when that directory is synced (fsync of a descriptor
//     opened on the directory). A sync makes all of the directory's
//     entries durable at once, as it does on ext4; it makes nothing of the
//     files they name durable, nor the directory's own name in its parent.
//   - A new file's or directory's name is therefore durable only after its
//     parent directory is synced, and its data only after it is synced
//     itself. A file whose data was synced but whose name was not vanishes
//     in a cut; a name made durable before the file's data was synced comes
//     back naming an empty file (the zero-length file of ext4 after a
//     crash).
//   - A rename is durable in each of the two directories when that one is
//     synced; between the two syncs a cut may leave the file under both
//     names or under neither, a stricter view than any one file system
//     gives, which is the point.
//   - The root directory always exists.
//
// The cut is instantaneous: every operation takes one mutex, so each
// happened entirely before the cut or not at all, and after it every
// operation fails with EIO until the FS is unmounted and mounted again.
// A sync that returned success before the cut is therefore durable, and
// one that had not returned never succeeds: an acknowledgement that waited
// for its sync is sound exactly when what it acknowledges survives.
//
// Not modelled: torn writes within a page (a write is atomic, and so is a
// sync), reordering of synced data (what was synced is all there), disk
// errors, permissions (every access is allowed), symbolic links, extended
// attributes. Files live entirely in memory: lazyfs is for test data
// directories of a few hundred MiB at most.
//
// Locks (flock and POSIX record locks) are kept by the kernel, not passed
// to the FS, which is right for processes of one machine. Shared writable
// mmap works through the kernel's page cache (SQLite's -shm file uses it);
// dirty mapped pages reach the FS when the kernel writes them back, and
// are synced with the file like any write.
//
// # Use
//
// Run the program under test as its own process, as the power-loss tests
// of cmd/parley do, and read its files from the test only with read(2)
// and write(2), or copies: a process that maps a file of a mount it
// serves itself (SQLite maps its -shm file) can deadlock, since a page
// fault on the map waits for a FUSE server that the Go runtime may have
// stopped to collect garbage.
//
// Mount needs root and /dev/fuse (it calls mount(2) itself; fusermount is
// not needed). The Mount helper for tests skips where FUSE is unavailable,
// and fails instead when PARLEY_TEST_REQUIRE_FUSE=1, as in CI:
//
//	lfs, dir := lazyfs.Mount(t)
//	// ... run the program on dir, recording what it acknowledged ...
//	lfs.PowerCycle(t, func() { proc.Process.Kill(); proc.Wait() })
//	// ... dir now holds only what was durable at the cut ...
package lazyfs
