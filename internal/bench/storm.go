package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/client"
)

const (
	// stormRoomSize is how many storm clients share a room.
	stormRoomSize = 10
	// stormMessages is how many messages each room gets while its members
	// are away.
	stormMessages = 3
	// roomsPerPublisher stays under the server's default max-rooms-per-conn.
	roomsPerPublisher = 100
	// stormWait bounds the wait for everyone to come back.
	stormWait = 90 * time.Second
)

// stormMember is one storm client's view; only its reader goroutine writes
// it, the scenario reads it at the end.
type stormMember struct {
	lastSeq    atomic.Int64
	got        atomic.Int64
	dups, ooo  atomic.Uint64
	reconnects atomic.Int64
}

func runStorm(ctx context.Context, e *env) (*StormResult, error) {
	n := withDefault(e.cfg.Conns, 10000)
	rooms := (n + stormRoomSize - 1) / stormRoomSize
	roomName := func(r int) string { return fmt.Sprintf("storm-%s-%d", e.run, r) }
	res := &StormResult{Clients: n, RoomSize: stormRoomSize}
	k := newCutter(e)
	defer k.open()
	members := make([]stormMember, n)
	var back, complete atomic.Int64
	var lastBack, lastComplete atomic.Int64 // stampNow
	handler := func(m *stormMember) func(client.Event) {
		return func(ev client.Event) {
			switch ev.Type {
			case client.EventMessage:
				seq, last := ev.Message.Seq, m.lastSeq.Load()
				switch {
				case seq <= last:
					m.dups.Add(1)
				case last > 0 && seq != last+1:
					m.ooo.Add(1)
				}
				m.lastSeq.Store(max(seq, last))
				if m.got.Add(1) == stormMessages {
					complete.Add(1)
					lastComplete.Store(stampNow())
				}
			case client.EventReconnected:
				if m.reconnects.Add(1) == 1 {
					back.Add(1)
					lastBack.Store(stampNow())
				}
			}
		}
	}
	var f fleet
	defer f.close()

	e.logf("storm: connecting %d clients", n)
	a := e.meter.Sample()
	took, err := e.connect(ctx, &f, n, func(i int) client.Options {
		return client.Options{Name: fmt.Sprintf("storm%d", i), Handler: handler(&members[i]), NetDial: k.dial,
			Reconnect: true, BackoffMin: 100 * time.Millisecond, BackoffMax: 5 * time.Second}
	}, func(ctx context.Context, i int, c *client.Client) error {
		_, err := c.Join(ctx, roomName(i/stormRoomSize))
		return err
	})
	if err != nil {
		return nil, err
	}
	b := e.meter.Sample()
	res.ConnectSeconds, res.ConnectRate, res.Connect = took.Seconds(), float64(n)/took.Seconds(), Between(a, b)
	e.logf("storm: %d connected in %.2fs (%.0f/s)", n, took.Seconds(), res.ConnectRate)

	// Publishers stay connected through the storm; each covers up to
	// roomsPerPublisher rooms.
	var pubs fleet
	defer pubs.close()
	np := (rooms + roomsPerPublisher - 1) / roomsPerPublisher
	pubClients := make([]*client.Client, np)
	if _, err := e.connect(ctx, &pubs, np, func(j int) client.Options {
		return client.Options{Name: fmt.Sprintf("stormpub%d", j), Handler: func(client.Event) {}}
	}, func(ctx context.Context, j int, c *client.Client) error {
		pubClients[j] = c
		for r := j * roomsPerPublisher; r < min(rooms, (j+1)*roomsPerPublisher); r++ {
			if _, err := c.Join(ctx, roomName(r)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}

	res.Cut = k.cut()
	e.logf("storm: cut %d connections; sending %d messages to each of %d rooms", res.Cut, stormMessages, rooms)
	var sent atomic.Int64
	err = each(ctx, rooms*stormMessages, 64, func(ctx context.Context, i int) error {
		r := i % rooms
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := pubClients[r/roomsPerPublisher].Send(sctx, roomName(r), "storm "+padding); err != nil {
			return fmt.Errorf("publish to %s: %w", roomName(r), err)
		}
		sent.Add(1)
		return nil
	})
	res.SentWhileAway = int(sent.Load())
	if err != nil {
		return nil, err
	}

	e.logf("storm: letting %d clients back at once", n)
	a = e.meter.Sample()
	open := stampNow()
	k.open()
	deadline := time.Now().Add(stormWait)
	for (back.Load() < int64(n) || complete.Load() < int64(n)) && time.Now().Before(deadline) {
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			break
		}
	}
	b = e.meter.Sample()
	res.Reconnect = Between(a, b)
	if back.Load() == int64(n) {
		res.ReconnectSeconds = time.Duration(lastBack.Load() - open).Seconds()
		res.ReconnectRate = float64(n) / max(res.ReconnectSeconds, 1e-3)
	}
	if complete.Load() == int64(n) {
		res.RecoverySeconds = time.Duration(lastComplete.Load() - open).Seconds()
	}
	res.Expected = uint64(n) * stormMessages
	for i := range members {
		m := &members[i]
		res.Recovered += uint64(m.got.Load())
		res.Duplicates += m.dups.Load()
		res.OutOfOrder += m.ooo.Load()
	}
	if back.Load() < int64(n) || complete.Load() < int64(n) {
		return res, fmt.Errorf("after %v only %d of %d clients were back and %d had every message",
			stormWait, back.Load(), n, complete.Load())
	}
	return res, nil
}
