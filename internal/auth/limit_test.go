package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the limiter: rate limits are about time
// passing, which tests must not wait for.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLoginLimiter(t *testing.T) {
	type attempt struct {
		advance time.Duration // clock step before the attempt
		account string
		addr    string
		ok      bool
		retry   time.Duration // wanted retryAfter when refused
	}
	const perMinAcct, perMinAddr = 3, 5
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"per account across addresses", []attempt{
			{0, "alice", "10.0.0.1", true, 0},
			{0, "alice", "10.0.0.2", true, 0},
			{0, "alice", "10.0.0.3", true, 0},
			{0, "alice", "10.0.0.4", false, 20 * time.Second},
			{0, "bob", "10.0.0.4", true, 0},
			{10 * time.Second, "alice", "10.0.0.5", false, 10 * time.Second},
			{10 * time.Second, "alice", "10.0.0.5", true, 0},
			{0, "alice", "10.0.0.5", false, 20 * time.Second},
		}},
		{"per address across accounts", []attempt{
			{0, "a1", "192.0.2.7:5000", true, 0},
			{0, "a2", "192.0.2.7:5001", true, 0},
			{0, "a3", "192.0.2.7", true, 0},
			{0, "a4", "::ffff:192.0.2.7", true, 0},
			{0, "a5", "[::ffff:192.0.2.7]:80", true, 0},
			{0, "a6", "192.0.2.7", false, 12 * time.Second},
			{0, "a6", "192.0.2.8", true, 0},
			{12 * time.Second, "a7", "192.0.2.7", true, 0},
		}},
		{"IPv6 grouped by /64", []attempt{
			{0, "b1", "2001:db8:1:2::1", true, 0},
			{0, "b2", "2001:db8:1:2::2", true, 0},
			{0, "b3", "[2001:db8:1:2:aaaa::3]:443", true, 0},
			{0, "b4", "2001:db8:1:2:ffff::4", true, 0},
			{0, "b5", "2001:db8:1:2::5%eth0", true, 0},
			{0, "b6", "2001:db8:1:2::6", false, 12 * time.Second},
			{0, "b6", "2001:db8:1:3::6", true, 0},
		}},
		{"refusal takes no token from the other bucket", []attempt{
			{0, "carol", "198.51.100.1", true, 0},
			{0, "carol", "198.51.100.1", true, 0},
			{0, "carol", "198.51.100.1", true, 0},
			{0, "carol", "198.51.100.1", false, 20 * time.Second},
			{0, "carol", "198.51.100.1", false, 20 * time.Second},
			{0, "carol", "198.51.100.1", false, 20 * time.Second},
			// The address was charged only for the three allowed attempts.
			{0, "dave", "198.51.100.1", true, 0},
			{0, "erin", "198.51.100.1", true, 0},
			{0, "frank", "198.51.100.1", false, 12 * time.Second},
		}},
		{"both exhausted: the longer wait", []attempt{
			{0, "gina", "203.0.113.9", true, 0},
			{0, "gina", "203.0.113.9", true, 0},
			{0, "gina", "203.0.113.9", true, 0},
			{0, "hal", "203.0.113.9", true, 0},
			{0, "hal", "203.0.113.9", true, 0},
			{0, "gina", "203.0.113.9", false, 20 * time.Second},
		}},
		{"empty keys skip their bucket", []attempt{
			{0, "", "", true, 0},
			{0, "", "", true, 0},
			{0, "", "", true, 0},
			{0, "", "", true, 0},
			{0, "ivan", "", true, 0},
			{0, "ivan", "", true, 0},
			{0, "ivan", "", true, 0},
			{0, "ivan", "", false, 20 * time.Second},
		}},
		{"refill after a minute", []attempt{
			{0, "jo", "", true, 0},
			{0, "jo", "", true, 0},
			{0, "jo", "", true, 0},
			{0, "jo", "", false, 20 * time.Second},
			{time.Minute, "jo", "", true, 0},
			{0, "jo", "", true, 0},
			{0, "jo", "", true, 0},
			{0, "jo", "", false, 20 * time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			l := NewLoginLimiter(LoginLimiterConfig{AccountPerMinute: perMinAcct, AddressPerMinute: perMinAddr, Now: clock.Now})
			for i, a := range tc.attempts {
				clock.Advance(a.advance)
				ok, retry := l.Allow(a.account, a.addr)
				if ok != a.ok || retry != a.retry {
					t.Fatalf("attempt %d (%s from %s): Allow = %v, %v; want %v, %v", i, a.account, a.addr, ok, retry, a.ok, a.retry)
				}
			}
		})
	}
}

