package metrics

import (
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxLogMessages bounds the message label of parley_log_records_total.
// Log messages are constants in the code, so there are few; the bound
// holds should one ever carry data.
const maxLogMessages = 200

// health holds the metrics of the store's write health and of the
// warnings and errors the log rate limits.
type health struct {
	writeFails *prometheus.CounterVec
	writable   prometheus.Gauge
	logRecords *prometheus.CounterVec

	mu       sync.Mutex
	messages map[string]bool // message label values in use
}

func newHealth(reg *prometheus.Registry) *health {
	h := &health{
		writeFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_store_write_failures_total",
			Help: "Message writes the store failed, by kind: disk_full, unavailable (the database cannot be reached or is shutting down), read_only, timeout, io (the disk refused it) or other."},
			[]string{"kind"}),
		writable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_store_writable",
			Help: "1 while the store takes writes; 0 once writes have failed in a row and no write or write probe has succeeded since (/readyz then answers 503)."}),
		logRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_log_records_total",
			Help: "Warnings and errors, by level and message, including the repeats the log held back (summarised with repeated=N)."},
			[]string{"level", "message"}),
		messages: map[string]bool{},
	}
	h.writable.Set(1)
	reg.MustRegister(h.writeFails, h.writable, h.logRecords)
	return h
}

// StoreWriteFailed counts a message write the store failed, by kind.
func (m *Metrics) StoreWriteFailed(kind string) { m.health.writeFails.WithLabelValues(kind).Inc() }

// StoreWritable sets whether the store takes writes.
func (m *Metrics) StoreWritable(ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	m.health.writable.Set(v)
}

// LogRecord counts a warning or error the server logged or held back (it
// is the log rate limiter's counter).
func (m *Metrics) LogRecord(level slog.Level, msg string) {
	h := m.health
	h.mu.Lock()
	if !h.messages[msg] {
		if len(h.messages) >= maxLogMessages {
			msg = "other"
		} else {
			h.messages[msg] = true
		}
	}
	h.mu.Unlock()
	h.logRecords.WithLabelValues(strings.ToLower(level.String()), msg).Inc()
}
