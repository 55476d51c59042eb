package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked means another process holds the lock of a database: a running
// `parley serve`, or a `parley restore` replacing the file.
var ErrLocked = errors.New("the database is in use by another Parley process")

// LockedError is the error of a lock another process holds; it matches
// ErrLocked with errors.Is.
type LockedError struct {
	// PID is the holder's process id, 0 when its lock file has none.
	PID int
	// LockFile is the lock file's path.
	LockFile string
}

func (e *LockedError) Error() string {
	holder := "process id unknown"
	if e.PID > 0 {
		holder = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("%v (%s; lock file %s)", ErrLocked, holder, e.LockFile)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// LockPath returns the lock file of the database at path: path + ".lock",
// beside the database (in the data directory for the default database).
func LockPath(path string) string { return path + ".lock" }

// Lock is an exclusive lock on a database, held by the process that serves
// it (or replaces it) so that no other can do the same at once. It is an
// advisory lock on LockPath (flock on Unix), which the kernel releases when
// the process ends however it ends, so a crash never leaves a stale lock.
// The lock file itself stays behind; it is never deleted, since deleting a
// locked file would let two processes each lock a different one.
type Lock struct {
	f *os.File
}

// AcquireLock takes the lock of the database at path without waiting, and
// writes this process's id into the lock file so that a refused process can
// name the holder. When another process holds it, the error wraps ErrLocked
// and names the holder's process id when the file has one.
func AcquireLock(path string) (*Lock, error) {
	lp := LockPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock file %s: %w", lp, err)
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: lock %s: %w", lp, err)
	}
	if !locked {
		pid := lockHolder(f)
		f.Close()
		return nil, &LockedError{PID: pid, LockFile: lp}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Locked reports whether another process holds the lock of the database at
// path, without taking it; the error of a held lock wraps ErrLocked, as
// AcquireLock's does. A missing lock file means no holder.
func Locked(path string) error {
	f, err := os.OpenFile(LockPath(path), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: lock file %s: %w", LockPath(path), err)
	}
	defer f.Close()
	locked, err := tryLock(f)
	if err != nil {
		return fmt.Errorf("sqlite: lock %s: %w", LockPath(path), err)
	}
	if !locked {
		return &LockedError{PID: lockHolder(f), LockFile: LockPath(path)}
	}
	return unlock(f)
}

// Release gives the lock up. Releasing twice is harmless.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := errors.Join(unlock(l.f), l.f.Close())
	l.f = nil
	return err
}

// lockHolder reads the process id written into the lock file f; 0 when
// there is none.
func lockHolder(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}
