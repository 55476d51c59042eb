package limit

import (
	"fmt"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_000_000, 0)} }
func keyed(c *clock, r float64, b int, max int) *Keyed {
	return NewKeyed(KeyedConfig{Rate: r, Burst: b, MaxKeys: max, Now: c.now})
}

func TestKeyedBurstThenRate(t *testing.T) {
	c := newClock()
	k := keyed(c, 10, 5, 0)
	for i := range 5 {
		if ok, _ := k.Allow("alice"); !ok {
			t.Fatalf("frame %d of the burst refused", i+1)
		}
	}
	ok, wait := k.Allow("alice")
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("sixth: ok=%v wait=%v, want refused with a wait in (0, 100ms]", ok, wait)
	}
	if ok, _ := k.Allow("bob"); !ok {
		t.Fatal("bob shares alice's bucket")
	}
	c.add(wait)
	if ok, _ := k.Allow("alice"); !ok {
		t.Fatal("refused after waiting the hinted time")
	}
	if k.Refused() != 1 {
		t.Fatalf("refused = %d, want 1", k.Refused())
	}
}

// TestKeyedStaysBounded feeds a table many more keys than it may hold:
// it never holds more than MaxKeys, the overflow keys share one bucket, and
// idle keys are swept once they could have refilled.
func TestKeyedStaysBounded(t *testing.T) {
	c := newClock()
	const maxKeys = 100
	k := keyed(c, 1, 2, maxKeys)
	for i := range 10_000 {
		k.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if n := k.Len(); n > maxKeys+1 { // +1: the shared overflow bucket
			t.Fatalf("after %d keys the table holds %d buckets, want at most %d", i+1, n, maxKeys+1)
		}
	}
	// The overflow bucket (burst 2) is shared by the 9,900 keys past the
	// cap, so most of them were refused.
	if r := k.Refused(); r < 9_000 {
		t.Fatalf("refused %d of 9,900 overflow keys, want most", r)
	}
	c.add(2 * time.Minute) // longer than Idle (a minute, the least)
	k.Allow("fresh")
	if n := k.Len(); n != 1 {
		t.Fatalf("after the idle time the table holds %d buckets, want 1", n)
	}
}

func TestKeyedEvictionForgivesNothing(t *testing.T) {
	c := newClock()
	k := keyed(c, 0.01, 3, 0) // 300 s to fill: longer than the least Idle
	for range 3 {
		k.Allow("a")
	}
	// Before the refill time, past a sweep, the bucket is still there
	// and not full.
	c.add(200 * time.Second)
	k.Allow("other") // sweeps
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("a token that refilled was refused")
	}
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("two tokens refilled in 200s at 0.01/s")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("a third token in 200s: the bucket was evicted and came back full")
	}
}

func TestTakeAllGivesBackOnRefusal(t *testing.T) {
	c := newClock()
	user := keyed(c, 1, 1, 0)
	addr := keyed(c, 1, 1, 0)
	addr.Allow("ip") // the address is spent
	if ok, _, by := TakeAll(Pick{user, "u"}, Pick{addr, "ip"}); ok || by != 1 {
		t.Fatalf("ok=%v refusedBy=%d, want refused by the address", ok, by)
	}
	// The user's token was given back: the user can still send elsewhere.
	if ok, _ := user.Allow("u"); !ok {
		t.Fatal("the user's token was not given back")
	}
	if ok, _, _ := TakeAll(Pick{nil, "x"}); !ok {
		t.Fatal("a nil table refused")
	}
}

func TestNewKeyedOff(t *testing.T) {
	if NewKeyed(KeyedConfig{Rate: 0, Burst: 5}) != nil || NewKeyed(KeyedConfig{Rate: 1}) != nil {
		t.Fatal("a zero rate or burst must mean no limit (nil)")
	}
	var k *Keyed
	if ok, _ := k.Allow("x"); !ok || k.Len() != 0 {
		t.Fatal("a nil table must allow everything")
	}
}
