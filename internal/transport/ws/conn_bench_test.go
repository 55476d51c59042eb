package ws

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkSend is the transport's hot path for a delivery: enqueue a frame
// on a connection (what the hub's fan-out calls for every member) and have
// the flush workers write it to a real loopback socket, read by a client
// that discards it. Frames sent while a write is under way leave together.
func BenchmarkSend(b *testing.B) {
	s := newWorkerServer(b, Config{SendQueueBytes: 64 << 20}, 4)
	c, client := loopbackWS(b, s)
	frame := []byte(`{"type":"message","body":{"room":"bench","id":"01JBENCHMARKMESSAGEID00000","seq":1,"ts":"2026-11-26T10:00:00.000Z","from":{"id":"u_sender","name":"sender"},"text":"hello, room"}}`)
	got := make(chan int)
	var read atomic.Int64
	go func() {
		n := 0
		for n < b.N {
			_, r, err := client.NextReader()
			if err != nil {
				break
			}
			_, _ = io.Copy(io.Discard, r)
			n++
			read.Add(1)
		}
		got <- n
	}()
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Keep at most a window of frames outstanding, as a room's steady
		// traffic would, rather than overflowing the queue.
		for int64(i)-read.Load() > 512 {
			select {
			case n := <-got:
				b.Fatalf("the client stopped reading after %d frames: the connection failed", n)
			default:
			}
			runtime.Gosched()
		}
		if !c.Send(frame) {
			b.Fatalf("send refused: closing %v queued %d limit %d", c.closing, c.queued, s.cfg.SendQueueBytes)
		}
	}
	select {
	case n := <-got:
		if n != b.N {
			b.Fatalf("client read %d of %d frames", n, b.N)
		}
	case <-time.After(30 * time.Second):
		b.Fatal("frames not delivered")
	}
	b.StopTimer()
}

// newWorkerServer returns a Server with only its flush workers running,
// enough to drive connections made with loopbackWS; it is closed when the
// test ends.
func newWorkerServer(tb testing.TB, cfg Config, workers int) *Server {
	s := &Server{cfg: cfg, log: slog.New(slog.DiscardHandler), metrics: noMetrics{},
		conns: make(map[*conn]struct{}), ready: make(chan *conn, 1024), replies: make(chan *conn, 1024), stop: make(chan struct{})}
	s.cfg.setDefaults()
	for range workers {
		s.workers.Add(1)
		go s.flushWorker()
	}
	tb.Cleanup(s.Close)
	return s
}

// loopbackWS upgrades a real loopback WebSocket connection into a conn of s
// and returns it with the client's end; both are closed when the test ends.
func loopbackWS(tb testing.TB, s *Server) (*conn, *websocket.Conn) {
	up := websocket.Upgrader{WriteBufferPool: &sync.Pool{}}
	conns := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &batchingWriter{ResponseWriter: w}
		wsc, err := up.Upgrade(bw, r, nil)
		if err != nil {
			return
		}
		conns <- newConn(s, wsc, bw.conn, "test")
	}))
	tb.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := <-conns
	tb.Cleanup(func() {
		client.Close()
		c.mu.Lock()
		c.finished = true
		c.mu.Unlock()
		c.wg.Wait()
		c.ws.Close()
	})
	return c, client
}
