package auth

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LoginLimiterConfig sets the sign-in rate limits. Zero fields take their
// defaults.
type LoginLimiterConfig struct {
	// AccountPerMinute is how many sign-in attempts one account accepts per
	// minute, with a burst of the same size. Default 10. Guards a single
	// account against password guessing from many addresses.
	AccountPerMinute int
	// AddressPerMinute is how many sign-in attempts one client address may
	// make per minute, with a burst of the same size. Default 10. Guards
	// against one address guessing across many accounts. IPv6 addresses are
	// grouped by /64, the block one subscriber usually holds.
	AddressPerMinute int
	// IdleTimeout is how long a key's bucket is kept after its last attempt.
	// Default 10 minutes; never less than one minute, the time a bucket
	// takes to refill, so evicting a bucket never forgives an attempt. Idle
	// buckets are swept during Allow, at most once per IdleTimeout/2: no
	// goroutine is started.
	IdleTimeout time.Duration
	// MaxEntries caps the buckets kept per kind (accounts, addresses).
	// Default 100000, about 10 MB in all. Once full, new keys share one
	// overflow bucket per kind until a sweep frees room, so a flood of fresh
	// addresses is throttled as one rather than growing memory.
	MaxEntries int
	// Now is the clock; time.Now when nil. Tests set it.
	Now func() time.Time
}

// Sign-in limiter defaults; see LoginLimiterConfig.
const (
	// DefaultAccountPerMinute is the default of AccountPerMinute.
	DefaultAccountPerMinute = 10
	// DefaultAddressPerMinute is the default of AddressPerMinute.
	DefaultAddressPerMinute = 10
	// DefaultLimiterIdle is the default of IdleTimeout.
	DefaultLimiterIdle = 10 * time.Minute
	// DefaultLimiterEntries is the default of MaxEntries.
	DefaultLimiterEntries = 100_000
)

// overflowKey is the key new entries share once a table is full. It cannot
// be a username key or an address.
const overflowKey = "\x00overflow"

// LoginLimiter limits sign-in attempts per account and per client address
// with token buckets. It is safe for concurrent use, starts no goroutines
// and needs no Close.
type LoginLimiter struct {
	cfg LoginLimiterConfig

	mu        sync.Mutex
	accounts  map[string]*bucket
	addresses map[string]*bucket
	lastSweep time.Time
}

// bucket is one key's token bucket and when it was last used.
type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewLoginLimiter returns a LoginLimiter with cfg's limits.
func NewLoginLimiter(cfg LoginLimiterConfig) *LoginLimiter {
	if cfg.AccountPerMinute <= 0 {
		cfg.AccountPerMinute = DefaultAccountPerMinute
	}
	if cfg.AddressPerMinute <= 0 {
		cfg.AddressPerMinute = DefaultAddressPerMinute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultLimiterIdle
	}
	cfg.IdleTimeout = max(cfg.IdleTimeout, time.Minute)
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultLimiterEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &LoginLimiter{
		cfg:       cfg,
		accounts:  make(map[string]*bucket),
		addresses: make(map[string]*bucket),
		lastSweep: cfg.Now(),
	}
}

// Allow records a sign-in attempt for account (the username key from
// NormaliseUsername, so case variants share a bucket) from addr (an IP
// address, with or without a port). It returns true when both the account's
// and the address's buckets had a token, taking one from each. Otherwise it
// takes nothing and returns false with the wait until both would allow an
// attempt; callers answer with ErrRateLimited and a Retry-After. An empty
// account or addr skips that bucket.
func (l *LoginLimiter) Allow(account, addr string) (ok bool, retryAfter time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	var bs [2]*bucket
	if account != "" {
		bs[0] = l.get(l.accounts, account, l.cfg.AccountPerMinute, now)
	}
	if addr != "" {
		bs[1] = l.get(l.addresses, addressKey(addr), l.cfg.AddressPerMinute, now)
	}
	for _, b := range bs {
		if b == nil {
			continue
		}
		b.last = now
		if tokens := b.lim.TokensAt(now); tokens < 1 {
			wait := time.Duration(math.Ceil((1 - tokens) / float64(b.lim.Limit()) * float64(time.Second)))
			retryAfter = max(retryAfter, wait)
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, b := range bs {
		if b != nil {
			b.lim.AllowN(now, 1)
		}
	}
	return true, 0
}

// get returns the bucket for key in table, creating it (or falling back to
// the overflow bucket when the table is full).
func (l *LoginLimiter) get(table map[string]*bucket, key string, perMinute int, now time.Time) *bucket {
	if b, ok := table[key]; ok {
		return b
	}
	if len(table) >= l.cfg.MaxEntries {
		key = overflowKey
		if b, ok := table[key]; ok {
			return b
		}
	}
	b := &bucket{lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute), last: now}
	table[key] = b
	return b
}

// maybeSweep drops idle buckets, at most once per IdleTimeout/2.
func (l *LoginLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.cfg.IdleTimeout/2 {
		return
	}
	l.lastSweep = now
	for _, table := range []map[string]*bucket{l.accounts, l.addresses} {
		for k, b := range table {
			if now.Sub(b.last) >= l.cfg.IdleTimeout {
				delete(table, k)
			}
		}
	}
}

// addressKey groups addresses: the IP without port, IPv4-mapped IPv6 as IPv4,
// other IPv6 by /64. Strings that are not addresses are used as they are.
func addressKey(addr string) string {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		ip = ap.Addr()
	} else if a, err := netip.ParseAddr(addr); err == nil {
		ip = a
	} else {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
