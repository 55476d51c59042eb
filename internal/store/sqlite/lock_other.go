//go:build !unix

package sqlite

import "os"

// tryLock always succeeds where flock does not exist: there the lock does
// not keep a second server off a database.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
