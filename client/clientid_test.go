package client

import (
	"strings"
	"testing"
	"time"
)

// TestClientIDsSortByTime checks that keys made later sort after earlier
// ones, also where the time in base 36 gains a digit and across clients,
// and that they stay within the protocol's 64 bytes.
func TestClientIDsSortByTime(t *testing.T) {
	prefixes := []string{"ffffffffffff-", "000000000000-"}
	times := []time.Time{
		time.UnixMilli(35), time.UnixMilli(36), // one base-36 digit, then two
		time.UnixMilli(1<<40 - 1), time.UnixMilli(1 << 40),
		time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 26, 17, 0, 0, int(time.Millisecond), time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var prev string
	for i, at := range times {
		// The earlier time's key with the larger prefix and counter must
		// still sort first.
		id := clientIDAt(at, prefixes[i%2], uint64(1000-i))
		if len(id) > 64 {
			t.Fatalf("key %q is %d bytes, over the protocol's 64", id, len(id))
		}
		if !strings.HasSuffix(id[:10], "-") {
			t.Fatalf("key %q does not start with nine digits of time", id)
		}
		if prev != "" && id <= prev {
			t.Fatalf("key at %v = %q sorts before or equal to the earlier %q", at, id, prev)
		}
		prev = id
	}
	if a, b := clientIDAt(times[4], prefixes[0], 1), clientIDAt(times[4], prefixes[0], 2); a == b {
		t.Fatalf("two sends in the same millisecond got the same key %q", a)
	}
	if got := clientIDAt(time.UnixMilli(-5), "p-", 1); got != "000000000-p-1" {
		t.Fatalf("key before 1970 = %q, want the time clamped to 0", got)
	}
}
