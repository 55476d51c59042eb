//go:build unix

package bench

import (
	"syscall"
	"time"
)

// selfCPU returns this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FileLimit returns the soft and hard limits on open files. Go raises the
// soft limit to the hard one at start-up, so the soft limit is what this
// process can use.
func FileLimit() (soft, hard uint64) {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0, 0
	}
	return uint64(r.Cur), uint64(r.Max)
}

func errTooManyFiles() error { return syscall.EMFILE }
func errNoPorts() error      { return syscall.EADDRNOTAVAIL }
