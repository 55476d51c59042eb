package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

const (
	// notifyRounds is how many notifications publish sends to the same
	// subscribers: the first meets whatever is cold, the second shows the
	// steady state.
	notifyRounds = 2
	// quietPosts is how many posts, one after another, tell a chat post's
	// latency with nothing else going on, to compare with the posts made
	// while a notification is stored.
	quietPosts = 20
)

// notifyOffline subscribes Subscribers external users, none connected, to
// a topic over HTTP, then publishes notifications to it one at a time,
// each timed and measured in the server's memory, while chat posts go
// into room one after another to show whether storing it holds them up.
func notifyOffline(ctx context.Context, e *env, api *apiClient, room string, workers int) (*NotifyResult, error) {
	n := withDefault(e.cfg.Subscribers, 10000)
	pattern := "bench." + e.run + ".>"
	topic := "bench." + e.run + ".x"
	res := &NotifyResult{Subscribers: n, Topic: topic}
	user := func(i int) string { return "bench-" + e.run + "-" + strconv.Itoa(i) }

	e.logf("publish: subscribing %d external users to %s over HTTP", n, pattern)
	a := e.meter.Sample()
	err := each(ctx, n, workers, func(ctx context.Context, i int) error {
		tok, err := externalToken(e.cfg.JWTSecret, user(i))
		if err != nil {
			return err
		}
		err = api.subscribe(ctx, tok, pattern)
		if status(err) == 401 {
			return fmt.Errorf("%w (does the server take HS256 tokens signed with this secret, "+
				"with no --jwt-audience or --jwt-issuer?)", err)
		}
		return err
	})
	b := e.meter.Sample()
	res.Subscribe = Between(a, b)
	res.SubscribeSeconds = res.Subscribe.Seconds
	res.SubscribeRate = float64(n) / res.Subscribe.Seconds
	if err != nil {
		return res, fmt.Errorf("subscribe: %w", err)
	}
	e.logf("publish: %d subscribed in %.1fs (%.0f/s)", n, res.SubscribeSeconds, res.SubscribeRate)

	var quiet Histogram
	for range quietPosts {
		t0 := time.Now()
		if err := api.post(ctx, room, "quiet "+padding); err != nil {
			return res, fmt.Errorf("quiet post: %w", err)
		}
		quiet.Record(time.Since(t0))
	}
	res.QuietPost = quiet.Summary()

	for k := range notifyRounds {
		r, err := notifyOnce(ctx, e, api, room, topic, k)
		res.Rounds = append(res.Rounds, r)
		if err != nil {
			return res, fmt.Errorf("notification %d: %w", k+1, err)
		}
		e.logf("publish: notification %d to %d stored in %.1f ms; chat posts meanwhile max %.1f ms",
			k+1, r.Recipients, r.StoreMS, r.PostsDuring.Max)
		if r.Recipients != n {
			return res, fmt.Errorf("notification %d reached %d recipients, want the %d subscribers", k+1, r.Recipients, n)
		}
	}

	// Every subscriber now has them unread; ask one, as its app would.
	tok, err := externalToken(e.cfg.JWTSecret, user(n-1))
	if err == nil {
		res.Unread, err = api.unread(ctx, tok)
	}
	if err != nil {
		return res, fmt.Errorf("a subscriber's unread count: %w", err)
	}
	if res.Unread != notifyRounds {
		return res, fmt.Errorf("a subscriber has %d unread notifications, want %d", res.Unread, notifyRounds)
	}
	return res, nil
}

// notifyOnce publishes one notification to topic while posting into room
// one post after another, then posts once more.
func notifyOnce(ctx context.Context, e *env, api *apiClient, room, topic string, k int) (NotifyRound, error) {
	var r NotifyRound
	peakOK := e.meter.ResetPeak() == nil
	before := e.meter.Sample()

	stop := make(chan struct{})
	var (
		during   Histogram
		probeErr error
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if err := api.post(ctx, room, "during "+padding); err != nil {
				probeErr = err
				return
			}
			during.Record(time.Since(t0))
		}
	})
	t0 := time.Now()
	recipients, err := api.notify(ctx, topic, "parley bench notification "+strconv.Itoa(k+1))
	r.StoreMS = ms(time.Since(t0))
	after := e.meter.Sample()
	close(stop)
	wg.Wait()
	r.Recipients, r.PostsDuring = recipients, during.Summary()
	if before.ServerOK && after.ServerOK {
		r.ServerRSSBefore, r.ServerRSSAfter = &before.ServerRSS, &after.ServerRSS
	}
	if peak, ok := e.meter.ServerPeak(); ok && peakOK {
		r.ServerRSSPeak = &peak
	}
	if err != nil || probeErr != nil {
		return r, errors.Join(explainAPI(err), probeErr)
	}

	t1 := time.Now()
	if err := api.post(ctx, room, "after "+padding); err != nil {
		return r, fmt.Errorf("post after it: %w", err)
	}
	r.PostAfterMS = ms(time.Since(t1))
	return r, nil
}
