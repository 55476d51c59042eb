package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsAreExposed(t *testing.T) {
	m := New(Gauges{Rooms: func() float64 { return 3 }, Users: func() float64 { return 7 }})
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed(1001)
	m.FramesOut(4, 100)
	m.SlowClient()
	m.StoreAppend(3*time.Millisecond, nil)
	m.StoreAppend(0, errors.New("disk full"))
	m.Committed(12, 2*time.Millisecond, nil)
	m.Committed(3, time.Millisecond, errors.New("disk full"))
	m.Checkpointed(false, 3*time.Millisecond, nil)
	m.Checkpointed(false, 4*time.Millisecond, nil)
	m.Checkpointed(true, 8*time.Millisecond, nil)
	m.Checkpointed(true, 0, errors.New("disk full"))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"parley_connections 1",
		"parley_connections_total 2",
		`parley_disconnects_total{code="1001"} 1`,
		"parley_frames_sent_total 4",
		"parley_frame_bytes_sent_total 100",
		"parley_slow_clients_total 1",
		"parley_store_append_seconds_count 1",
		"parley_store_append_errors_total 1",
		"parley_store_commit_seconds_count 1",
		"parley_store_commit_writes_sum 12",
		`parley_store_commit_writes_bucket{le="16"} 1`,
		`parley_store_commit_writes_bucket{le="8"} 0`,
		"parley_store_commit_errors_total 1",
		`parley_store_checkpoint_seconds_count{by="background"} 2`,
		`parley_store_checkpoint_seconds_count{by="writer"} 1`,
		`parley_store_checkpoint_seconds_bucket{by="writer",le="0.005"} 0`,
		"parley_store_checkpoint_errors_total 1",
		"parley_rooms 3",
		"parley_users_online 7",
		"process_resident_memory_bytes",
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
