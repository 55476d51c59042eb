package protocol

import (
	"testing"
	"time"
)

func TestRestartReasonRoundTrips(t *testing.T) {
	for _, d := range []time.Duration{0, time.Millisecond, 1234 * time.Millisecond, 10 * time.Second} {
		got, ok := ParseRestartReason(RestartReason(d))
		if !ok || got != d {
			t.Fatalf("ParseRestartReason(RestartReason(%v)) = %v, %v", d, got, ok)
		}
		if n := len(RestartReason(d)); n > 123 {
			t.Fatalf("RestartReason(%v) is %d bytes; a close reason holds 123", d, n)
		}
	}
	for _, r := range []string{"", "server is shutting down", "server restarting; reconnect after -5 ms", "server restarting; reconnect after x ms"} {
		if _, ok := ParseRestartReason(r); ok {
			t.Fatalf("ParseRestartReason(%q) took it for a restart reason", r)
		}
	}
}
