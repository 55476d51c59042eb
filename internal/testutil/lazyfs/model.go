package lazyfs

import (
	"maps"
	"syscall"
	"time"
)

// pageSize is the unit in which a file's unsynced changes are tracked: a
// sync copies only the pages written since the last one, so that SQLite's
// fdatasync of a long WAL after every commit costs what the commit wrote,
// not the file's length.
const pageSize = 4096

// inode is one file or directory of the model. Every field is guarded by
// the FS's mutex. cur is what a process sees now; dur is what a power cut
// leaves (see doc.go).
type inode struct {
	ino  uint64
	mode uint32 // S_IFREG or S_IFDIR, and the permission bits
	uid  uint32
	gid  uint32
	// mtime is kept for stat only; timestamps are not part of the model.
	mtime time.Time
	nlink uint32 // names in current directories that point here

	// Regular files.
	data    []byte
	dirty   map[int64]struct{} // pages of data changed since the last sync
	durData []byte

	// Directories.
	entries    map[string]*inode
	durEntries map[string]*inode

	// The metadata a sync makes durable.
	durMode uint32
	durUID  uint32
	durGID  uint32
}

func (in *inode) isDir() bool { return in.mode&syscall.S_IFMT == syscall.S_IFDIR }

// newInode returns a file or directory as a create or mkdir makes it. Its
// metadata counts as durable from the start, so that an entry made durable
// by a directory sync points at a file of the mode it was created with
// (and no data, until the file itself is synced).
func newInode(ino uint64, mode, uid, gid uint32) *inode {
	in := &inode{ino: ino, mode: mode, uid: uid, gid: gid, mtime: time.Now(),
		durMode: mode, durUID: uid, durGID: gid}
	if in.isDir() {
		in.entries = map[string]*inode{}
		in.durEntries = map[string]*inode{}
	} else {
		in.dirty = map[int64]struct{}{}
	}
	return in
}

// markDirty records that bytes [from, to) of the file changed.
func (in *inode) markDirty(from, to int64) {
	for p := from / pageSize; p*pageSize < to; p++ {
		in.dirty[p] = struct{}{}
	}
}

// resize makes the file size bytes long, the new bytes zero.
func (in *inode) resize(size int64) {
	old := int64(len(in.data))
	switch {
	case size < old:
		in.data = in.data[:size]
		in.markDirty(size, size+1) // the page the file now ends in
	case size > old:
		if int64(cap(in.data)) >= size {
			in.data = in.data[:size]
			clear(in.data[old:])
		} else {
			grown := make([]byte, size, max(size, 2*old))
			copy(grown, in.data)
			in.data = grown
		}
		in.markDirty(old, size)
	}
}

// write stores p at off, growing the file as needed.
func (in *inode) write(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(in.data)) {
		in.resize(end)
	}
	copy(in.data[off:], p)
	in.markDirty(off, off+int64(len(p)))
	in.mtime = time.Now()
}

// sync makes the inode's current state durable: for a file its data (every
// page changed since the last sync) and length, for a directory its
// entries; for both their mode and owner.
func (in *inode) sync() {
	in.durMode, in.durUID, in.durGID = in.mode, in.uid, in.gid
	if in.isDir() {
		in.durEntries = maps.Clone(in.entries)
		return
	}
	size := int64(len(in.data))
	old := int64(len(in.durData))
	if size > old {
		in.markDirty(old, size)
		if int64(cap(in.durData)) >= size {
			in.durData = in.durData[:size]
		} else {
			grown := make([]byte, size, max(size, 2*old))
			copy(grown, in.durData)
			in.durData = grown
		}
	} else {
		in.durData = in.durData[:size]
	}
	for p := range in.dirty {
		from := p * pageSize
		if from >= size {
			continue
		}
		to := min(from+pageSize, size)
		copy(in.durData[from:to], in.data[from:to])
	}
	clear(in.dirty)
}

// restore forgets everything not durable in the tree under root, as a power
// cut does: each inode still reachable through durable entries gets back
// its durable data, entries and metadata; the rest is gone.
func restore(root *inode) {
	reached := map[*inode]bool{}
	var walk func(in *inode)
	walk = func(in *inode) {
		if reached[in] {
			return
		}
		reached[in] = true
		in.mode, in.uid, in.gid = in.durMode, in.durUID, in.durGID
		in.nlink = 0
		if in.isDir() {
			in.entries = maps.Clone(in.durEntries)
			for _, child := range in.entries {
				walk(child)
			}
			return
		}
		in.data = append([]byte(nil), in.durData...)
		clear(in.dirty)
	}
	walk(root)
	// Count links again: a file may have lost some of its names.
	for in := range reached {
		if in.isDir() {
			for _, child := range in.entries {
				child.nlink++
			}
		}
	}
	root.nlink = 1
}
