// Package webhook sends Parley's events to the HTTP endpoints an
// administrator configured: each event as a signed JSON POST, from a
// durable outbox in the store (so a restart loses none), retried with
// exponential backoff for a bounded time, by a bounded pool of senders in
// which one slow or dead endpoint can hold only its own share, never the
// chat.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/store"
)

// Service is an event.Sink.
var _ event.Sink = (*Service)(nil)

// Config tunes the service. Zero values take the defaults noted.
type Config struct {
	// RetryMin is the wait before the first retry; each next one doubles,
	// up to RetryMax. Defaults 5s and 15m.
	RetryMin, RetryMax time.Duration
	// RetryFor is how long an event is retried before it is given up.
	// Default 24h.
	RetryFor time.Duration
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
	// Workers bounds the requests in flight to all endpoints; each
	// endpoint has at most PerEndpoint of them. Defaults 8 and 2.
	Workers, PerEndpoint int
	// Queue is how many events may wait to be written to the outbox;
	// past it events are dropped (and counted). Default 10,000.
	Queue int
	// Poll is how often the outbox is read for deliveries whose retry is
	// due. Default 1s.
	Poll time.Duration
	// UserAgent names the sender. Default "Parley-Webhook".
	UserAgent string
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RetryMin, 5*time.Second)
	def(&c.RetryMax, 15*time.Minute)
	def(&c.RetryFor, 24*time.Hour)
	def(&c.Timeout, 10*time.Second)
	def(&c.Poll, time.Second)
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PerEndpoint <= 0 {
		c.PerEndpoint = 2
	}
	if c.Queue <= 0 {
		c.Queue = 10_000
	}
	if c.UserAgent == "" {
		c.UserAgent = "Parley-Webhook"
	}
}

// Metrics hears of every delivery's outcome; the server wires it to
// Prometheus. Its methods must be cheap and safe for concurrent use.
type Metrics interface {
	WebhookDelivered(d time.Duration)
	WebhookFailed(abandoned bool)
	WebhookDropped()
}

type noMetrics struct{}

func (noMetrics) WebhookDelivered(time.Duration) {}
func (noMetrics) WebhookFailed(bool)             {}
func (noMetrics) WebhookDropped()                {}

// pending is an event on its way to the outbox.
type pending struct {
	id, typ string
	data    any
	at      time.Time
}

// Service takes events from the server (Emit), writes them to the outbox
// and delivers them. Create it with New, stop it with Close.
type Service struct {
	cfg     Config
	store   store.Store
	log     *slog.Logger
	metrics Metrics
	client  *http.Client

	events chan pending
	wake   chan struct{}
	// done carries each delivery whose outcome is recorded back to the
	// dispatcher; it has room for every request that can be in flight.
	done   chan string
	stop   chan struct{}
	cancel context.CancelFunc // of the in-flight requests
	ctx    context.Context
	wg     sync.WaitGroup

	// endpoints is the configured endpoints, replaced whole by Reload;
	// wanted is the event types any of them wants.
	endpoints atomic.Pointer[[]store.Webhook]
	wanted    atomic.Pointer[map[string]bool]

	// Owned by the dispatcher goroutine alone: a delivery leaves inflight
	// only between two reads of the outbox, after its outcome is
	// committed, so no read can return a delivery that is both finished
	// and no longer in flight, and none is sent twice.
	inflight map[string]string // delivery id → endpoint id, of those being sent
	per      map[string]int    // requests in flight per endpoint
	busy     int               // requests in flight in all

	mu     sync.Mutex
	closed bool
}

// New returns a service over st, with its endpoints read from the store,
// and starts its goroutines. m may be nil.
func New(ctx context.Context, cfg Config, st store.Store, log *slog.Logger, m Metrics) (*Service, error) {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = noMetrics{}
	}
	s := &Service{cfg: cfg, store: st, log: log, metrics: m,
		events: make(chan pending, cfg.Queue), wake: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan string, cfg.Workers), inflight: make(map[string]string), per: make(map[string]int)}
	s.client = &http.Client{
		Timeout: cfg.Timeout,
		// A redirect could lead anywhere, the server itself included:
		// the answer to the configured URL is the outcome.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.writeLoop()
	go s.dispatchLoop()
	return s, nil
}

// Reload reads the endpoints from the store again; call it after they
// change.
func (s *Service) Reload(ctx context.Context) error {
	list, err := s.store.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhook: read endpoints: %w", err)
	}
	wanted := make(map[string]bool)
	for _, w := range list {
		for _, e := range w.Events {
			if e == "*" {
				for _, all := range event.Types {
					wanted[all] = true
				}
			}
			wanted[e] = true
		}
	}
	s.endpoints.Store(&list)
	s.wanted.Store(&wanted)
	return nil
}

// Wants reports whether any endpoint wants events of type typ, so that
// the caller can skip building one nobody will get.
func (s *Service) Wants(typ string) bool {
	return (*s.wanted.Load())[typ]
}

// Emit queues an event of type typ with data for the endpoints that want
// it; data must not change afterwards, as it is marshalled to JSON later,
// off the caller's path. Emit never blocks: when the queue is full the
// event is dropped, logged and counted.
func (s *Service) Emit(typ string, data any) {
	if !s.Wants(typ) {
		return
	}
	select {
	case s.events <- pending{id: store.NewID(), typ: typ, data: data, at: store.Now()}:
	default:
		s.metrics.WebhookDropped()
		s.log.Warn("webhook: the event queue is full; an event was dropped", "event", typ)
	}
}

// Close stops the service: events still queued are written to the outbox
// (so a clean restart loses none), requests in flight are abandoned (they
// are sent again after the restart) and every goroutine has ended when it
// returns.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.cancel()
	s.wg.Wait()
}

// flushEvery bounds how long an event waits in memory before it is in the
// outbox; flushSize, how many are written in one transaction.
const (
	flushEvery = 100 * time.Millisecond
	flushSize  = 256
)

// writeLoop moves events from the queue to the outbox, in batches.
func (s *Service) writeLoop() {
	defer s.wg.Done()
	var batch []pending
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case ev := <-s.events:
			if batch = append(batch, ev); len(batch) < flushSize {
				continue
			}
		case <-tick.C:
		case <-s.stop:
			for len(s.events) > 0 {
				batch = append(batch, <-s.events)
			}
			s.write(batch)
			return
		}
		s.write(batch)
		batch = batch[:0]
	}
}

// write puts a batch of events in the outbox, one delivery per endpoint
// that wants each, and wakes the dispatcher.
func (s *Service) write(batch []pending) {
	if len(batch) == 0 {
		return
	}
	var ds []store.WebhookDelivery
	for _, ev := range batch {
		payload, err := json.Marshal(struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			CreatedAt string `json:"created_at"`
			Data      any    `json:"data"`
		}{ev.id, ev.typ, ev.at.Format("2006-01-02T15:04:05.000Z07:00"), ev.data})
		if err != nil {
			s.log.Error("webhook: encoding an event", "event", ev.typ, "err", err)
			continue
		}
		for _, w := range *s.endpoints.Load() {
			if slices.Contains(w.Events, "*") || slices.Contains(w.Events, ev.typ) {
				ds = append(ds, store.WebhookDelivery{ID: store.NewID(), Webhook: w.ID, EventID: ev.id, Event: ev.typ,
					Payload: string(payload), NextAt: ev.at, CreatedAt: ev.at})
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		s.log.Error("webhook: could not write events to the outbox; they are lost", "events", len(batch), "err", err)
		for range batch {
			s.metrics.WebhookDropped()
		}
		return
	}
	s.poke()
}

// poke wakes the dispatcher.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatchLoop sends the deliveries that are due, within the bounds on
// requests in flight.
func (s *Service) dispatchLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	var sends sync.WaitGroup
	defer sends.Wait()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-tick.C:
		case id := <-s.done:
			s.finished(id)
			for more := true; more; {
				select {
				case id := <-s.done:
					s.finished(id)
				default:
					more = false
				}
			}
		}
		s.dispatch(&sends)
	}
}

