package limit

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// GateConfig shapes a Gate. Zero or negative caps and rates mean no limit.
type GateConfig struct {
	// MaxConns is the most connections the node holds at once, counting
	// those waiting to be admitted.
	MaxConns int
	// MaxPerAddress is the most connections one address key holds at once.
	MaxPerAddress int
	// AcceptRate is how many new connections a second are admitted; those
	// above it wait their turn (AcceptBurst may pass at once).
	AcceptRate  float64
	AcceptBurst int
	// MaxWait is the longest a new connection waits for its turn; one that
	// would wait longer is refused as the node being busy.
	MaxWait time.Duration
}

// Reasons a Gate refuses a connection, as counted by Refused.
const (
	RefusedAddress = "address" // the address holds MaxPerAddress connections
	RefusedNode    = "node"    // the node holds MaxConns connections
	RefusedBusy    = "busy"    // the accept queue is longer than MaxWait
)

// Refusal says why a Gate did not admit a connection, as the HTTP answer
// that tells the client.
type Refusal struct {
	Status     int           // 429 for the address, 503 for the node
	Reason     string        // RefusedAddress, RefusedNode or RefusedBusy
	RetryAfter time.Duration // when trying again may succeed
	Message    string        // for people
}

// Gate admits new connections to a node: it caps the connections per
// address and per node, and paces admissions to AcceptRate so that a storm
// of reconnects waits briefly in a bounded queue instead of being refused
// or landing all at once. Its per-address table holds only addresses with
// connections, so it is bounded by MaxConns. A nil *Gate admits everything.
type Gate struct {
	cfg  GateConfig
	pace *rate.Limiter // nil: no pacing

	mu    sync.Mutex
	total int
	per   map[string]int

	refusedAddr, refusedNode, refusedBusy atomic.Uint64
	waited                                atomic.Uint64 // admissions that waited their turn
	waitedNS                              atomic.Int64  // their waits, summed
}

// NewGate returns a Gate with cfg's limits.
func NewGate(cfg GateConfig) *Gate {
	g := &Gate{cfg: cfg, per: make(map[string]int)}
	if cfg.AcceptRate > 0 && !math.IsInf(cfg.AcceptRate, 1) {
		g.pace = rate.NewLimiter(rate.Limit(cfg.AcceptRate), max(cfg.AcceptBurst, 1))
	}
	return g
}

// Admit takes a place for a new connection from key (an AddressKey). It
// waits for the connection's turn under the accept rate, returning early
// with ctx's error. On success the caller must call release exactly once
// when the connection ends (or fails to open). refusal is non-nil when the
// connection is not admitted; err when ctx ended while it waited.
func (g *Gate) Admit(ctx context.Context, key string) (release func(), refusal *Refusal, err error) {
	if g == nil {
		return func() {}, nil, nil
	}
	if r := g.take(key); r != nil {
		return nil, r, nil
	}
	var once sync.Once
	release = func() { once.Do(func() { g.give(key) }) }
	if g.pace == nil {
		return release, nil, nil
	}
	now := time.Now()
	res := g.pace.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	if wait <= 0 {
		return release, nil, nil
	}
	if wait > g.cfg.MaxWait {
		res.CancelAt(now)
		release()
		g.refusedBusy.Add(1)
		return nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: RefusedBusy,
			RetryAfter: wait + jitter(wait),
			Message:    "the server is admitting many connections at once; retry shortly"}, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		g.waited.Add(1)
		g.waitedNS.Add(int64(wait))
		return release, nil, nil
	case <-ctx.Done():
		res.Cancel()
		release()
		return nil, nil, ctx.Err()
	}
}

// take counts a connection in, or says why not.
func (g *Gate) take(key string) *Refusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg.MaxConns > 0 && g.total >= g.cfg.MaxConns {
		g.refusedNode.Add(1)
		// Each refused client is told a wait of its own, so they do not
		// all come back at the same moment.
		return &Refusal{Status: http.StatusServiceUnavailable, Reason: RefusedNode,
			RetryAfter: 5*time.Second + jitter(10*time.Second),
			Message:    "this server is full; retry later or connect to another node"}
	}
	if g.cfg.MaxPerAddress > 0 && g.per[key] >= g.cfg.MaxPerAddress {
		g.refusedAddr.Add(1)
		return &Refusal{Status: http.StatusTooManyRequests, Reason: RefusedAddress,
			RetryAfter: 30*time.Second + jitter(30*time.Second),
			Message:    "too many connections from your network address; close some before opening more"}
	}
	g.total++
	g.per[key]++
	return nil
}

func (g *Gate) give(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.per[key]--; g.per[key] <= 0 {
		delete(g.per, key)
	}
}

// jitter returns a random duration below d (0 for d ≤ 0).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// GateStats are a Gate's counters since it was made, and its state now.
type GateStats struct {
	RefusedAddress, RefusedNode, RefusedBusy uint64
	Waited                                   uint64        // admissions that waited their turn
	WaitedFor                                time.Duration // their waits, summed
	Conns, Addresses                         int           // connections held; addresses holding them
}

// Stats returns the gate's counters.
func (g *Gate) Stats() GateStats {
	if g == nil {
		return GateStats{}
	}
	g.mu.Lock()
	conns, addrs := g.total, len(g.per)
	g.mu.Unlock()
	return GateStats{RefusedAddress: g.refusedAddr.Load(), RefusedNode: g.refusedNode.Load(),
		RefusedBusy: g.refusedBusy.Load(), Waited: g.waited.Load(), WaitedFor: time.Duration(g.waitedNS.Load()),
		Conns: conns, Addresses: addrs}
}

// Config returns the limits the gate was made with.
func (g *Gate) Config() GateConfig {
	if g == nil {
		return GateConfig{}
	}
	return g.cfg
}
