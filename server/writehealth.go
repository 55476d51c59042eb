package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley/internal/store"
)

// unreadyAfter is how many message writes in a row must fail before
// /readyz takes the node out. One failure may be a single bad moment; three
// in a row, with none succeeding between, is a store that cannot store.
const unreadyAfter = 3

// probeEvery is the least time between two write probes, however often
// /readyz is asked.
const probeEvery = time.Second

// writeHealth follows whether the store can still commit writes, so that
// /readyz can say so: a node whose database is down or whose disk is full
// still answers pings and reads, and a load balancer would keep sending
// users to it. Every message write's outcome comes to observe; after
// unreadyAfter failures in a row the node is unready until a write
// succeeds, either a user's or a write probe that /readyz makes (at most
// once every probeEvery) while it is unready.
type writeHealth struct {
	probe    func(ctx context.Context) error // nil if the store has none: only a user's write ends the failure
	writable func(bool)                      // told each time the state changes
	failed   func(kind string)               // told of each failure, by kind

	mu       sync.Mutex
	failures int    // in a row
	kind     string // of the latest failure
	probing  bool
	probedAt time.Time
}

func newWriteHealth(st store.Store, writable func(bool), failed func(string)) *writeHealth {
	w := &writeHealth{writable: writable, failed: failed}
	if p, ok := st.(store.WriteProber); ok {
		w.probe = p.ProbeWrite
	}
	return w
}

// observe takes the outcome of one message write. Failures that are the
// request's (a room not found, a sender not allowed, a caller gone) say
// nothing about the store and are not counted.
func (w *writeHealth) observe(err error) {
	if err == nil {
		w.succeeded()
		return
	}
	kind := failureKind(err)
	if kind == "" {
		return
	}
	w.failed(kind)
	w.mu.Lock()
	w.failures++
	w.kind = kind
	now := w.failures == unreadyAfter
	w.mu.Unlock()
	if now {
		w.writable(false)
	}
}

func (w *writeHealth) succeeded() {
	w.mu.Lock()
	was := w.failures >= unreadyAfter
	w.failures = 0
	w.mu.Unlock()
	if was {
		w.writable(true)
	}
}

// ready reports whether the store takes writes, and if not, why, in a
// sentence for the operator. While it does not, it probes (one probe at a
// time, at most once every probeEvery) and a probe that commits makes the
// node ready again at once.
func (w *writeHealth) ready(ctx context.Context) (bool, string) {
	w.mu.Lock()
	if w.failures < unreadyAfter {
		w.mu.Unlock()
		return true, ""
	}
	reason := fmt.Sprintf("the last %d message writes failed (%s)", w.failures, kindText(w.kind))
	if w.probe == nil || w.probing || time.Since(w.probedAt) < probeEvery {
		w.mu.Unlock()
		return false, reason
	}
	w.probing = true
	w.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := w.probe(pctx)
	cancel()
	w.mu.Lock()
	w.probing, w.probedAt = false, time.Now()
	w.mu.Unlock()
	if err == nil {
		w.succeeded()
		return true, ""
	}
	if kind := failureKind(err); kind != "" {
		w.mu.Lock()
		w.kind = kind
		w.mu.Unlock()
		reason = fmt.Sprintf("the last %d message writes and a write probe failed (%s)", w.failures, kindText(kind))
	}
	return false, reason
}

// appended is the hub's OnAppend: each durable append's time and outcome
// go to the metrics and to the write health.
func (s *Server) appended(d time.Duration, err error) {
	s.metrics.StoreAppend(d, err)
	s.writes.observe(err)
}

// failureKind names what kind of store failure err is, for the metric and
// /readyz: disk_full, unavailable, read_only, timeout, io or other; "" for the
// failures that are the request's and not the store's.
func failureKind(err error) string {
	var se *sqlite.Error
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrForbidden), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, syscall.ENOSPC), errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL,
		errors.As(err, &pe) && (pe.Code == "53100" || pe.Code == "53000"):
		return "disk_full"
	case errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_IOERR, errors.Is(err, syscall.EIO):
		return "io"
	case errors.Is(err, context.DeadlineExceeded): // before net.Error, which it satisfies
		return "timeout"
	case errors.As(err, &pe) && pe.Code == "25006": // read_only_sql_transaction
		return "read_only"
	case errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57")),
		errors.As(err, &ne), pgconn.SafeToRetry(err), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return "unavailable"
	}
	return "other"
}

// kindText is a failure kind in words.
func kindText(kind string) string {
	switch kind {
	case "disk_full":
		return "the disk is full"
	case "unavailable":
		return "the database cannot be reached"
	case "timeout":
		return "the database did not answer in time"
	case "io":
		return "the disk refused the write"
	case "read_only":
		return "the database refuses writes: it is read-only"
	}
	return "see the log"
}