// finished frees the place of a delivery whose outcome is recorded.
func (s *Service) finished(id string) {
	s.per[s.inflight[id]]--
	s.busy--
	delete(s.inflight, id)
}

// dispatch starts, endpoint by endpoint, a request for each due delivery
// that is not in flight already, as far as the bounds allow. Each endpoint
// is read on its own, so that one's backlog never hides another's due
// deliveries.
func (s *Service) dispatch(sends *sync.WaitGroup) {
	for _, w := range *s.endpoints.Load() {
		free := min(s.cfg.PerEndpoint-s.per[w.ID], s.cfg.Workers-s.busy)
		held := s.per[w.ID]
		if free <= 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		due, err := s.store.DueWebhookDeliveries(ctx, w.ID, time.Now(), free+held)
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("webhook: reading the outbox", "webhook", w.ID, "err", err)
			}
			return
		}
		for _, d := range due {
			if _, sending := s.inflight[d.ID]; sending || s.per[w.ID] >= s.cfg.PerEndpoint || s.busy >= s.cfg.Workers {
				continue
			}
			s.inflight[d.ID] = w.ID
			s.per[w.ID]++
			s.busy++
			sends.Add(1)
			go func() {
				defer sends.Done()
				s.deliver(w, d)
			}()
		}
	}
}

// deliver sends one delivery and records its outcome, then hands it back
// to the dispatcher.
func (s *Service) deliver(w store.Webhook, d store.WebhookDelivery) {
	defer func() { s.done <- d.ID }()
	start := time.Now()
	err := s.send(w, d)
	if s.ctx.Err() != nil {
		return // closing: sent again after the restart
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err == nil {
		s.metrics.WebhookDelivered(time.Since(start))
		if ferr := s.store.FinishWebhookDelivery(ctx, d.ID); ferr != nil {
			s.log.Warn("webhook: recording a delivery", "delivery", d.ID, "err", ferr)
		}
		return
	}
	attempts := d.Attempts + 1
	next := time.Now().Add(s.backoff(attempts))
	if next.Sub(d.CreatedAt) > s.cfg.RetryFor {
		s.metrics.WebhookFailed(true)
		s.log.Warn("webhook: giving an event up", "webhook", w.ID, "url", w.URL, "event", d.Event,
			"event_id", d.EventID, "attempts", attempts, "err", err)
		if ferr := s.store.FinishWebhookDelivery(ctx, d.ID); ferr != nil {
			s.log.Warn("webhook: recording a delivery", "delivery", d.ID, "err", ferr)
		}
		return
	}
	s.metrics.WebhookFailed(false)
	s.log.Debug("webhook: delivery failed; will retry", "webhook", w.ID, "event", d.Event, "attempts", attempts, "err", err)
	if rerr := s.store.RetryWebhookDelivery(ctx, d.ID, attempts, next, err.Error()); rerr != nil {
		s.log.Warn("webhook: recording a failed delivery", "delivery", d.ID, "err", rerr)
	}
}

// backoff is the wait before attempt n+1: RetryMin doubled n-1 times,
// capped at RetryMax, within ±20 % so that endpoints coming back are not
// all retried at once.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.RetryMin
	for i := 1; i < attempts && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.RetryMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// send POSTs a delivery, signed; a 2xx answer is success.
func (s *Service) send(w store.Webhook, d store.WebhookDelivery) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, w.URL, strings.NewReader(d.Payload))
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set("Parley-Event", d.Event)
	req.Header.Set("Parley-Event-Id", d.EventID)
	req.Header.Set("Parley-Delivery", d.ID)
	req.Header.Set("Parley-Signature", "t="+ts+",v1="+Sign(w.Secret, ts, []byte(d.Payload)))
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return nil
}

// Sign returns the hex HMAC-SHA256, under secret, of the timestamp, a dot
// and the body: what the v1 part of the Parley-Signature header holds.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
