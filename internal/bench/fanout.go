package bench

import (
	"context"
	"sync"
	"sync/atomic"
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

func runFanout(ctx context.Context, e *env) (*FanoutResult, error) {
	members := withDefault(e.cfg.Members, 2000)
	rates := e.cfg.Rates
	if len(rates) == 0 {
		rates = []float64{5, 10, 20, 50, 100, 200, 300, 400}
	}
	stepDur := e.cfg.StepDuration
	if stepDur <= 0 {
		stepDur = 5 * time.Second
	}
	room := "fanout-" + e.run
	steps := make([]*stepStats, len(rates))
	for i := range steps {
		steps[i] = new(stepStats)
	}
	var reconnects atomic.Int64
	handler := receiver(steps, &reconnects)
	var f fleet
	defer f.close()

	// Every member is a connection of one guest user: a room of 2,000
	// distinct users would first measure 2,000² presence frames and member
	// lists, not fan-out. The server must allow that many connections per
	// user (--max-conns-per-user).
	e.logf("fanout: connecting %d members", members)
	took, err := e.connect(ctx, &f, members, func(int) client.Options {
		// The server sends a busy member several frames per write; a read
		// buffer that holds them all takes them in one system call.
		return client.Options{Name: "fan", Handler: handler, Reconnect: true,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second, ReadBufferSize: 8192}
	}, func(ctx context.Context, _ int, c *client.Client) error {
		_, err := c.Join(ctx, room)
		return err
	})
	if err != nil {
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
	pub := pubs.clients[0]
	e.logf("fanout: %d members connected in %.1fs", members, took.Seconds())

	res := &FanoutResult{Members: members, StepSeconds: stepDur.Seconds()}
	failing := 0
	for k, rate := range rates {
		if ctx.Err() != nil {
			break
		}
		st := steps[k]
		start := stampNow()
		a := e.meter.Sample()
		rc := reconnects.Load()
		sendTime := publish(ctx, pub, room, k, rate, stepDur, st)
		drain(ctx, st, func() uint64 { return st.acked.Load() * uint64(members) })
		b := e.meter.Sample()
		step := FanoutStep{
			Rate: rate, Sent: st.sent.Load(), Acked: st.acked.Load(),
			Expected: st.acked.Load() * uint64(members), Delivered: st.delivered.Load(),
			Latency: st.latency.Summary(), Ack: st.ack.Summary(),
			Reconnects: reconnects.Load() - rc, Usage: Between(a, b),
		}
		step.SendRate = float64(step.Acked) / sendTime.Seconds()
		step.DeliveredRatio = ratio(step.Delivered, step.Expected)
		step.DeliveriesPerSec = deliveryRate(st, start, stepDur)
		step.OK = step.Acked > 0 && step.DeliveredRatio >= fanoutMinRatio && step.Latency.P99 < fanoutMaxP99
		res.Steps = append(res.Steps, step)
		if step.OK {
			r := rate
			res.Best, res.BestDelivers = &r, step.DeliveriesPerSec
		}
		e.logf("fanout: %g msg/s: %.0f deliveries/s, %.4f delivered, p99 %.1f ms", rate,
			step.DeliveriesPerSec, step.DeliveredRatio, step.Latency.P99)
		// Past the knee every step is slower than the last; two failures
		// in a row end the climb rather than wait out the rest.
		if step.OK {
			failing = 0
		} else if failing++; failing >= 2 {
			e.logf("fanout: stopping after two failing steps")
			break
		}
	}
	return res, nil
}

// publish sends at rate messages per second for d, without waiting for
// each ack before the next send, and returns when every send has finished.
// It returns how long the sending took.
func publish(ctx context.Context, pub *client.Client, room string, step int, rate float64, d time.Duration, st *stepStats) time.Duration {
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
			st.send(ctx, pub, room, step)
		})
	}
	wg.Wait()
	return max(time.Since(start), time.Millisecond)
}
