package limit

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the limits leave no goroutine behind: Keyed and
// Gate start none, and a wait that ends with its request stops its timer.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
