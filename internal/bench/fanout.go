package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/client"
)

// Fanout's pass mark for a step, from the issue: at least 99.9% delivered
// with p99 under 250 ms.
const (
	fanoutMinRatio = 0.999
	fanoutMaxP99   = 250 // ms
)

// maxInFlight bounds the publisher's sends waiting for their acks.
const maxInFlight = 1024

// fanoutRates are the default steps of fanout and publish, messages a
// second from one sender into one room.
var fanoutRates = []float64{5, 10, 20, 50, 100, 200, 300, 400}

func runFanout(ctx context.Context, e *env) (*FanoutResult, error) {
	members := withDefault(e.cfg.Members, 2000)
	room := "fanout-" + e.run
	cl := newClimb("fanout", e.cfg)
	var f fleet
	defer f.close()
	if err := cl.join(ctx, e, &f, members, room); err != nil {
		return nil, err
	}
	var pubs fleet
	defer pubs.close()
	if _, err := e.connect(ctx, &pubs, 1, func(int) client.Options {
		return client.Options{Name: "fanpub", Handler: func(client.Event) {}, Reconnect: true}
	}, func(ctx context.Context, _ int, c *client.Client) error {
		_, err := c.Join(ctx, room)
		return err
	}); err != nil {
		return nil, err
	}
	return cl.run(ctx, e, members, wsSend(pubs.clients[0], room)), nil
}

// climb steps a sender through rates, each for stepDur, into a room whose
// members record what they receive with its receiver; fanout and publish
// share it.
type climb struct {
	name    string // of the scenario, for progress lines
	rates   []float64
	stepDur time.Duration
	steps   []*stepStats // one per rate
	side    sideEvents
}

// newClimb is a climb through cfg's rates and step duration, or fanout's
// defaults (fanoutRates, 5 s a step).
func newClimb(name string, cfg Config) *climb {
	cl := &climb{name: name, rates: cfg.Rates, stepDur: cfg.StepDuration}
	if len(cl.rates) == 0 {
		cl.rates = fanoutRates
	}
	if cl.stepDur <= 0 {
		cl.stepDur = 5 * time.Second
	}
	cl.steps = make([]*stepStats, len(cl.rates))
	for i := range cl.steps {
		cl.steps[i] = new(stepStats)
	}
	return cl
}

// join connects n members to room, adding them to f, each receiving with
// the climb's receiver. Every member is a connection of one guest user: a
// room of 2,000 distinct users would first measure 2,000² presence frames
// and member lists, not fan-out. The server must allow that many
// connections per user (--max-conns-per-user).
func (cl *climb) join(ctx context.Context, e *env, f *fleet, n int, room string) error {
	e.logf("%s: connecting %d members", cl.name, n)
	took, err := e.connectOneUser(ctx, f, n, cl.name, receiver(cl.steps, &cl.side),
		func(ctx context.Context, _ int, c *client.Client) error {
			_, err := c.Join(ctx, room)
			return err
		})
	if err != nil {
		return err
	}
	e.logf("%s: %d members connected in %.1fs", cl.name, n, took.Seconds())
	return nil
}

// run sends with send through the steps into a room of members and returns
// them, with the highest that passed fanout's mark. Past the knee every
// step is slower than the last, so two failing steps in a row end the
// climb rather than wait out the rest.
func (cl *climb) run(ctx context.Context, e *env, members int, send sendFunc) *FanoutResult {
	res := &FanoutResult{Members: members, StepSeconds: cl.stepDur.Seconds()}
	failing := 0
	for k, rate := range cl.rates {
		if ctx.Err() != nil {
			break
		}
		st := cl.steps[k]
		start := stampNow()
		a := e.meter.Sample()
		rc := cl.side.reconnects.Load()
		sendTime := pace(ctx, send, k, rate, cl.stepDur, st)
		drain(ctx, st, func() uint64 { return st.acked.Load() * uint64(members) })
		b := e.meter.Sample()
		step := FanoutStep{
			Rate: rate, Sent: st.sent.Load(), Acked: st.acked.Load(),
			Expected: st.acked.Load() * uint64(members), Delivered: st.delivered.Load(),
			Latency: st.latency.Summary(), Ack: st.ack.Summary(),
			Reconnects: cl.side.reconnects.Load() - rc, Usage: Between(a, b),
		}
		step.SendRate = float64(step.Acked) / sendTime.Seconds()
		step.DeliveredRatio = ratio(step.Delivered, step.Expected)
		step.DeliveriesPerSec = deliveryRate(st, start, cl.stepDur)
		step.OK = step.Acked > 0 && step.DeliveredRatio >= fanoutMinRatio && step.Latency.P99 < fanoutMaxP99
		res.Steps = append(res.Steps, step)
		if step.OK {
			r := rate
			res.Best, res.BestDelivers = &r, step.DeliveriesPerSec
		}
		e.logf("%s: %g msg/s: %.0f deliveries/s, %.4f delivered, p99 %.1f ms", cl.name, rate,
			step.DeliveriesPerSec, step.DeliveredRatio, step.Latency.P99)
		if step.OK {
			failing = 0
		} else if failing++; failing >= 2 {
			e.logf("%s: stopping after two failing steps", cl.name)
			break
		}
	}
	res.PresenceFrames = cl.side.presence.Load()
	return res
}

// connectOneUser connects n members that are one guest user, named name,
// with handler and setup as connect takes them. Guests are a new user per
// connection by name, so the first connects by name and the rest with its
// guest token, which makes them the same guest. Each has a read buffer of 8 KiB: the
// server sends a busy member several frames per write, and a buffer that
// holds them all takes them in one system call.
func (e *env) connectOneUser(ctx context.Context, f *fleet, n int, name string, handler func(client.Event),
	setup func(ctx context.Context, i int, c *client.Client) error) (time.Duration, error) {
	opts := client.Options{Handler: handler, Reconnect: true,
		BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second, ReadBufferSize: 8192}
	var first fleet
	defer func() { f.add(first.clients...) }()
	o := opts
	o.Name = name
	took, err := e.connect(ctx, &first, 1, func(int) client.Options { return o }, setup)
	if err != nil || n == 1 {
		return took, err
	}
	opts.Token = first.clients[0].Session().GuestToken
	if opts.Token == "" {
		return took, fmt.Errorf("the server sent guest %q no guest_token to reconnect with", name)
	}
	rest, err := e.connect(ctx, f, n-1, func(int) client.Options { return opts },
		func(ctx context.Context, i int, c *client.Client) error { return setup(ctx, i+1, c) })
	return took + rest, err
}

// pace sends with send at rate messages per second for d, without waiting
// for each ack before the next send, and returns when every send has
// finished. It returns how long the sending took.
func pace(ctx context.Context, send sendFunc, step int, rate float64, d time.Duration, st *stepStats) time.Duration {
	interval := time.Duration(float64(time.Second) / rate)
	ctx, cancel := stepSends(ctx, d)
	defer cancel()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if w := time.Until(at); w > 0 {
			_ = sleep(ctx, w)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			st.send(ctx, step, send)
		})
	}
	wg.Wait()
	return max(time.Since(start), time.Millisecond)
}
