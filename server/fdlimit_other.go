//go:build !unix

package server

// openFileLimit is unknown here: max-conns 0 means no cap.
func openFileLimit() (uint64, bool) { return 0, false }
