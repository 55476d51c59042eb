package ws

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/origin"
	"github.com/parley-chat/parley/internal/protocol"
)

// Config holds the transport's limits. Zero values take the defaults noted.
type Config struct {
	// AllowedOrigins lists extra Origin values (scheme://host[:port]) allowed
	// to open connections besides the server's own host; "*" allows any.
	// Requests without an Origin header (non-browser clients) are allowed.
	AllowedOrigins []string
	// HeartbeatInterval is how often the server pings; default 25s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: a connection silent for HeartbeatInterval plus this
	// is closed; default 10s.
	HeartbeatTimeout time.Duration
	// WriteTimeout bounds one batch of writes to a client; default 10s.
	WriteTimeout time.Duration
	// AuthTimeout is how long a connection without credentials in its
	// request may take to send its auth frame; default 10s.
	AuthTimeout time.Duration
	// MaxFrameBytes is the largest frame accepted; larger ones close the
	// connection with 1009. Default 64 KiB.
	MaxFrameBytes int
	// SendQueueBytes bounds the bytes waiting to be written to one client.
	// A client that falls further behind is disconnected with 4008 so it
	// cannot hold memory or slow its rooms. Default 1 MiB.
	SendQueueBytes int
	// WriteDelay, when above zero, holds frames for a connection that was
	// written to less than half this long ago, for up to this long, so
	// that frames arriving close together leave in one system call — but
	// only while the flush workers are behind (busyLag). It trades up to
	// this much latency for throughput under heavy fan-out; a quiet
	// connection, or any connection while the workers keep up, is written
	// at once. Zero (the Config zero value) writes every frame as soon as a
	// writer is free.
	WriteDelay time.Duration
	// RateMessages and RateBurst shape a token bucket per connection over
	// every frame the client sends; defaults 10/s and 20.
	RateMessages float64
	RateBurst    int
	// ServerVersion is reported in the welcome frame.
	ServerVersion string
	// Limits are the node's limits that follow a user or an address
	// across connections: the admission of new connections, checked
	// before the upgrade, and the message and join rates. Nil limits
	// nothing beyond the per-connection bucket.
	Limits *limit.Node
}

func (c *Config) setDefaults() {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 25 * time.Second
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = 10 * time.Second
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.SendQueueBytes <= 0 {
		c.SendQueueBytes = 1 << 20
	}
	if c.RateMessages <= 0 {
		c.RateMessages = 10
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 20
	}
}

// Server upgrades HTTP requests to Parley WebSocket sessions.
type Server struct {
	cfg      Config
	hub      *hub.Hub
	auth     Authenticator
	log      *slog.Logger
	upgrader websocket.Upgrader
	nodeID   string
	nextID   atomic.Uint64
	metrics  Metrics

	// ctx is the sessions' context: a session outlives the HTTP request
	// that opened it.
	ctx context.Context

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup // one per live connection

	// ready holds connections with frames to write, for the flush workers;
	// replies holds those whose turn a reply started (see conn.Reply),
	// which the workers take first, so that an ack does not wait behind a
	// broadcast's sweep of thousands of connections.
	ready   chan *conn
	replies chan *conn
	stop    chan struct{}
	workers sync.WaitGroup

	// lag is how long the connection a flush worker last took had waited
	// for it (ns): the write delay applies only while it is at least
	// busyLag.
	lag atomic.Int64

	// delayed holds busy connections waiting out the write delay; one timer
	// releases them all.
	dmu      sync.Mutex
	delayed  []*conn
	delaying *time.Timer
}

// busyLag is how far behind the flush workers must be before the write
// delay holds anything back. With CPU to spare a connection is written as
// soon as it has frames, so the delay costs latency only when writing one
// frame per system call has already made the workers fall behind, which is
// when gathering frames gives the CPU back. Below this the workers' own
// sweeps gather frames well enough: once they yielded their Ps (see
// yieldEvery), the 2,000-member fan-out at 300 msg/s measured p99 65–78 ms
// with 40 ms here against 106–111 ms with 15 (where the delay engaged).
const busyLag = 40 * time.Millisecond

// workerWriteWait is how long a flush worker waits on one client's socket
// before handing the rest of the batch to the connection's own goroutine.
const workerWriteWait = 5 * time.Millisecond

// Metrics receives the transport's counters; the server package wires it to
// Prometheus. Every method must be cheap and safe for concurrent use.
type Metrics interface {
	ConnOpened()
	ConnClosed(code int)
	FrameIn()
	FramesOut(n int, bytes int)
	SlowClient()
}

type noMetrics struct{}

func (noMetrics) ConnOpened()        {}
func (noMetrics) ConnClosed(int)     {}
func (noMetrics) FrameIn()           {}
func (noMetrics) FramesOut(int, int) {}
func (noMetrics) SlowClient()        {}

