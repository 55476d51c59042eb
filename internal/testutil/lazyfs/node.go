package lazyfs

import (
	"context"
	"slices"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is the FUSE side of one inode for one mount. Every operation takes
// the FS's mutex for its whole length: the model is correct before it is
// fast, and the kernel sees each operation happen at one instant, before or
// after a power cut, never across it.
type node struct {
	fs.Inode
	lfs *FS
	in  *inode
}

var (
	_ fs.NodeLookuper   = (*node)(nil)
	_ fs.NodeGetattrer  = (*node)(nil)
	_ fs.NodeSetattrer  = (*node)(nil)
	_ fs.NodeReaddirer  = (*node)(nil)
	_ fs.NodeMkdirer    = (*node)(nil)
	_ fs.NodeCreater    = (*node)(nil)
	_ fs.NodeUnlinker   = (*node)(nil)
	_ fs.NodeRmdirer    = (*node)(nil)
	_ fs.NodeRenamer    = (*node)(nil)
	_ fs.NodeLinker     = (*node)(nil)
	_ fs.NodeOpener     = (*node)(nil)
	_ fs.NodeReader     = (*node)(nil)
	_ fs.NodeWriter     = (*node)(nil)
	_ fs.NodeFsyncer    = (*node)(nil)
	_ fs.NodeFlusher    = (*node)(nil)
	_ fs.NodeAllocater  = (*node)(nil)
	_ fs.NodeStatfser   = (*node)(nil)
	_ fs.NodeAccesser   = (*node)(nil)
	_ fs.NodeOpendirer  = (*node)(nil)
	_ fs.NodeGetxattrer = (*node)(nil)
)

// lock takes the FS's mutex and reports EIO once the power is cut: after
// the cut the machine is off, and nothing the server does can count.
func (n *node) lock() syscall.Errno {
	n.lfs.mu.Lock()
	if n.lfs.cut {
		n.lfs.mu.Unlock()
		return syscall.EIO
	}
	return 0
}

func (n *node) unlock() { n.lfs.mu.Unlock() }

// fill sets out as stat reports in.
func fill(in *inode, out *fuse.Attr) {
	out.Ino = in.ino
	out.Mode = in.mode
	out.Uid, out.Gid = in.uid, in.gid
	out.Nlink = max(in.nlink, 1)
	if in.isDir() {
		out.Nlink = 2
	}
	out.Size = uint64(len(in.data))
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = pageSize
	out.SetTimes(&in.mtime, &in.mtime, &in.mtime)
}

// child returns the kernel-facing inode of in, made under n.
func (n *node) child(ctx context.Context, in *inode, out *fuse.EntryOut) *fs.Inode {
	fill(in, &out.Attr)
	return n.NewInode(ctx, &node{lfs: n.lfs, in: in}, fs.StableAttr{Mode: in.mode & syscall.S_IFMT, Ino: in.ino})
}

// caller is the uid and gid of the process making the request.
func caller(ctx context.Context) (uint32, uint32) {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Uid, c.Gid
	}
	return 0, 0
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, e
	}
	defer n.unlock()
	c, ok := n.in.entries[name]
	if !ok {
		return nil, syscall.ENOENT
	}
	return n.child(ctx, c, out), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	fill(n.in, &out.Attr)
	return 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	if size, ok := in.GetSize(); ok {
		if n.in.isDir() {
			return syscall.EISDIR
		}
		n.in.resize(int64(size))
		n.in.mtime = time.Now()
	}
	if mode, ok := in.GetMode(); ok {
		n.in.mode = n.in.mode&syscall.S_IFMT | mode&07777
	}
	if uid, ok := in.GetUID(); ok {
		n.in.uid = uid
	}
	if gid, ok := in.GetGID(); ok {
		n.in.gid = gid
	}
	if mtime, ok := in.GetMTime(); ok {
		n.in.mtime = mtime
	}
	fill(n.in, &out.Attr)
	return 0
}

func (n *node) Opendir(ctx context.Context) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	n.unlock()
	return 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, e
	}
	defer n.unlock()
	list := make([]fuse.DirEntry, 0, len(n.in.entries))
	for name, c := range n.in.entries {
		list = append(list, fuse.DirEntry{Name: name, Mode: c.mode, Ino: c.ino})
	}
	slices.SortFunc(list, func(a, b fuse.DirEntry) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return fs.NewListDirStream(list), 0
}

