package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/parley-chat/parley/client"
)

func runChat(ctx context.Context, e *env) (*ChatResult, error) {
	rooms := withDefault(e.cfg.Rooms, 500)
	members := withDefault(e.cfg.Members, 4)
	rates := e.cfg.Rates
	if len(rates) == 0 {
		rates = []float64{1, 5}
	}
	dur := e.cfg.Duration
	if dur <= 0 {
		dur = 10 * time.Second
	}
	n := rooms * members
	steps := make([]*stepStats, len(rates))
	for i := range steps {
		steps[i] = new(stepStats)
	}
	var side sideEvents
	// With several nodes each member records whether a delivery crossed
	// nodes; its node is where connect sends it (round-robin).
	cross := e.nodes() > 1
	handler := func(i int) func(client.Event) {
		if !cross {
			return receiver(steps, &side)
		}
		return nodeReceiver(steps, &side, e.nodeOf(i))
	}
	roomOf := func(i int) string { return fmt.Sprintf("chat-%s-%d", e.run, i/members) }
	var f fleet
	defer f.close()

	e.logf("chat: connecting %d rooms x %d members", rooms, members)
	clients := make([]*client.Client, n)
	took, err := e.connect(ctx, &f, n, func(i int) client.Options {
		return client.Options{Name: fmt.Sprintf("chat%d", i), Handler: handler(i), Reconnect: true,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second}
	}, func(ctx context.Context, i int, c *client.Client) error {
		clients[i] = c
		_, err := c.Join(ctx, roomOf(i))
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &ChatResult{Rooms: rooms, Members: members, Nodes: e.nodes(), ConnectSeconds: took.Seconds(), StepSeconds: dur.Seconds()}
	for k, rate := range rates {
		if ctx.Err() != nil {
			break
		}
		st := steps[k]
		start := stampNow()
		a := e.meter.Sample()
		ca, commitsOK := scrapeCommits(ctx, e.metricsURL)
		rc := side.reconnects.Load()
		t0 := time.Now()
		sctx, cancel := stepSends(ctx, dur)
		var wg sync.WaitGroup
		for i, c := range clients {
			pad := padding
			if cross {
				pad = nodePad(e.nodeOf(i))
			}
			wg.Go(func() { talk(sctx, c, roomOf(i), k, rate, dur, pad, st) })
		}
		wg.Wait()
		cancel()
		sendTime := time.Since(t0)
		expected := func() uint64 { return st.acked.Load() * uint64(members-1) }
		drain(ctx, st, expected)
		b := e.meter.Sample()
		step := ChatStep{
			Rate: rate, Sent: st.sent.Load(), Acked: st.acked.Load(), Failed: st.failed.Load(),
			Expected: expected(), Delivered: st.delivered.Load(),
			Ack: st.ack.Summary(), Delivery: st.latency.Summary(),
			Reconnects: side.reconnects.Load() - rc, Usage: Between(a, b),
		}
		if cross {
			same, other := st.sameNode.Summary(), st.crossNode.Summary()
			step.SameNode, step.CrossNode = &same, &other
		}
		if cb, ok := scrapeCommits(ctx, e.metricsURL); ok && commitsOK {
			step.Store = commitsBetween(ca, cb)
		}
		step.SendRate = float64(step.Acked) / sendTime.Seconds()
		step.DeliveredRatio = ratio(step.Delivered, step.Expected)
		step.DeliveriesPerSec = deliveryRate(st, start, dur)
		res.Steps = append(res.Steps, step)
		e.logf("chat: %g msg/s each: %.0f sent/s, %.0f deliveries/s, ack p99 %.1f ms, delivery p99 %.1f ms",
			rate, step.SendRate, step.DeliveriesPerSec, step.Ack.P99, step.Delivery.P99)
		if cross {
			e.logf("chat: delivery p50/p99 on the sender's node %.1f/%.1f ms, across nodes %.1f/%.1f ms",
				step.SameNode.P50, step.SameNode.P99, step.CrossNode.P50, step.CrossNode.P99)
		}
	}
	return res, nil
}

// talk sends at rate messages per second for d, each send waiting for its
// ack as a person's client would. A member whose acks come slower than its
// rate falls behind rather than bursting to catch up, so the achieved send
// rate shows it.
func talk(ctx context.Context, c *client.Client, room string, step int, rate float64, d time.Duration, pad string, st *stepStats) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	// A random phase spreads the members' sends over the interval.
	next := start.Add(rand.N(interval))
	send := wsSend(c, room)
	for next.Sub(start) < d && ctx.Err() == nil {
		if err := sleep(ctx, time.Until(next)); err != nil {
			return
		}
		st.sendPad(ctx, step, pad, send)
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
	}
}