// NewServer returns a transport over h. nodeID prefixes connection ids so
// they are unique across nodes. m may be nil.
func NewServer(cfg Config, h *hub.Hub, a Authenticator, nodeID string, log *slog.Logger, m Metrics) *Server {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = noMetrics{}
	}
	s := &Server{cfg: cfg, hub: h, auth: a, log: log, nodeID: nodeID, metrics: m, conns: make(map[*conn]struct{}),
		ctx: context.Background(), ready: make(chan *conn, 16384), replies: make(chan *conn, 4096), stop: make(chan struct{})}
	// Two flush workers a core: enough to keep the cores busy writing while
	// one waits on a socket, few enough that a broadcast to thousands of
	// connections makes a handful of goroutines runnable, not thousands.
	for i := 0; i < 2*runtime.GOMAXPROCS(0); i++ {
		s.workers.Add(1)
		go s.flushWorker()
	}
	s.upgrader = websocket.Upgrader{
		// A small read buffer and a pooled write buffer keep an idle
		// connection near the library's floor (measured in shared/DESIGN.md).
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		WriteBufferPool:  &sync.Pool{},
		Subprotocols:     []string{protocol.Subprotocol},
		HandshakeTimeout: 10 * time.Second,
		// ServeHTTP checks the origin itself, before authenticating, so a
		// foreign page never gets as far as a token check; the upgrader
		// need not check again.
		CheckOrigin: func(*http.Request) bool { return true },
		Error:       s.upgradeError,
	}
	return s
}

// checkOrigin allows requests without Origin (non-browser clients), from the
// server's own host, or from a configured origin.
func (s *Server) checkOrigin(r *http.Request) bool {
	if origin.Allowed(s.cfg.AllowedOrigins, r.Header.Get("Origin"), r.Host) {
		return true
	}
	s.log.Info("refused WebSocket from a foreign origin", "origin", r.Header.Get("Origin"), "host", r.Host)
	return false
}

func (s *Server) upgradeError(w http.ResponseWriter, _ *http.Request, status int, reason error) {
	msg := reason.Error()
	if status == http.StatusForbidden {
		msg = "origin not allowed; add it to --allowed-origins"
	}
	writeHTTPError(w, status, msg)
}

func writeHTTPError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Sec-Websocket-Version", "13")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // the body is JSON for programs, not HTML
	_ = enc.Encode(map[string]protocol.ErrorBody{"error": {Code: httpCode(status), Message: msg}})
}

func httpCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return protocol.CodeUnauthorized
	case http.StatusForbidden:
		return protocol.CodeForbidden
	case http.StatusServiceUnavailable:
		return protocol.CodeUnavailable
	case http.StatusTooManyRequests:
		return protocol.CodeRateLimited
	}
	return protocol.CodeInvalid
}

// ServeHTTP upgrades the request and runs the session until it ends. The
// path value "room", when present (/ws/{room}), is joined on connect.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if offered := websocket.Subprotocols(r); len(offered) > 0 && !contains(offered, protocol.Subprotocol) {
		writeHTTPError(w, http.StatusBadRequest, "unsupported subprotocol; this server speaks "+protocol.Subprotocol)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeHTTPError(w, http.StatusBadRequest, "this endpoint expects a WebSocket upgrade")
		return
	}
	if !s.checkOrigin(r) {
		s.upgradeError(w, r, http.StatusForbidden, errors.New("origin"))
		return
	}
	// Admission comes before authentication: a refused or paced
	// connection costs no token check or store read.
	addrKey := ""
	if a, ok := limit.ParseAddr(r.RemoteAddr); ok {
		addrKey = limit.AddressKey(a)
	}
	release, refusal, err := s.limits().Gate.Admit(r.Context(), addrKey)
	if err != nil {
		return // the client went away while it waited its turn
	}
	if refusal != nil {
		s.refuse(w, addrKey, refusal)
		return
	}
	principal, err := s.auth.Request(r.Context(), r)
	preAuth := errors.Is(err, ErrNoCredentials)
	if err != nil && !preAuth {
		release()
		if errors.Is(err, ErrUnavailable) {
			s.log.Warn("cannot authenticate a WebSocket", "err", err)
			writeHTTPError(w, http.StatusServiceUnavailable, "authentication is unavailable; retry shortly")
			return
		}
		writeHTTPError(w, http.StatusUnauthorized, err.Error())
		return
	}
	room := r.PathValue("room")

	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		release()
		writeHTTPError(w, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()

	bw := &batchingWriter{ResponseWriter: w}
	wsc, err := s.upgrader.Upgrade(bw, r, nil)
	if err != nil {
		release()
		s.wg.Done()
		return // the upgrader has answered the request
	}
	c := newConn(s, wsc, bw.conn, s.nodeID+"-"+strconv.FormatUint(s.nextID.Add(1), 36))
	c.addrKey, c.release = addrKey, release
	c.remote = r.RemoteAddr
	s.metrics.ConnOpened()
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		c.Close(protocol.CloseServiceRestart, protocol.RestartReason(rand.N(time.Second)))
		c.teardown()
		release()
		s.wg.Done()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	if !c.start(s.ctx, principal, preAuth, room) {
		c.finish()
		return
	}
	// The session outlives the request, so its context is the server's.
	go c.serve(s.ctx)
}

