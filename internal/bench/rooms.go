package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley/client"
)

// roomsGoal is the rooms scenario's mark: filling one room must go at
// least half as fast as joining the same number of separate rooms.
const roomsGoal = 0.5

// runRooms measures joins: N connections, each a guest of its own, first
// each joining a room of its own, then (new connections) all joining one
// room. Connections are dialled before the clock starts, so the rates are
// of joins alone.
func runRooms(ctx context.Context, e *env) (*RoomsResult, error) {
	n := withDefault(e.cfg.Conns, 10000)
	res := &RoomsResult{Conns: n, Nodes: e.nodes()}
	var err error
	if res.Separate, err = joinPhase(ctx, e, n, "separate", func(i int) string {
		return fmt.Sprintf("own-%s-%d", e.run, i)
	}); err != nil {
		return nil, err
	}
	// The first phase's connections close with it: let the nodes finish
	// with them (in a cluster each close writes to the store) before the
	// second phase dials as many again.
	waitIdle(ctx, e)
	if res.One, err = joinPhase(ctx, e, n, "one", func(int) string { return "one-" + e.run }); err != nil {
		return res, err
	}
	if res.Separate.JoinsPerSec > 0 {
		res.Ratio = res.One.JoinsPerSec / res.Separate.JoinsPerSec
	}
	res.OK = res.Ratio >= roomsGoal
	return res, nil
}

// joinPhase connects n guests, then times each one's join of room(i), up
// to dialConcurrency at once, and closes them.
func joinPhase(ctx context.Context, e *env, n int, name string, room func(i int) string) (RoomsPhase, error) {
	var f fleet
	defer f.close()
	e.logf("rooms: %s: connecting %d guests", name, n)
	clients := make([]*client.Client, n)
	if _, err := e.connect(ctx, &f, n, func(i int) client.Options {
		// The members drop presence unread (the server still sends it):
		// decoding every member's presence_diff cost the tool five times
		// the server's CPU, and the tool, not the server, set the pace.
		return client.Options{Name: fmt.Sprintf("rooms%d", i), Handler: func(client.Event) {}, IgnorePresence: true,
			ReadBufferSize: 8192}
	}, func(_ context.Context, i int, c *client.Client) error {
		clients[i] = c
		return nil
	}); err != nil {
		return RoomsPhase{}, err
	}
	var lat Histogram
	a := e.meter.Sample()
	t0 := time.Now()
	err := each(ctx, n, dialConcurrency, func(ctx context.Context, i int) error {
		jctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		start := time.Now()
		if _, err := clients[i].Join(jctx, room(i)); err != nil {
			return fmt.Errorf("client %d: join: %w", i, err)
		}
		lat.Record(time.Since(start))
		return nil
	})
	took := time.Since(t0)
	b := e.meter.Sample()
	if err != nil {
		return RoomsPhase{}, err
	}
	p := RoomsPhase{Rooms: n, JoinSeconds: took.Seconds(), JoinsPerSec: float64(n) / took.Seconds(),
		Latency: lat.Summary(), Usage: Between(a, b)}
	if name == "one" {
		p.Rooms = 1
	}
	e.logf("rooms: %s: %d joins in %.2fs, %.0f joins/s, join p50 %.1f ms p99 %.1f ms",
		name, n, took.Seconds(), p.JoinsPerSec, p.Latency.P50, p.Latency.P99)
	return p, nil
}

// waitIdle waits until no node reports a connection open (parley_connections
// on its /metrics; up to two minutes, and not at all when the metrics cannot
// be read), then settle more.
func waitIdle(ctx context.Context, e *env) {
	start := time.Now()
	for time.Since(start) < 2*time.Minute && ctx.Err() == nil {
		open, ok := 0.0, true
		for _, u := range e.metricsURLs {
			v, got := scrapeGauge(ctx, u, "parley_connections")
			open, ok = open+v, ok && got
		}
		if !ok || open == 0 {
			break
		}
		_ = sleep(ctx, 200*time.Millisecond)
	}
	_ = sleep(ctx, settle)
	e.logf("rooms: the nodes were idle again after %.1fs", time.Since(start).Seconds())
}

// RoomsPhase is one half of the rooms scenario.
type RoomsPhase struct {
	Rooms       int     `json:"rooms"`
	JoinSeconds float64 `json:"join_seconds"`
	JoinsPerSec float64 `json:"joins_per_second"`
	// Latency is from sending join to its joined reply.
	Latency Latency `json:"join_latency"`
	Usage   Usage   `json:"usage"`
}

// RoomsResult is the rooms scenario's outcome: Conns guests joining Conns
// rooms, then one room. Ratio is One's joins per second over Separate's;
// OK says it reached the goal of 0.5.
type RoomsResult struct {
	Conns    int        `json:"conns"`
	Nodes    int        `json:"nodes"`
	Separate RoomsPhase `json:"separate_rooms"`
	One      RoomsPhase `json:"one_room"`
	Ratio    float64    `json:"ratio"`
	OK       bool       `json:"ok"`
}

func (r *RoomsResult) writeText(w io.Writer) {
	var rows []string
	for _, p := range []struct {
		name string
		p    RoomsPhase
	}{{"separate rooms", r.Separate}, {"one room", r.One}} {
		rows = append(rows, row(p.name, fmt.Sprint(p.p.Rooms), fmt.Sprintf("%.2f", p.p.JoinSeconds),
			fmt.Sprintf("%.0f", p.p.JoinsPerSec), fmt.Sprintf("%.1f", p.p.Latency.P50), fmt.Sprintf("%.1f", p.p.Latency.P99),
			cores(p.p.Usage.ServerCPU), fmt.Sprintf("%.2f", p.p.Usage.ClientCPU)))
	}
	table(w, fmt.Sprintf("rooms: %d guests joining, over %d node(s)", r.Conns, r.Nodes),
		"joining\trooms\tseconds\tjoins/s\tjoin p50 ms\tjoin p99 ms\tserver CPU\ttool CPU", rows)
	verdict := "yes"
	if !r.OK {
		verdict = "no"
	}
	fmt.Fprintf(w, "one room's rate over separate rooms': %.2f (goal >= %.1f: %s)\n", r.Ratio, roomsGoal, verdict)
}
