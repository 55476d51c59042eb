package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/client"
)

const (
	// soakRoomSize is how many soak members share a room.
	soakRoomSize = 10
	// soakRate is each member's default chat rate: one message every
	// 20 s, 500 messages a second from 10,000 members, a busy but ordinary
	// day rather than a throughput test.
	soakRate = 0.05
	// soakChurn is the default fraction of members that keep reconnecting.
	soakChurn = 0.05
	// soakLifeMin and soakLifeMax bound a churning member's connection
	// lifetime; each life ends with a close, a new dial and a join.
	soakLifeMin, soakLifeMax = 5 * time.Second, 30 * time.Second
	// soakWarmupMax caps the warm-up, otherwise a tenth of the run.
	soakWarmupMax = 5 * time.Minute
	// soakDrainMax bounds the wait for the server to settle after the
	// drain.
	soakDrainMax = 3 * time.Minute
	// soakPrimeConns is how many clients warm the server up before the
	// baseline, and soakPrimeSettle how long it then rests.
	soakPrimeConns  = 100
	soakPrimeSettle = 2 * time.Second
	// soakSendTimeout bounds one send's wait for its ack.
	soakSendTimeout = 30 * time.Second
)

// soakInterval collects what happens between two samples; the sampler
// swaps in a fresh one at each sample.
type soakInterval struct {
	sent, failed, delivered atomic.Uint64
	delivery, ack           Histogram
}

// soak is one soak run's shared state.
type soak struct {
	e        *env
	n, churn int
	rate     float64
	cur      atomic.Pointer[soakInterval]
	// conns counts open connections; churned counts the churning
	// members' reconnects, drops the unexpected ones (the client's own
	// reconnects after a lost connection), dialErrors failed redials.
	conns                      atomic.Int64
	churned, drops, dialErrors atomic.Int64
	// totals over the whole run
	sent, failed, delivered atomic.Uint64

	// sampling: where from, since when, into what
	probe probe
	t0    time.Time
	res   *SoakResult
	rec   *soakRecorder
}

func (s *soak) room(i int) string { return fmt.Sprintf("soak-%s-%d", s.e.run, i/soakRoomSize) }

// churner reports whether member i keeps reconnecting: churn of the n
// members, spread evenly over the rooms.
func (s *soak) churner(i int) bool { return s.churn > 0 && (i*s.churn)%s.n < s.churn }

// handle records deliveries into the current interval and counts drops.
// It runs on every member's reader goroutine and allocates nothing (see
// receiver).
func (s *soak) handle(ev client.Event) {
	switch ev.Type {
	case client.EventMessage:
		if _, age, ok := parsePayload(ev.Message.Text); ok {
			iv := s.cur.Load()
			iv.delivery.Record(age)
			iv.delivered.Add(1)
		}
	case client.EventReconnected:
		s.drops.Add(1)
	}
}

func (s *soak) options(i int) client.Options {
	return client.Options{Name: fmt.Sprintf("soak%d", i), Handler: s.handle, Reconnect: true,
		BackoffMin: 100 * time.Millisecond, BackoffMax: 5 * time.Second, LocalAddr: s.e.sourceAddr(i)}
}

// redial connects member i again and joins its room.
func (s *soak) redial(ctx context.Context, i int) (*client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(dctx, s.e.wsURLs[s.e.nodeOf(i)], s.options(i))
	if err != nil {
		return nil, explainDial(err, i)
	}
	if _, err := c.Join(dctx, s.room(i)); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("client %d: join: %w", i, err)
	}
	return c, nil
}

// member runs member i with its first connection c until ctx ends: it
// chats at the soak's rate, and a churning member closes its connection
// after a random lifetime, dials again and joins again, over and over. It
// closes its connection before returning.
func (s *soak) member(ctx context.Context, i int, c *client.Client) {
	churn := s.churner(i)
	for {
		life := time.Duration(1<<62 - 1)
		if churn {
			life = soakLifeMin + rand.N(soakLifeMax-soakLifeMin)
		}
		s.chat(ctx, c, s.room(i), life)
		_ = c.Close()
		s.conns.Add(-1)
		if !churn {
			return
		}
		for {
			if ctx.Err() != nil {
				return
			}
			var err error
			if c, err = s.redial(ctx, i); err == nil {
				break
			}
			s.dialErrors.Add(1)
			if sleep(ctx, time.Second) != nil {
				return
			}
		}
		s.conns.Add(1)
		s.churned.Add(1)
	}
}

