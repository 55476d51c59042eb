// Package metrics exposes Parley's Prometheus metrics on a private registry
// (never the global one, so an embedding program's metrics do not mix with
// ours). It implements the transport's and the hub's metric hooks.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector. Its methods are safe for concurrent use and
// cost an atomic add or two, so they sit on the hot path.
type Metrics struct {
	reg         *prometheus.Registry
	connsOpen   prometheus.Gauge
	connsTotal  prometheus.Counter
	closes      *prometheus.CounterVec
	framesIn    prometheus.Counter
	framesOut   prometheus.Counter
	bytesOut    prometheus.Counter
	slowClients prometheus.Counter
	appendDur   prometheus.Histogram
	appendErrs  prometheus.Counter
	commitDur   prometheus.Histogram
	commitSize  prometheus.Histogram
	commitErrs  prometheus.Counter
	ckptDur     *prometheus.HistogramVec
	ckptErrs    prometheus.Counter
	hookDur     prometheus.Histogram
	hookFails   *prometheus.CounterVec
	hookDrops   prometheus.Counter
	actions     *prometheus.CounterVec
	apiReqs     *prometheus.CounterVec
	apiDur      *prometheus.HistogramVec
	logins      *prometheus.CounterVec
	health      *health
}

// Gauges reports sizes sampled when /metrics is scraped.
type Gauges struct {
	Rooms func() float64 // rooms with a local member
	Users func() float64 // users with a local connection
}

// New builds the collectors, with Go runtime and process metrics.
func New(g Gauges) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_connections", Help: "Open WebSocket connections."}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_connections_total", Help: "WebSocket connections accepted."}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_disconnects_total", Help: "WebSocket connections ended, by close code (0: none)."}, []string{"code"}),
		framesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_frames_received_total", Help: "Frames received from clients."}),
		framesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_frames_sent_total", Help: "Frames written to clients."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_frame_bytes_sent_total", Help: "Payload bytes written to clients."}),
		slowClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_slow_clients_total", Help: "Clients disconnected because their send queue overflowed."}),
		appendDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_store_append_seconds", Help: "Time to store a message durably (the wait before its ack).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1}}),
		appendErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_append_errors_total", Help: "Messages the store failed to save (the sender got an error)."}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_store_commit_seconds", Help: "Time the store's writer took to commit a batch of writes (SQLite: WAL write and fsync).",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .02, .05, .1, .25, 1}}),
		commitSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_store_commit_writes", Help: "Writes committed together in one batch (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		commitErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_commit_errors_total", Help: "Batches whose commit failed."}),
		ckptDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_store_checkpoint_seconds",
			Help:    "Time a SQLite checkpoint took to copy the WAL into the database file and sync it; by=\"writer\" when the writer ran it to start the WAL over, holding up durable writes.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, 1}}, []string{"by"}),
		ckptErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_checkpoint_errors_total", Help: "SQLite checkpoints that failed."}),
		hookDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_webhook_delivery_seconds", Help: "Time of each webhook delivery that succeeded; its count is the deliveries.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		hookFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_webhook_failures_total", Help: "Webhook deliveries that failed: retried later (abandoned=\"false\") or given up."}, []string{"abandoned"}),
		hookDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_webhook_dropped_total", Help: "Webhook events lost before the outbox: its queue was full, or the store failed."}),
	}
	m.apiReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_api_requests_total", Help: "HTTP API requests answered, by route pattern, method and status code."},
		[]string{"route", "method", "code"})
	m.apiDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "parley_api_request_seconds", Help: "Time to answer an HTTP API request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_logins_total", Help: "Sign-ins with a password: success, failure (wrong or unknown credentials, disabled account) or locked (refused by the login rate limit)."},
		[]string{"result"})
	for _, r := range []string{LoginSuccess, LoginFailure, LoginLocked} {
		m.logins.WithLabelValues(r) // present at 0, so alerts on rates work from the start
	}
	m.reg.MustRegister(m.apiReqs, m.apiDur, m.logins)
	m.reg.MustRegister(m.connsOpen, m.connsTotal, m.closes, m.framesIn, m.framesOut, m.bytesOut,
		m.slowClients, m.appendDur, m.appendErrs, m.commitDur, m.commitSize, m.commitErrs, m.ckptDur, m.ckptErrs,
		m.hookDur, m.hookFails, m.hookDrops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if g.Rooms != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_rooms", Help: "Rooms with at least one member connected to this node."}, g.Rooms))
	}
	if g.Users != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_users_online", Help: "Users with at least one connection to this node."}, g.Users))
	}
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_admin_actions_total",
		Help: "Moderation and administration actions recorded in the audit log, by action."}, []string{"action"})
	m.reg.MustRegister(m.actions)
	m.health = newHealth(m.reg)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the private registry, for embedding programs.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ConnOpened counts a new connection.