// yieldEvery is how many connections a flush worker writes before it lets
// other goroutines run. While a broadcast is swept the ready queue is never
// empty, so a worker never waits, and without yielding it would keep its P
// until the runtime preempts it 10 ms later; meanwhile the store's writer
// back from an fsync, the completer with the acks of a batch and readers
// with new frames wait for a P. In the 2,000-member fan-out at 300 msg/s
// yielding halved the mean store append (6.1–6.8 → 2.9–3.2 ms) and took
// the delivery p99 from 125–139 to 111–117 ms (with the write delay then
// engaging at 15 ms of lag).
const yieldEvery = 4

// flushWorker writes connections' queues as they become ready.
func (s *Server) flushWorker() {
	defer s.workers.Done()
	for n := 1; ; n++ {
		c, ok := s.next()
		if !ok {
			return
		}
		c.workerPass()
		if n%yieldEvery == 0 {
			runtime.Gosched()
		}
	}
}

// next waits for the next connection a flush worker is to write: one with
// a reply queued first, then any other. ok is false once the server stops.
func (s *Server) next() (c *conn, ok bool) {
	select {
	case c := <-s.replies:
		return c, true
	default:
	}
	select {
	case c := <-s.replies:
		return c, true
	case c := <-s.ready:
		return c, true
	case <-s.stop:
		return nil, false
	}
}

// delay parks a connection until the write delay has passed.
func (s *Server) delay(c *conn) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.delayed = append(s.delayed, c)
	if s.delaying == nil {
		s.delaying = time.AfterFunc(s.cfg.WriteDelay, s.releaseDelayed)
	}
}

// releaseDelayed hands the parked connections to the flush workers.
func (s *Server) releaseDelayed() {
	s.dmu.Lock()
	batch := s.delayed
	s.delayed = nil
	s.delaying = nil
	s.dmu.Unlock()
	now := time.Now().UnixNano()
	for _, c := range batch {
		c.mu.Lock()
		held := c.held
		c.held = false
		c.mu.Unlock()
		if !held {
			continue // a reply released it early
		}
		c.readyAt.Store(now)
		select {
		case s.ready <- c:
		case <-s.stop:
			c.mu.Lock()
			c.spawnWriterLocked()
			c.mu.Unlock()
		}
	}
}

// Close stops the flush workers. Call it after Drain, when no connection is
// left; connections still queued fall back to their own writers.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.workers.Wait()
	s.dmu.Lock()
	if s.delaying != nil && s.delaying.Stop() {
		for _, c := range s.delayed {
			c.mu.Lock()
			if c.held { // else a reply already handed it on
				c.held = false
				c.spawnWriterLocked()
			}
			c.mu.Unlock()
		}
		s.delayed, s.delaying = nil, nil
	}
	s.dmu.Unlock()
	for {
		select {
		case c := <-s.ready:
			c.mu.Lock()
			c.spawnWriterLocked()
			c.mu.Unlock()
		case c := <-s.replies:
			c.mu.Lock()
			c.spawnWriterLocked()
			c.mu.Unlock()
		default:
			return
		}
	}
}

// forget drops a finished session from the registry and gives its place
// back to the admission gate.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.release()
	s.wg.Done()
}

// Drain refuses new connections and closes every open one with 1012
// ("service restart", with a wait for each to reconnect after), then waits until they have ended or ctx is done, when the
// remaining ones are cut. It returns how many had to be cut: 0 when every
// client left in time (or there was none).
func (s *Server) Drain(ctx context.Context) (cut int) {
	s.mu.Lock()
	s.draining = true
	open := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	// Chat UIs show the notice. Each connection is told a wait of its own,
	// spread over a window that grows with the node's connections (about
	// 2,000 a second, 1 to 10 s), so that they do not all land on the
	// other nodes, or on this one restarted, at the same moment.
	notice := protocol.Encode(protocol.TypeSystem, "", protocol.SystemBody{
		Text: "The server is restarting; reconnecting in a moment."})
	window := min(max(time.Duration(len(open))*time.Second/2000, time.Second), 10*time.Second)
	for _, c := range open {
		c.Send(notice)
		c.Close(protocol.CloseServiceRestart, protocol.RestartReason(rand.N(window)))
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
	}
	select {
	case <-done: // gone just as the time ran out (or none was open)
		return 0
	default:
	}
	s.mu.Lock()
	for c := range s.conns {
		c.abort()
		cut++
	}
	s.mu.Unlock()
	<-done
	return cut
}

// Count returns the number of open connections.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
