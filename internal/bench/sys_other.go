//go:build !unix

package bench

import (
	"errors"
	"time"
)

// selfCPU is unknown off Unix.
func selfCPU() time.Duration { return 0 }

// FileLimit is unknown off Unix: no limit is checked.
func FileLimit() (soft, hard uint64) { return 0, 0 }

var errNever = errors.New("bench: never")

func errTooManyFiles() error { return errNever }
func errNoPorts() error      { return errNever }
