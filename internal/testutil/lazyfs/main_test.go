package lazyfs_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that an unmounted FS leaves no FUSE goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
