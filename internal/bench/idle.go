package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/parley-chat/parley/client"
)

// idleRoomSize is how many idle connections share a room: rooms are real
// but small, so the figure is the connection's cost and not a presence
// storm's.
const idleRoomSize = 10

// settle is how long the idle scenario waits for the server's memory to
// settle after connecting and after closing.
const settle = 2 * time.Second

func runIdle(ctx context.Context, e *env) (*IdleResult, error) {
	n := withDefault(e.cfg.Conns, 10000)
	hold := e.cfg.Duration
	if hold <= 0 {
		hold = 5 * time.Second
	}
	res := &IdleResult{Conns: n, RoomSize: idleRoomSize}
	var f fleet
	defer f.close()

	runtime.GC()
	before := e.meter.Sample()
	e.logf("idle: connecting %d clients, %d to a room", n, idleRoomSize)
	took, err := e.connect(ctx, &f, n, func(i int) client.Options {
		return client.Options{Name: fmt.Sprintf("idle%d", i), Handler: func(client.Event) {}}
	}, func(ctx context.Context, i int, c *client.Client) error {
		_, err := c.Join(ctx, fmt.Sprintf("idle-%s-%d", e.run, i/idleRoomSize))
		return err
	})
	if err != nil {
		return nil, err
	}
	connected := e.meter.Sample()
	res.ConnectSeconds = took.Seconds()
	res.ConnectRate = float64(n) / took.Seconds()
	res.Connect = Between(before, connected)
	e.logf("idle: %d connected in %.2fs; holding %v", n, took.Seconds(), hold)

	if err := sleep(ctx, max(settle, hold)); err != nil {
		return nil, err
	}
	runtime.GC()
	held := e.meter.Sample()
	res.Hold = Between(connected, held)
	res.ClientBytesPerConn = float64(held.SelfRSS-before.SelfRSS) / float64(n)
	if before.ServerOK && held.ServerOK {
		res.ServerRSSBefore, res.ServerRSSConnected = &before.ServerRSS, &held.ServerRSS
		per := float64(held.ServerRSS-before.ServerRSS) / float64(n)
		res.ServerBytesPerConn = &per
	}

	e.logf("idle: closing")
	f.close()
	if err := sleep(ctx, settle); err != nil {
		return nil, err
	}
	if after := e.meter.Sample(); after.ServerOK {
		res.ServerRSSAfterClose = &after.ServerRSS
	}
	return res, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
