package limit

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is the default of KeyedConfig.MaxKeys.
const DefaultMaxKeys = 100_000

// overflowKey is the key new keys share once a table is full. It cannot be
// a user id or an address.
const overflowKey = "\x00overflow"

// KeyedConfig shapes a Keyed table.
type KeyedConfig struct {
	// Rate is the sustained rate of each key's bucket, in tokens per second.
	Rate float64
	// Burst is the size of each key's bucket.
	Burst int
	// Idle is how long a key's bucket is kept after its last use. It is
	// never less than the time an empty bucket takes to fill, so that
	// evicting a bucket forgives nothing, nor less than a minute, so that
	// the sweeps (every Idle/2, over the whole table, under its lock) stay
	// rare. Default (and minimum) the larger of the two.
	Idle time.Duration
	// MaxKeys caps the buckets kept. Once full, new keys share one
	// overflow bucket until a sweep frees room, so a flood of fresh keys
	// (addresses, guest users) is throttled as one instead of growing
	// memory. Default DefaultMaxKeys: a full table of IPv6 /64 keys
	// measured 17 MB.
	MaxKeys int
	// Now is the clock; time.Now when nil. Tests set it.
	Now func() time.Time
}

// Keyed is a table of token buckets, one per key (a user id, an address),
// bounded in size: idle buckets are swept out while the table is used, and
// a full table sends new keys to a shared overflow bucket. It is safe for
// concurrent use, starts no goroutine and needs no Close. A nil *Keyed
// allows everything.
type Keyed struct {
	cfg     KeyedConfig
	refused atomic.Uint64

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewKeyed returns a table with cfg's rate and burst. A Rate or Burst of
// zero or less returns nil: no limit.
func NewKeyed(cfg KeyedConfig) *Keyed {
	if cfg.Rate <= 0 || cfg.Burst <= 0 || math.IsNaN(cfg.Rate) {
		return nil
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	fill := time.Duration(float64(cfg.Burst) / cfg.Rate * float64(time.Second))
	cfg.Idle = max(cfg.Idle, fill, time.Minute)
	return &Keyed{cfg: cfg, buckets: make(map[string]*bucket), lastSweep: cfg.Now()}
}

// Allow takes a token from key's bucket. When the bucket is empty it takes
// nothing and returns false with the wait until a token is free.
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	t := k.Take(key)
	if t.OK() {
		return true, 0
	}
	return false, t.Wait()
}

// Take reserves a token from key's bucket. The caller checks OK and, when
// it decides not to go ahead (another limit refused), gives the token back
// with Cancel. A refused Take holds nothing and needs no Cancel.
func (k *Keyed) Take(key string) Token {
	if k == nil {
		return Token{}
	}
	now := k.cfg.Now()
	k.mu.Lock()
	k.maybeSweep(now)
	b := k.get(key, now)
	b.last = now
	r := b.lim.ReserveN(now, 1)
	k.mu.Unlock()
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		k.refused.Add(1)
		return Token{wait: max(d, time.Millisecond)}
	}
	return Token{r: r, now: now}
}

// Refused returns how many tokens the table has refused since it was made.
func (k *Keyed) Refused() uint64 {
	if k == nil {
		return 0
	}
	return k.refused.Load()
}

// Len returns the number of buckets held.
func (k *Keyed) Len() int {
	if k == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// get returns key's bucket, creating it, or the overflow bucket when the
// table is full. Called with mu held.
func (k *Keyed) get(key string, now time.Time) *bucket {
	if b, ok := k.buckets[key]; ok {
		return b
	}
	if len(k.buckets) >= k.cfg.MaxKeys {
		// Sweep before sharing the overflow bucket, since a table that
		// filled long ago may be mostly idle; but at most once a second,
		// or a full table of busy keys would cost a sweep per new key.
		if now.Sub(k.lastSweep) >= time.Second {
			k.sweep(now)
		}
		if len(k.buckets) >= k.cfg.MaxKeys {
			key = overflowKey
			if b, ok := k.buckets[key]; ok {
				return b
			}
		}
	}
	b := &bucket{lim: rate.NewLimiter(rate.Limit(k.cfg.Rate), k.cfg.Burst), last: now}
	k.buckets[key] = b
	return b
}

// maybeSweep drops idle buckets, at most once per Idle/2, so that the
// table's cost stays a small share of the calls that use it.
func (k *Keyed) maybeSweep(now time.Time) {
	if now.Sub(k.lastSweep) >= k.cfg.Idle/2 {
		k.sweep(now)
	}
}

func (k *Keyed) sweep(now time.Time) {
	k.lastSweep = now
	for key, b := range k.buckets {
		if now.Sub(b.last) >= k.cfg.Idle {
			delete(k.buckets, key)
		}
	}
}

// Token is the outcome of Keyed.Take.
type Token struct {
	r    *rate.Reservation // nil when refused, or from a nil table
	now  time.Time
	wait time.Duration
}

// OK reports whether the token was granted.
func (t Token) OK() bool { return t.wait == 0 }

// Wait is how long until a token would be free; 0 when granted.
func (t Token) Wait() time.Duration { return t.wait }

// Cancel gives a granted token back.
func (t Token) Cancel() {
	if t.r != nil {
		t.r.CancelAt(t.now)
	}
}

// TakeAll takes one token from each table for its key, all or none: when
// any table refuses, the tokens already taken are given back and the
// longest wait is returned. Nil tables allow everything.
func TakeAll(picks ...Pick) (ok bool, retryAfter time.Duration, refusedBy int) {
	var buf [4]Token
	taken := buf[:0]
	for i, p := range picks {
		t := p.Table.Take(p.Key)
		if !t.OK() {
			for _, g := range taken {
				g.Cancel()
			}
			return false, t.Wait(), i
		}
		taken = append(taken, t)
	}
	return true, 0, -1
}

// Pick names one key of one table, for TakeAll.
type Pick struct {
	Table *Keyed
	Key   string
}
