//go:build !linux

package sqlite

import "os"

// syncData flushes f to stable storage (fsync; see the Linux version).
func syncData(f *os.File) error { return f.Sync() }
