package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/client"
)

// dialConcurrency bounds dials in flight: enough to keep the server's accept
// loop busy, few enough not to overflow its listen backlog.
const dialConcurrency = 256

// each runs fn for 0..n-1 on up to conc goroutines and returns the first
// error; the rest are skipped once one fails or ctx ends.
func each(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// fleet is a set of clients that are closed together.
type fleet struct {
	mu      sync.Mutex
	clients []*client.Client
}

func (f *fleet) add(cs ...*client.Client) {
	f.mu.Lock()
	f.clients = append(f.clients, cs...)
	f.mu.Unlock()
}

// close closes every client, many at a time, and forgets them.
func (f *fleet) close() {
	f.mu.Lock()
	cs := f.clients
	f.clients = nil
	f.mu.Unlock()
	_ = each(context.Background(), len(cs), dialConcurrency, func(_ context.Context, i int) error {
		_ = cs[i].Close()
		return nil
	})
}

// connect dials n clients, client i to node nodeOf(i), each with the options opts(i) and then setup(i)
// (typically a join), adding them to f, and returns how long it took.
func (e *env) connect(ctx context.Context, f *fleet, n int, opts func(i int) client.Options,
	setup func(ctx context.Context, i int, c *client.Client) error) (time.Duration, error) {
	start := time.Now()
	err := each(ctx, n, dialConcurrency, func(ctx context.Context, i int) error {
		o := opts(i)
		if o.LocalAddr == nil && o.NetDial == nil {
			o.LocalAddr = e.sourceAddr(i)
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := client.Dial(dctx, e.wsURLs[e.nodeOf(i)], o)
		if err != nil {
			return explainDial(err, i)
		}
		f.add(c)
		if setup != nil {
			if err := setup(dctx, i, c); err != nil {
				return fmt.Errorf("client %d: %w", i, err)
			}
		}
		return nil
	})
	return time.Since(start), err
}

// explainDial adds advice to the dial errors a load test tends to meet.
func explainDial(err error, i int) error {
	switch {
	case errors.Is(err, errTooManyFiles()):
		return fmt.Errorf("client %d: %w (raise `ulimit -n`)", i, err)
	case errors.Is(err, errNoPorts()):
		return fmt.Errorf("client %d: %w (out of local ports; fewer connections or a wider net.ipv4.ip_local_port_range)", i, err)
	}
	var ce *client.CloseError
	if errors.As(err, &ce) && ce.Code == 4009 {
		return fmt.Errorf("client %d: %w (run the server with --max-conns-per-user 100000)", i, err)
	}
	return fmt.Errorf("client %d: %w", i, err)
}

// cutter routes a fleet's dials through a gate and can cut all their
// connections at once, as a network failure would: a reset, no close frame.
type cutter struct {
	e     *env
	mu    sync.Mutex
	gate  chan struct{} // while non-nil, dials wait for it to close
	conns map[net.Conn]struct{}
	next  atomic.Int64 // spreads source addresses
}

func newCutter(e *env) *cutter { return &cutter{e: e, conns: make(map[net.Conn]struct{})} }

func (k *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	k.mu.Lock()
	g := k.gate
	k.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var d net.Dialer
	// Every reconnect takes a new port while the old socket may linger, so
	// count dials, not clients, when spreading source addresses.
	if a := k.e.sourceAddr(int(k.next.Add(1) - 1)); a != nil {
		d.LocalAddr = a // only when set: a nil *TCPAddr in the interface is not nil
	}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.conns[nc] = struct{}{}
	k.mu.Unlock()
	return &trackedConn{Conn: nc, k: k}, nil
}

// cut shuts the gate and resets every connection.
func (k *cutter) cut() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gate = make(chan struct{})
	n := len(k.conns)
	for c := range k.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	clear(k.conns)
	return n
}

// open lets dials through again.
func (k *cutter) open() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gate != nil {
		close(k.gate)
		k.gate = nil
	}
}

type trackedConn struct {
	net.Conn
	k *cutter
}

func (c *trackedConn) Close() error {
	c.k.mu.Lock()
	delete(c.k.conns, c.Conn)
	c.k.mu.Unlock()
	return c.Conn.Close()
}