func TestLoginLimiterEviction(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewLoginLimiter(LoginLimiterConfig{AccountPerMinute: 2, AddressPerMinute: 2, IdleTimeout: 4 * time.Minute, Now: clock.Now})
	for i := range 100 {
		l.Allow(fmt.Sprintf("user%d", i), fmt.Sprintf("10.1.0.%d", i))
	}
	size := func() (int, int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.accounts), len(l.addresses)
	}
	if a, b := size(); a != 100 || b != 100 {
		t.Fatalf("tracked %d accounts and %d addresses, want 100 each", a, b)
	}
	clock.Advance(3 * time.Minute)
	l.Allow("user0", "10.1.0.0") // sweeps (2 min since the last), nothing idle for 4 min yet
	if a, b := size(); a != 100 || b != 100 {
		t.Fatalf("after 3 min: tracked %d accounts and %d addresses, want 100 each", a, b)
	}
	clock.Advance(2 * time.Minute)
	l.Allow("user0", "10.1.0.0") // sweeps: everything but user0 idle for 5 min
	if a, b := size(); a != 1 || b != 1 {
		t.Fatalf("after 5 min: tracked %d accounts and %d addresses, want 1 each", a, b)
	}
}

func TestLoginLimiterOverflow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewLoginLimiter(LoginLimiterConfig{AccountPerMinute: 100, AddressPerMinute: 3, MaxEntries: 10, Now: clock.Now})
	for i := range 10 {
		if ok, _ := l.Allow("", fmt.Sprintf("10.2.0.%d", i)); !ok {
			t.Fatalf("address %d refused", i)
		}
	}
	// The table is full: new addresses share one overflow bucket of 3.
	for i := 10; i < 13; i++ {
		if ok, _ := l.Allow("", fmt.Sprintf("10.2.0.%d", i)); !ok {
			t.Fatalf("overflow address %d refused", i)
		}
	}
	if ok, _ := l.Allow("", "10.2.0.99"); ok {
		t.Fatal("fourth overflow address allowed; want the shared bucket exhausted")
	}
	if ok, _ := l.Allow("", "10.2.0.0"); !ok {
		t.Fatal("a tracked address was refused because of the overflow")
	}
}

func TestLoginLimiterConcurrent(t *testing.T) {
	l := NewLoginLimiter(LoginLimiterConfig{AccountPerMinute: 50, AddressPerMinute: 1000})
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if ok, _ := l.Allow("shared", fmt.Sprintf("10.3.0.%d", i)); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// 160 attempts in well under a second against a burst of 50.
	if allowed < 50 || allowed > 52 {
		t.Fatalf("%d of 160 concurrent attempts allowed, want 50", allowed)
	}
}

// TestLoginLimiterZeroConfigMeansTheDefaults: limits left at zero take
// their documented defaults: 10 attempts a minute per account and per
// address, and buckets kept for 10 minutes after their last attempt.
func TestLoginLimiterZeroConfigMeansTheDefaults(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewLoginLimiter(LoginLimiterConfig{Now: clock.Now})
	for i := range DefaultAccountPerMinute {
		if ok, _ := l.Allow("alice", fmt.Sprintf("10.3.0.%d", i)); !ok {
			t.Fatalf("attempt %d for one account refused", i+1)
		}
	}
	if ok, _ := l.Allow("alice", "10.3.1.1"); ok {
		t.Fatalf("attempt %d for one account allowed", DefaultAccountPerMinute+1)
	}
	for i := range DefaultAddressPerMinute {
		if ok, _ := l.Allow(fmt.Sprint("user", i), "10.3.2.1"); !ok {
			t.Fatalf("attempt %d from one address refused", i+1)
		}
	}
	if ok, _ := l.Allow("another", "10.3.2.1"); ok {
		t.Fatalf("attempt %d from one address allowed", DefaultAddressPerMinute+1)
	}
	clock.Advance(DefaultLimiterIdle - time.Minute)
	l.Allow("late", "10.3.3.1") // sweeps; nothing has been idle for 10 minutes
	l.mu.Lock()
	_, kept := l.accounts["alice"]
	l.mu.Unlock()
	if !kept {
		t.Fatalf("a bucket idle for %v was dropped; want it kept for %v", DefaultLimiterIdle-time.Minute, DefaultLimiterIdle)
	}
}
