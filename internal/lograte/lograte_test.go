package lograte

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is a bytes.Buffer that the timers' summaries and the test
// may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newLogger(every time.Duration) (*slog.Logger, *Handler, *lockedBuffer) {
	var buf lockedBuffer
	h := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), every)
	return slog.New(h), h, &buf
}

// TestRepeatsAreSummarised: 500 failures that differ only in who met them
// and in their numbers make one line, then one summary with the count;
// the counter hears all 500.
func TestRepeatsAreSummarised(t *testing.T) {
	log, h, buf := newLogger(time.Hour)
	var counted int
	h.SetCounter(func(l slog.Level, msg string) {
		if l == slog.LevelError && msg == "store call failed" {
			counted++
		}
	})
	for i := range 500 {
		log.With("conn", i).Error("store call failed", "op", "chat", "room", fmt.Sprintf("r%d", i%7),
			"err", fmt.Errorf("sqlite: commit batch of %d: %w", i%5+1, errors.New("database or disk is full (13)")))
	}
	if got := buf.lines(); len(got) != 1 || !strings.Contains(got[0], "store call failed") {
		t.Fatalf("500 repeats logged %d lines, want the first alone:\n%s", len(got), strings.Join(got, "\n"))
	}
	h.Close()
	got := buf.lines()
	if len(got) != 2 || !strings.Contains(got[1], "repeated=499") || !strings.Contains(got[1], "in_last=") {
		t.Fatalf("after Close, want the first line and a summary of 499 repeats; got:\n%s", strings.Join(got, "\n"))
	}
	if counted != 500 {
		t.Fatalf("the counter heard %d of 500", counted)
	}
}

// TestDifferentErrorsAreLogged: another op, message, level or error text
// is not a repeat; info and debug lines are never held back.
func TestDifferentErrorsAreLogged(t *testing.T) {
	log, h, buf := newLogger(time.Hour)
	defer h.Close()
	log.Error("store call failed", "op", "chat", "err", "disk full")
	log.Error("store call failed", "op", "history", "err", "disk full")
	log.Error("store call failed", "op", "chat", "err", "connection refused")
	log.Warn("store call failed", "op", "chat", "err", "disk full")
	log.Error("sqlite: commit failed", "err", "disk full")
	for range 3 {
		log.Info("client connected")
		log.Debug("frame")
	}
	if got := buf.lines(); len(got) != 11 {
		t.Fatalf("want 11 lines (5 distinct failures, 6 info and debug), got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestSummaryEachInterval: repeats are summarised once per interval while
// they go on, and once they stop the next occurrence is logged at once.
func TestSummaryEachInterval(t *testing.T) {
	const every = 40 * time.Millisecond
	log, h, buf := newLogger(every)
	defer h.Close()
	log.Error("boom", "err", "x")
	for range 10 {
		log.Error("boom", "err", "x")
	}
	waitFor(t, func() bool { return len(buf.lines()) == 2 }, "no summary after an interval")
	if got := buf.lines(); !strings.Contains(got[1], "repeated=10") {
		t.Fatalf("summary %q, want repeated=10", got[1])
	}
	// An interval with no repeats ends the limiting: the next is logged
	// at once, as a first occurrence.
	waitFor(t, func() bool {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return len(h.s.seen) == 0
	}, "the limiting did not end after a quiet interval")
	log.Error("boom", "err", "x")
	if got := buf.lines(); len(got) != 3 || strings.Contains(got[2], "repeated") {
		t.Fatalf("after a quiet interval want the error logged at once; got:\n%s", strings.Join(got, "\n"))
	}
}

func waitFor(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
