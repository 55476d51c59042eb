// Package durable holds the file system steps that make what Parley writes
// survive a power cut, not only a crash: a file's own fsync does not make
// its name durable, the fsync of the directory that holds it does.
package durable

import (
	"fmt"
	"os"
)

// SyncDir makes the entries of directory dir durable (fsync): files and
// directories created, renamed or removed in it survive a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync the directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync the directory %s: %w", dir, err)
	}
	return nil
}
