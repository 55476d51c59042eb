package sqlite

import (
	"os"
	"syscall"
)

// syncData flushes f's data and the metadata needed to read it back, but
// not its timestamps: fdatasync, which on ext4 spares the journal commit
// that fsync would make for the modification time every checkpoint changes.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
