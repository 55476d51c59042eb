// Package lograte keeps repeated identical warnings and errors from
// flooding the log. A full disk or a database that is down fails every
// write the same way, and logging each one (two lines per refused message
// before this package: 5,260 lines in a few seconds) buries the first
// line, the one that says what is wrong, and fills the very disk that is
// full. The first occurrence of a warning or error is logged as it comes;
// its repeats within the next interval are only counted, and one summary
// line per interval (the latest repeat, with repeated=N and in_last=T,
// the time the count covers) says how many there were; Close writes the
// summaries still due. Every warning and error, logged or not, is
// also reported to a counter (see Handler.SetCounter), which /metrics
// exposes.
package lograte

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a repeated error is summarised.
const DefaultInterval = 10 * time.Second

// Handler is a slog.Handler that passes records to another one, rate
// limiting repeated warnings and errors. Records below slog.LevelWarn pass
// untouched. Create it with New; stop it with Close.
type Handler struct {
	next slog.Handler
	s    *shared
}

// shared is the state every handler derived with WithAttrs or WithGroup
// shares: a repeat is a repeat whichever logger logged it.
type shared struct {
	every   time.Duration
	counter atomic.Pointer[func(slog.Level, string)]

	mu     sync.Mutex
	seen   map[key]*entry
	closed bool
}

// key says which records are the same error: level, message, the "op"
// attribute (what the server was doing) and the "err" attribute's text
// with its numbers blotted out ("commit batch of 3" and "of 7" are the
// same failure). Who met it (connection, user, room) does not count.
type key struct {
	level slog.Level
	msg   string
	op    string
	err   string
}

// entry is a record being rate limited: the interval its first occurrence
// opened, and the repeats seen in it.
type entry struct {
	start   time.Time // the interval's
	repeats int
	last    slog.Record  // the latest repeat, for the summary
	next    slog.Handler // the handler it came through
	timer   *time.Timer
}

// New wraps next; every is the least time between two lines about the same
// error (DefaultInterval if 0 or less).
func New(next slog.Handler, every time.Duration) *Handler {
	if every <= 0 {
		every = DefaultInterval
	}
	return &Handler{next: next, s: &shared{every: every, seen: map[key]*entry{}}}
}

// SetCounter makes count hear of every warning and error from now on,
// logged or held back: its level and message. nil stops it.
func (h *Handler) SetCounter(count func(level slog.Level, msg string)) {
	if count == nil {
		h.s.counter.Store(nil)
		return
	}
	h.s.counter.Store(&count)
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), s: h.s}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), s: h.s}
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	if c := h.s.counter.Load(); c != nil {
		(*c)(r.Level, r.Message)
	}
	k := keyOf(r)
	s := h.s
	s.mu.Lock()
	if e, ok := s.seen[k]; ok && !s.closed {
		e.repeats++
		e.last, e.next = r.Clone(), h.next
		s.mu.Unlock()
		return nil
	}
	if !s.closed {
		e := &entry{start: time.Now()}
		e.timer = time.AfterFunc(s.every, func() { s.tick(k, e) })
		s.seen[k] = e
	}
	s.mu.Unlock()
	return h.next.Handle(ctx, r)
}

// tick ends an interval of k's: it logs the summary of the repeats held
// back in it, if any, and opens the next; an interval without repeats
// ends k's rate limiting, so that its next occurrence is logged at once.
func (s *shared) tick(k key, e *entry) {
	s.mu.Lock()
	if s.closed || s.seen[k] != e {
		s.mu.Unlock()
		return
	}
	n, last, next, start := e.repeats, e.last, e.next, e.start
	e.repeats, e.start = 0, time.Now()
	if n == 0 {
		delete(s.seen, k)
	} else {
		e.timer.Reset(s.every)
	}
	s.mu.Unlock()
	if n > 0 {
		summarise(next, last, n, time.Since(start))
	}
}

// summarise logs r, the latest of n repeats held back over the time span,
// saying so.
func summarise(h slog.Handler, r slog.Record, n int, span time.Duration) {
	r.AddAttrs(slog.Int("repeated", n), slog.Duration("in_last", span.Round(time.Millisecond)))
	_ = h.Handle(context.Background(), r)
}

// Close logs the summaries of repeats still held back and stops rate
// limiting: records after it pass straight through. The server closes it
// as it stops, so no summary is written after.
func (h *Handler) Close() {
	s := h.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	pending := s.seen
	s.seen = nil
	s.mu.Unlock()
	for _, e := range pending {
		e.timer.Stop()
		if e.repeats > 0 {
			summarise(e.next, e.last, e.repeats, time.Since(e.start))
		}
	}
}

func keyOf(r slog.Record) key {
	k := key{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			k.op = a.Value.String()
		case "err":
			k.err = blotDigits(a.Value.String())
		}
		return true
	})
	return k
}

// blotDigits replaces each run of digits in s with "#".
func blotDigits(s string) string {
	var b strings.Builder
	inRun := false
	for _, c := range s {
		if c >= '0' && c <= '9' {
			if !inRun {
				b.WriteByte('#')
			}
			inRun = true
			continue
		}
		inRun = false
		b.WriteRune(c)
	}
	return b.String()
}