// chat sends at the soak's rate into room until life passes or ctx ends,
// each send waiting for its ack.
func (s *soak) chat(ctx context.Context, c *client.Client, room string, life time.Duration) {
	interval := time.Duration(float64(time.Second) / s.rate)
	end := time.Now().Add(life)
	next := time.Now().Add(rand.N(interval))
	for ctx.Err() == nil {
		if next.After(end) {
			_ = sleep(ctx, time.Until(end))
			return
		}
		if sleep(ctx, time.Until(next)) != nil {
			return
		}
		iv := s.cur.Load()
		iv.sent.Add(1)
		s.sent.Add(1)
		sctx, cancel := context.WithTimeout(ctx, soakSendTimeout)
		t0 := time.Now()
		_, err := c.Send(sctx, room, payload(0, padding))
		cancel()
		switch {
		case err == nil:
			iv.ack.Record(time.Since(t0))
		case ctx.Err() == nil:
			iv.failed.Add(1)
			s.failed.Add(1)
		}
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
	}
}

func runSoak(ctx context.Context, e *env) (*SoakResult, error) {
	cfg := e.cfg
	s := &soak{e: e, n: withDefault(cfg.Conns, 10000), rate: soakRate}
	if len(cfg.Rates) > 0 {
		s.rate = cfg.Rates[0]
	}
	churn := cfg.Churn
	if churn == 0 {
		churn = soakChurn
	}
	if churn < 0 || churn > 1 {
		return nil, fmt.Errorf("churn %g: want a fraction from 0 to 1", churn)
	}
	s.churn = int(float64(s.n)*churn + 0.5)
	dur := cfg.Duration
	if dur <= 0 {
		dur = 10 * time.Minute
	}
	every := cfg.SampleEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	s.cur.Store(new(soakInterval))
	res := &SoakResult{Conns: s.n, Churners: s.churn, RoomSize: soakRoomSize, RatePerMember: s.rate,
		DurationSeconds: dur.Seconds(), WarmupSeconds: min(dur/10, soakWarmupMax).Seconds(), SampleSeconds: every.Seconds()}
	rec, err := newSoakRecorder(cfg.CSVPath)
	if err != nil {
		return nil, err
	}
	defer rec.close()
	s.probe, s.t0, s.res, s.rec = probe{metricsURL: e.metricsURL, pid: e.meter.ServerPID}, time.Now(), res, rec
	s.take(ctx, "cold")
	if err := s.prime(ctx); err != nil {
		return nil, fmt.Errorf("prime: %w", err)
	}
	if err := sleep(ctx, soakPrimeSettle); err != nil {
		return nil, err
	}
	base := s.take(ctx, "baseline")
	res.Source = base.Source

	runStart, err := s.run(ctx, dur, every)
	if err != nil {
		return nil, err
	}
	drainStart := time.Now()
	res.Drain = drainSamples(ctx, func() SoakSample { return s.take(ctx, "drain") }, base, min(every, 5*time.Second), e)
	res.DrainSeconds = time.Since(drainStart).Seconds()
	res.summarise(base, runStart)
	if cfg.PNGPath != "" {
		if err := plotSoak(cfg.PNGPath, res); err != nil {
			return res, err
		}
		res.PNG = cfg.PNGPath
	}
	res.CSV = cfg.CSVPath
	if err := rec.close(); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// run connects the members, lets them chat and churn for dur with a sample
// every interval, then closes every connection; it returns when the
// members started, in the samples' time.
func (s *soak) run(ctx context.Context, dur, every time.Duration) (time.Duration, error) {
	s.e.logf("soak: connecting %d clients, %d to a room, %d of them churning", s.n, soakRoomSize, s.churn)
	// On success every member closes its own connections; f closes the
	// first ones only when connecting fails.
	var f fleet
	clients := make([]*client.Client, s.n)
	took, err := s.e.connect(ctx, &f, s.n, s.options, func(ctx context.Context, i int, c *client.Client) error {
		clients[i] = c
		_, err := c.Join(ctx, s.room(i))
		return err
	})
	if err != nil {
		f.close()
		return 0, err
	}
	s.res.ConnectSeconds = took.Seconds()
	s.conns.Store(int64(s.n))
	s.e.logf("soak: %d connected in %.1fs; chatting at %g msg/s each for %v, a sample every %v", s.n, took.Seconds(), s.rate, dur, every)

	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { s.member(runCtx, i, c) })
	}
	clients = nil
	runStart := time.Since(s.t0)
	tick := time.NewTicker(every)
	for done := false; !done; {
		select {
		case <-tick.C:
			smp := s.take(ctx, "run")
			if time.Since(s.t0)-runStart >= dur {
				done = true
			}
			s.e.logf("soak: %s", smp.line())
		case <-ctx.Done():
			done = true
		}
	}
	tick.Stop()
	s.e.logf("soak: draining: closing every connection")
	stopRun()
	wg.Wait()
	return runStart, nil
}