func (m *Metrics) ConnOpened() { m.connsOpen.Inc(); m.connsTotal.Inc() }

// ConnClosed counts an ended connection by its close code.
func (m *Metrics) ConnClosed(code int) {
	m.connsOpen.Dec()
	m.closes.WithLabelValues(strconv.Itoa(code)).Inc()
}

// FrameIn counts a frame received.
func (m *Metrics) FrameIn() { m.framesIn.Inc() }

// FramesOut counts frames written in one batch.
func (m *Metrics) FramesOut(n, bytes int) {
	m.framesOut.Add(float64(n))
	m.bytesOut.Add(float64(bytes))
}

// SlowClient counts a client cut off for reading too slowly.
func (m *Metrics) SlowClient() { m.slowClients.Inc() }

// StoreAppend records how long a durable append took and whether it failed.
func (m *Metrics) StoreAppend(d time.Duration, err error) {
	if err != nil {
		m.appendErrs.Inc()
		return
	}
	m.appendDur.Observe(d.Seconds())
}

// Committed records a batch the store's writer committed (it implements
// store.CommitObserver).
func (m *Metrics) Committed(writes int, d time.Duration, err error) {
	if err != nil {
		m.commitErrs.Inc()
		return
	}
	m.commitDur.Observe(d.Seconds())
	m.commitSize.Observe(float64(writes))
}

// Checkpointed records a checkpoint of the store (it implements
// store.CheckpointObserver).
func (m *Metrics) Checkpointed(byWriter bool, d time.Duration, err error) {
	if err != nil {
		m.ckptErrs.Inc()
		return
	}
	by := "background"
	if byWriter {
		by = "writer"
	}
	m.ckptDur.WithLabelValues(by).Observe(d.Seconds())
}

// WebhookDelivered records a webhook delivery that succeeded (it
// implements webhook.Metrics).
func (m *Metrics) WebhookDelivered(d time.Duration) { m.hookDur.Observe(d.Seconds()) }

// WebhookFailed records a webhook delivery that failed, given up or not.
func (m *Metrics) WebhookFailed(abandoned bool) {
	m.hookFails.WithLabelValues(strconv.FormatBool(abandoned)).Inc()
}

// WebhookDropped records a webhook event lost before the outbox.
func (m *Metrics) WebhookDropped() { m.hookDrops.Inc() }

// AdminAction counts a moderation or administration action.
func (m *Metrics) AdminAction(action string) { m.actions.WithLabelValues(action).Inc() }

// Results of a sign-in, the values of parley_logins_total's result label.
const (
	LoginSuccess = "success"
	LoginFailure = "failure"
	LoginLocked  = "locked"
)

// APIRequest records an answered HTTP API request: route is the pattern it
// matched ("/api/v1/rooms/{room}/messages", never the raw path, so the
// label's values stay few), or "unmatched".
func (m *Metrics) APIRequest(route, method string, code int, d time.Duration) {
	m.apiReqs.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.apiDur.WithLabelValues(route).Observe(d.Seconds())
}

// Login records the outcome of a sign-in: LoginSuccess, LoginFailure or
// LoginLocked.
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }
