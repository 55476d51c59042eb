package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond every few milliseconds until it returns true, and
// fails the test with msg if it has not within timeout. Use it instead of a
// sleep when waiting for something asynchronous.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