// add makes a new inode and links it into n as name.
func (n *node) add(ctx context.Context, name string, mode uint32) *inode {
	uid, gid := caller(ctx)
	n.lfs.nextIno++
	c := newInode(n.lfs.nextIno, mode, uid, gid)
	c.nlink = 1
	n.in.entries[name] = c
	n.in.mtime = time.Now()
	return c
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, e
	}
	defer n.unlock()
	if _, ok := n.in.entries[name]; ok {
		return nil, syscall.EEXIST
	}
	c := n.add(ctx, name, syscall.S_IFDIR|mode&07777)
	return n.child(ctx, c, out), 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, nil, 0, e
	}
	defer n.unlock()
	c, ok := n.in.entries[name]
	switch {
	case ok && flags&syscall.O_EXCL != 0:
		return nil, nil, 0, syscall.EEXIST
	case ok && c.isDir():
		return nil, nil, 0, syscall.EISDIR
	case ok && flags&syscall.O_TRUNC != 0:
		c.resize(0)
	case !ok:
		c = n.add(ctx, name, syscall.S_IFREG|mode&07777)
	}
	return n.child(ctx, c, out), nil, 0, 0
}

// unlink removes name from n; dir says whether it must be a directory
// (rmdir) or must not be one (unlink).
func (n *node) unlink(name string, dir bool) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	c, ok := n.in.entries[name]
	switch {
	case !ok:
		return syscall.ENOENT
	case dir && !c.isDir():
		return syscall.ENOTDIR
	case !dir && c.isDir():
		return syscall.EISDIR
	case dir && len(c.entries) > 0:
		return syscall.ENOTEMPTY
	}
	delete(n.in.entries, name)
	c.nlink--
	n.in.mtime = time.Now()
	return 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno { return n.unlink(name, false) }

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno { return n.unlink(name, true) }

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	to, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	src, ok := n.in.entries[name]
	if !ok {
		return syscall.ENOENT
	}
	dst, exists := to.in.entries[newName]
	if flags&fs.RENAME_EXCHANGE != 0 {
		if !exists {
			return syscall.ENOENT
		}
		n.in.entries[name], to.in.entries[newName] = dst, src
		return 0
	}
	const renameNoReplace = 0x1
	switch {
	case exists && flags&renameNoReplace != 0:
		return syscall.EEXIST
	case exists && dst == src:
		return 0
	case exists && dst.isDir() && !src.isDir():
		return syscall.EISDIR
	case exists && !dst.isDir() && src.isDir():
		return syscall.ENOTDIR
	case exists && dst.isDir() && len(dst.entries) > 0:
		return syscall.ENOTEMPTY
	}
	if exists {
		dst.nlink--
	}
	delete(n.in.entries, name)
	to.in.entries[newName] = src
	now := time.Now()
	n.in.mtime, to.in.mtime = now, now
	return 0
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, e
	}
	defer n.unlock()
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	if t.in.isDir() {
		return nil, syscall.EPERM
	}
	if _, exists := n.in.entries[name]; exists {
		return nil, syscall.EEXIST
	}
	n.in.entries[name] = t.in
	t.in.nlink++
	n.in.mtime = time.Now()
	return n.child(ctx, t.in, out), 0
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, 0, e
	}
	defer n.unlock()
	if flags&syscall.O_TRUNC != 0 && !n.in.isDir() {
		n.in.resize(0)
	}
	return nil, 0, 0
}

func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return nil, e
	}
	defer n.unlock()
	if off >= int64(len(n.in.data)) {
		return fuse.ReadResultData(nil), 0
	}
	// Copy while the lock is held: the data may change once it is not.
	k := copy(dest, n.in.data[off:])
	return fuse.ReadResultData(dest[:k]), 0
}

func (n *node) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	if e := n.lock(); e != 0 {
		return 0, e
	}
	defer n.unlock()
	n.in.write(data, off)
	return uint32(len(data)), 0
}

// Fsync serves fsync and fdatasync of files and directories alike: both
// make everything of this inode durable, and nothing of any other (see
// doc.go).
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	n.in.sync()
	n.lfs.syncs++
	return 0
}

// Flush is close(2): it makes nothing durable.
func (n *node) Flush(ctx context.Context, f fs.FileHandle) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	n.unlock()
	return 0
}

func (n *node) Allocate(ctx context.Context, f fs.FileHandle, off uint64, size uint64, mode uint32) syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	defer n.unlock()
	const keepSize = 0x1
	switch {
	case mode&^keepSize != 0:
		return syscall.EOPNOTSUPP
	case mode&keepSize == 0 && int64(off+size) > int64(len(n.in.data)):
		n.in.resize(int64(off + size))
	}
	return 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	*out = fuse.StatfsOut{Blocks: 1 << 24, Bfree: 1 << 23, Bavail: 1 << 23, Files: 1 << 20, Ffree: 1 << 19,
		Bsize: pageSize, NameLen: 255, Frsize: pageSize}
	return 0
}

// Access allows everything: the model does not check permissions.
func (n *node) Access(ctx context.Context, mask uint32) syscall.Errno { return n.lockOK() }

// Getxattr: the model keeps no extended attributes.
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (n *node) lockOK() syscall.Errno {
	if e := n.lock(); e != 0 {
		return e
	}
	n.unlock()
	return 0
}
