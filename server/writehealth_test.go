package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley/internal/store"
)

// health is a writeHealth with a probe the test sets, recording what it
// tells the metrics.
type health struct {
	*writeHealth
	mu       sync.Mutex
	probeErr error
	probes   int
	writable []bool
	kinds    []string
}

func newHealth() *health {
	h := &health{}
	h.writeHealth = &writeHealth{
		probe: func(context.Context) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.probes++
			return h.probeErr
		},
		writable: func(ok bool) { h.writable = append(h.writable, ok) },
		failed:   func(kind string) { h.kinds = append(h.kinds, kind) },
	}
	return h
}

// TestWriteHealthFollowsFailures: three store failures in a row make the
// node unready with a reason; the request's own failures do not count; a
// probe that fails keeps it unready, and one that commits (or a user's
// write) makes it ready again.
func TestWriteHealthFollowsFailures(t *testing.T) {
	ctx := context.Background()
	h := newHealth()
	full := fmt.Errorf("sqlite: commit batch of 3: %w", syscall.ENOSPC)
	h.observe(full)
	h.observe(full)
	h.observe(fmt.Errorf("append: %w", store.ErrNotFound)) // the request's, not the store's
	h.observe(context.Canceled)
	if ok, _ := h.ready(ctx); !ok {
		t.Fatal("unready after two failures; three in a row are the threshold")
	}
	h.observe(nil)
	h.observe(full)
	h.observe(full)
	if ok, _ := h.ready(ctx); !ok {
		t.Fatal("a success between failures must start the count again")
	}
	h.observe(full)
	h.probeErr = full
	ok, reason := h.ready(ctx)
	if ok || !strings.Contains(reason, "the disk is full") || !strings.Contains(reason, "probe") {
		t.Fatalf("after three failures: ready=%v %q, want unready saying the disk is full and the probe failed", ok, reason)
	}
	// Asked again at once: no second probe within probeEvery.
	if ok, _ := h.ready(ctx); ok || h.probes != 1 {
		t.Fatalf("ready=%v after %d probes; want still unready, one probe", ok, h.probes)
	}
	h.mu.Lock()
	h.probeErr = nil
	h.mu.Unlock()
	h.writeHealth.mu.Lock()
	h.probedAt = time.Now().Add(-probeEvery)
	h.writeHealth.mu.Unlock()
	if ok, reason := h.ready(ctx); !ok {
		t.Fatalf("a probe that commits must make the node ready: %q", reason)
	}
	if got := fmt.Sprint(h.writable); got != "[false true]" {
		t.Fatalf("writable told %s, want [false true]", got)
	}
	if got := strings.Join(h.kinds, ","); got != "disk_full,disk_full,disk_full,disk_full,disk_full" {
		t.Fatalf("failures counted %s, want five disk_full", got)
	}
}

// TestFailureKind names store failures by what an operator does about them.
func TestFailureKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", syscall.ENOSPC), "disk_full"},
		{&pgconn.PgError{Code: "53100"}, "disk_full"},
		{&pgconn.PgError{Code: "25006"}, "read_only"},
		{&pgconn.PgError{Code: "57P01"}, "unavailable"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "unavailable"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{syscall.EIO, "io"},
		{errors.New("something else"), "other"},
		{store.ErrNotFound, ""},
		{store.ErrForbidden, ""},
		{store.ErrConflict, ""},
		{store.ErrClosed, ""},
		{context.Canceled, ""},
	} {
		if got := failureKind(c.err); got != c.want {
			t.Errorf("failureKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
