package bench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/client"
)

// stepStats collects one step of a rate-stepping scenario. Receivers find
// their step from the payload, so a late delivery is counted where it
// belongs.
type stepStats struct {
	sent, acked, failed atomic.Uint64
	delivered           atomic.Uint64
	lastDelivery        atomic.Int64 // stampNow of the latest delivery
	latency             Histogram    // send to delivery
	ack                 Histogram    // send to ack
	// sameNode and crossNode split latency by whether the receiver is
	// on the sender's node; only chat with several nodes records them.
	sameNode, crossNode Histogram
}

// sideEvents counts what members receive besides timed messages.
type sideEvents struct {
	reconnects atomic.Int64
	// presence counts presence frames: in a room of one user it stays near
	// the room's size, in a room of distinct users it grows with its square.
	presence atomic.Int64
}

// receiver returns the Handler that records deliveries into steps and
// counts reconnects and presence frames into side. It runs once per
// delivery on every member's reader goroutine, so it allocates nothing: the
// client hands it a message decoded in place, valid only during the call
// (client.Options.Handler), and the payload's step and send time are read
// from the text as it is, with no second decode and nothing kept.
func receiver(steps []*stepStats, side *sideEvents) func(client.Event) {
	return nodeReceiver(steps, side, -1)
}

// nodeReceiver is receiver for a member on node; with node >= 0 it also
// records each delivery's latency as same-node or cross-node, by the
// sender's node in the payload (see nodePad).
func nodeReceiver(steps []*stepStats, side *sideEvents, node int) func(client.Event) {
	return func(ev client.Event) {
		switch ev.Type {
		case client.EventMessage:
			step, age, rest, ok := parsePayloadRest(ev.Message.Text)
			if !ok || step < 0 || step >= len(steps) {
				return
			}
			st := steps[step]
			st.latency.Record(age)
			if node >= 0 {
				switch from := padNode(rest); {
				case from == node:
					st.sameNode.Record(age)
				case from >= 0:
					st.crossNode.Record(age)
				}
			}
			st.delivered.Add(1)
			now := stampNow()
			for {
				last := st.lastDelivery.Load()
				if now <= last || st.lastDelivery.CompareAndSwap(last, now) {
					break
				}
			}
		case client.EventReconnected:
			side.reconnects.Add(1)
		case client.EventPresence:
			side.presence.Add(1)
		}
	}
}

// sendTimeout bounds the sends of a step: none outlives its step by more.
const sendTimeout = 30 * time.Second

// stepSends returns the context a step of length d sends under: ctx, ended
// sendTimeout after the step. One deadline for all of a step's sends rather
// than one per send: a context per send (a timer, and a child registered
// with the parent every member shares, under its lock) cost the tool about
// 4 % of its CPU at 10,000 sends a second.
func stepSends(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d+sendTimeout)
}

// sendFunc sends one message with text and returns once the server has
// acknowledged it: a WebSocket ack, or an HTTP API post's answer.
type sendFunc func(ctx context.Context, text string) error

// wsSend sends into room over c's WebSocket.
func wsSend(c *client.Client, room string) sendFunc {
	return func(ctx context.Context, text string) error {
		_, err := c.Send(ctx, room, text)
		return err
	}
}

// send sends one timed message of step with fn and records its ack. ctx
// bounds the send; see stepSends.
func (st *stepStats) send(ctx context.Context, step int, fn sendFunc) {
	st.sendPad(ctx, step, padding, fn)
}

// sendPad is send with the payload padded with pad.
func (st *stepStats) sendPad(ctx context.Context, step int, pad string, fn sendFunc) {
	st.sent.Add(1)
	t0 := time.Now()
	if err := fn(ctx, payload(step, pad)); err != nil {
		st.failed.Add(1)
		return
	}
	st.ack.Record(time.Since(t0))
	st.acked.Add(1)
}

// drain waits until every expected delivery of a step has arrived, or
// deliveries stop making progress for a second, or 10 s pass.
func drain(ctx context.Context, st *stepStats, expected func() uint64) {
	deadline := time.Now().Add(10 * time.Second)
	last, lastChange := st.delivered.Load(), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		d := st.delivered.Load()
		if d >= expected() {
			return
		}
		if d != last {
			last, lastChange = d, time.Now()
		} else if time.Since(lastChange) > time.Second {
			return
		}
		_ = sleep(ctx, 20*time.Millisecond)
	}
}

// deliveryRate is deliveries per second over the step: from its start to
// the later of its sending window's end and its last delivery.
func deliveryRate(st *stepStats, start int64, window time.Duration) float64 {
	span := max(time.Duration(st.lastDelivery.Load()-start), window)
	if span <= 0 {
		return 0
	}
	return float64(st.delivered.Load()) / span.Seconds()
}

func ratio(got, want uint64) float64 {
	if want == 0 {
		return 0
	}
	return min(float64(got)/float64(want), 1)
}