// take records one sample of phase: the server's figures and the interval
// since the previous sample, into the result and the CSV.
func (s *soak) take(ctx context.Context, phase string) SoakSample {
	iv := s.cur.Swap(new(soakInterval))
	smp := s.probe.read(ctx)
	smp.Seconds, smp.Phase, smp.Conns = time.Since(s.t0).Seconds(), phase, s.conns.Load()
	smp.Sent, smp.Failed, smp.Delivered = iv.sent.Load(), iv.failed.Load(), iv.delivered.Load()
	smp.Churned, smp.Drops = s.churned.Load(), s.drops.Load()
	smp.DeliveryP99MS, smp.AckP99MS = -1, -1
	if iv.delivery.Count() > 0 {
		smp.DeliveryP99MS = ms(iv.delivery.Quantile(0.99))
	}
	if iv.ack.Count() > 0 {
		smp.AckP99MS = ms(iv.ack.Quantile(0.99))
	}
	s.delivered.Add(smp.Delivered)
	s.res.Samples = append(s.res.Samples, smp)
	s.rec.write(smp)
	return smp
}

// prime makes the server open what it opens lazily on its first load
// (the store's reader connections and their files, pools, caches) with a
// short burst of joins and sends from a few clients, then closes them, so
// the baseline is a warmed server with no connections rather than a cold
// one that no drain could return to.
func (s *soak) prime(ctx context.Context) error {
	var f fleet
	defer f.close()
	_, err := s.e.connect(ctx, &f, min(s.n, soakPrimeConns), func(i int) client.Options {
		return client.Options{Name: fmt.Sprintf("soakprime%d", i), Handler: func(client.Event) {}}
	}, func(ctx context.Context, i int, c *client.Client) error {
		room := fmt.Sprintf("soak-%s-prime-%d", s.e.run, i/soakRoomSize)
		if _, err := c.Join(ctx, room); err != nil {
			return err
		}
		_, err := c.Send(ctx, room, payload(0, padding))
		return err
	})
	return err
}

// drainSamples samples every step after the drain until goroutines and
// descriptors are back within a small margin of base, or have not moved for
// three samples, or soakDrainMax passes. It reports whether they came back.
func drainSamples(ctx context.Context, take func() SoakSample, base SoakSample, step time.Duration, e *env) DrainResult {
	deadline := time.Now().Add(soakDrainMax)
	var prev SoakSample
	still := 0
	for {
		if sleep(ctx, step) != nil {
			return DrainResult{}
		}
		smp := take()
		e.logf("soak: %s", smp.line())
		back := smp.Goroutines >= 0 && smp.Goroutines <= base.Goroutines+drainSlack(base.Goroutines) &&
			(smp.FDs < 0 || smp.FDs <= base.FDs+drainSlack(base.FDs))
		if smp.Goroutines == prev.Goroutines && smp.FDs == prev.FDs {
			still++
		} else {
			still = 0
		}
		prev = smp
		if back || still >= 2 || time.Now().After(deadline) || smp.Goroutines < 0 {
			return DrainResult{Back: back, Goroutines: smp.Goroutines, FDs: smp.FDs, RSS: smp.RSS, HeapInuse: smp.HeapInuse}
		}
	}
}

// drainSlack is how far above its baseline a count may stay and still be
// "back": the scraper's own keep-alive connection and the runtime's
// background goroutines come and go.
func drainSlack(base int64) int64 { return max(5, base/50) }
