package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoAPIKey and ErrNoJWTSecret are why publish cannot run against a
// server the tool did not start; a server it starts gets both by itself.
var (
	ErrNoAPIKey = errors.New("publish needs an API key of the server with the publish and rooms scopes: " +
		"give --api-key or PARLEY_BENCH_API_KEY (make one with `parley apikey create --name bench --scopes publish,rooms`)")
	ErrNoJWTSecret = errors.New("publish needs the server's HS256 secret to sign its subscribers' tokens: " +
		"give --jwt-secret-file, the file the server reads with --jwt-algorithm HS256 --jwt-secret-file")
)

// batchSize is how many messages publish's batch phase posts a request:
// the most POST /api/v1/messages takes.
const batchSize = 100

func runPublish(ctx context.Context, e *env) (*PublishResult, error) {
	switch {
	case e.cfg.APIKey == "":
		return nil, ErrNoAPIKey
	case len(e.cfg.JWTSecret) == 0:
		return nil, ErrNoJWTSecret
	}
	api := newAPIClient(e.apiURLs, e.cfg.APIKey, e.run)
	defer api.close()
	workers := withDefault(e.cfg.Workers, 32)
	dur := e.cfg.Duration
	if dur <= 0 {
		dur = 5 * time.Second
	}
	res := &PublishResult{Workers: workers}

	// Throughput: a room nobody is in, so the figures are the API's and
	// the store's, not the fan-out's.
	quiet := "publish-" + e.run + "-quiet"
	if err := api.createRoom(ctx, quiet); err != nil {
		return nil, explainAPI(err)
	}
	e.logf("publish: %d workers posting single messages for %v", workers, dur)
	single, err := hammer(ctx, e, workers, dur, func(ctx context.Context) (int, error) {
		return 1, api.post(ctx, quiet, "publish "+padding)
	})
	res.Single = single
	if err != nil {
		return res, fmt.Errorf("single posts: %w", err)
	}
	e.logf("publish: %.0f posts/s, p99 %.1f ms", single.MessagesPerSec, single.Latency.P99)
	e.logf("publish: %d workers posting batches of %d for %v", workers, batchSize, dur)
	batch, err := hammer(ctx, e, workers, dur, func(ctx context.Context) (int, error) {
		failed, err := api.postBatch(ctx, quiet, "publish "+padding, batchSize)
		if err == nil && failed > 0 {
			err = fmt.Errorf("the server refused %d of a batch of %d", failed, batchSize)
		}
		return batchSize, err
	})
	res.Batch = batch
	if err != nil {
		return res, fmt.Errorf("batches: %w", err)
	}
	e.logf("publish: %.0f messages/s in batches, request p99 %.1f ms", batch.MessagesPerSec, batch.Latency.P99)

	if res.Delivery, err = publishToMembers(ctx, e, api); err != nil {
		return res, err
	}
	res.Notify, err = notifyOffline(ctx, e, api, quiet, workers)
	return res, err
}

// publishToMembers posts through the API into a room of members who are
// one guest user, stepping through rates as fanout does, each post's text
// carrying its send time.
func publishToMembers(ctx context.Context, e *env, api *apiClient) (*FanoutResult, error) {
	members := withDefault(e.cfg.Members, 2000)
	room := "publish-" + e.run
	if err := api.createRoom(ctx, room); err != nil {
		return nil, explainAPI(err)
	}
	cl := newClimb("publish", e.cfg)
	var f fleet
	// The members leave before the notification phase, which is about
	// subscribers who are not connected.
	defer f.close()
	if err := cl.join(ctx, e, &f, members, room); err != nil {
		return nil, err
	}
	return cl.run(ctx, e, members, func(ctx context.Context, text string) error {
		return api.post(ctx, room, text)
	}), nil
}

// hammer runs workers closed loops of call, each starting its next call
// when the last has answered, for d, and returns what they achieved. call
// returns how many messages the request carried. It fails when no call
// succeeded; the first error is kept in the result either way.
func hammer(ctx context.Context, e *env, workers int, d time.Duration, call func(ctx context.Context) (int, error)) (*Throughput, error) {
	var (
		lat                        Histogram
		requests, msgs             atomic.Uint64
		failedRequests, failedMsgs atomic.Uint64
		errOnce                    sync.Once
		firstErr                   error
		wg                         sync.WaitGroup
	)
	callCtx, cancel := stepSends(ctx, d)
	defer cancel()
	before := e.meter.Sample()
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				n, err := call(callCtx)
				if err != nil {
					failedRequests.Add(1)
					failedMsgs.Add(uint64(n))
					errOnce.Do(func() { firstErr = err })
					if s := status(err); s >= 400 && s < 500 {
						return // refused, and it will be again
					}
					continue
				}
				lat.Record(time.Since(t0))
				requests.Add(1)
				msgs.Add(uint64(n))
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	t := &Throughput{Workers: workers, Seconds: secs, Requests: requests.Load(), Messages: msgs.Load(),
		FailedRequests: failedRequests.Load(), Failed: failedMsgs.Load(), Latency: lat.Summary(), Usage: Between(before, e.meter.Sample())}
	t.RequestsPerSec, t.MessagesPerSec = float64(t.Requests)/secs, float64(t.Messages)/secs
	if firstErr != nil {
		t.FirstError = firstErr.Error()
	}
	if t.Requests == 0 {
		if firstErr == nil {
			firstErr = ctx.Err()
		}
		return t, fmt.Errorf("no request succeeded: %w", explainAPI(firstErr))
	}
	return t, nil
}

// explainAPI adds advice to the API answers a misconfigured run meets.
func explainAPI(err error) error {
	switch status(err) {
	case 401:
		return fmt.Errorf("%w (is --api-key a key of this server?)", err)
	case 403:
		return fmt.Errorf("%w (the API key needs the publish and rooms scopes)", err)
	}
	return err
}
