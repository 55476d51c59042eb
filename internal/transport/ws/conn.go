package ws

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
)

// closeGrace is how long the server waits for the peer's close frame after
// sending its own before it drops the TCP connection.
const closeGrace = 2 * time.Second

// maxRateStrikes is how many frames in a row may be refused by the rate
// limiter before the connection is closed with 1008 as abusive.
const maxRateStrikes = 50

type outItem struct {
	op   int // websocket.TextMessage or a control opcode
	data []byte
}

// conn is one WebSocket session. The reader runs on the HTTP handler's
// goroutine; a writer goroutine exists only while frames are queued, so an
// idle connection holds no writer goroutine and no write buffer.
type conn struct {
	s       *Server
	ws      *websocket.Conn
	bc      *batchConn // ws's socket
	id      string
	limiter *rate.Limiter
	client  *hub.Client
	user    string
	name    string // the user's display name, for the disconnect log
	strikes int    // frames refused by the rate limiter in a row; reader only
	// addrKey is the client address the limits count it under (see
	// limit.AddressKey); remote the address as the request gave it.
	addrKey, remote string
	// release gives the connection's place back to the admission gate.
	release func()
	// opened is when the session was registered with the hub (Unix ns),
	// for the disconnect log's duration; 0 until then.
	opened int64
	// framesIn counts the frames read (reader only); framesOut those
	// written, by whichever writer has the connection.
	framesIn  int64
	framesOut atomic.Int64
	// lastExtend is when the read deadline was last moved (Unix ns).
	lastExtend atomic.Int64
	// readyAt is when the connection was last handed to the flush workers
	// (Unix ns), for Server.lag.
	readyAt atomic.Int64

	mu        sync.Mutex
	queue     []outItem
	queued    int // bytes in queue
	writing   bool
	closing   bool
	finished  bool      // torn down: no writer may start any more
	lastFlush time.Time // when a flush worker last wrote; for the write delay
	held      bool      // waiting out the write delay in Server.delayed
	urgent    bool      // a reply is queued: not to be held back
	closeMsg  []byte    // a close frame waiting for the writer
	closeCode int
	expiry    *time.Timer
	ping      *time.Timer
	cut       *time.Timer // set when the queue overflowed
	// overflowed tells the writer to drop the rest of its batch.
	overflowed atomic.Bool
	wg         sync.WaitGroup // the writer goroutine, when running
}

func newConn(s *Server, wsc *websocket.Conn, bc *batchConn, id string) *conn {
	return &conn{s: s, ws: wsc, bc: bc, id: id, release: func() {},
		limiter: rate.NewLimiter(rate.Limit(s.cfg.RateMessages), s.cfg.RateBurst)}
}

// Send implements hub.Sender: it queues frame without blocking and starts the
// writer if none is running. A client whose queue passes the bound is cut off
// as too slow; the frames it missed are recoverable from history.
func (c *conn) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enqueueLocked(frame)
}

// Reply implements hub.Sender: Send for an answer to the client's own
// request (an ack, an error, a joined room), which the write delay never
// holds back: a client waiting for it would wait the whole delay, and with
// one request in flight it could send nothing else meanwhile. A connection
// already held back is released at once, frames queued before the reply
// going with it, in order.
func (c *conn) Reply(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.urgent = true
	if !c.enqueueLocked(frame) {
		return false
	}
	if c.held {
		c.held = false
		c.readyNowLocked()
	}
	return true
}

func (c *conn) enqueueLocked(frame []byte) bool {
	if c.closing {
		return false
	}
	if c.queued+len(frame) > c.s.cfg.SendQueueBytes {
		c.queue, c.queued = nil, 0
		c.startCloseLocked(protocol.CloseTooSlow, "too slow: the send queue overflowed")
		// The writer abandons its batch and tries to send the close frame;
		// if the socket is still stuck a moment later, the TCP connection
		// is cut, which also unblocks the stuck write.
		c.overflowed.Store(true)
		c.cut = time.AfterFunc(time.Second, c.abort)
		c.s.metrics.SlowClient()
		c.s.log.Info("disconnecting a slow client", "conn", c.id, "user", c.user)
		return false
	}
	c.queue = append(c.queue, outItem{op: websocket.TextMessage, data: frame})
	c.queued += len(frame)
	c.kickLocked()
	return true
}

// Close implements hub.Sender: queued frames are flushed, then a close frame
// with code and reason is sent.
func (c *conn) Close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		c.startCloseLocked(code, reason)
	}
}

func (c *conn) startCloseLocked(code int, reason string) {
	c.closing = true
	c.closeCode = code
	c.closeMsg = websocket.FormatCloseMessage(code, reason)
	c.kickLocked()
}

func (c *conn) sendControl(op int, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.queue = append(c.queue, outItem{op: op, data: data})
	c.kickLocked()
}

// kickLocked gets the connection's queue written if no writer is on it:
// by one of the server's flush workers when one is free, else by a
// goroutine of the connection's own. Workers keep the number of runnable
// goroutines small when an event fans out to thousands of connections.
func (c *conn) kickLocked() {
	if c.writing {
		return
	}
	c.writing = true
	c.scheduleLocked()
}

// scheduleLocked hands the connection to a flush worker: at once, or — with
// a write delay configured, the flush workers behind (see busyLag) and the
// connection written to within half that delay — after it, so that a busy
// connection's frames are gathered into fewer system calls while a quiet
// one, or any one on a server with CPU to spare, is written without waiting.
// Half: a connection that gets a frame less often than that would gather
// one or two in the whole delay, a lot of latency for few system calls
// saved (in a 2,000-member room at 20 msg/s, p99 near 90 ms instead of 40).
func (c *conn) scheduleLocked() {
	if d := c.s.cfg.WriteDelay; d > 0 && !c.closing && !c.urgent && c.s.lag.Load() >= int64(busyLag) && time.Since(c.lastFlush) < d/2 {
		c.held = true
		c.s.delay(c)
		return
	}
	c.readyNowLocked()
}

// readyNowLocked hands the connection to a flush worker, or to a goroutine
// of its own when every worker is busy and the queue is full. A connection
// with a reply queued goes in the workers' first queue.
func (c *conn) readyNowLocked() {
	c.readyAt.Store(time.Now().UnixNano())
	q := c.s.ready
	if c.urgent {
		q = c.s.replies
	}
	select {
	case q <- c:
	default:
		c.spawnWriterLocked()
	}
}

// spawnWriterLocked starts the connection's own writer goroutine, unless
// the session has been torn down (nothing would wait for it).
func (c *conn) spawnWriterLocked() {
	if c.finished {
		c.writing = false
		return
	}
	c.wg.Add(1)
	go c.writeLoop()
}

// take removes what is queued; ok is false (and the writer role released)
// when there is nothing to write.
func (c *conn) take() (batch []outItem, closeMsg []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch, closeMsg = c.queue, c.closeMsg
	c.queue, c.queued, c.closeMsg = nil, 0, nil
	c.urgent = false // the reply is in this batch
	if len(batch) == 0 && closeMsg == nil {
		c.writing = false
		return nil, nil, false
	}
	return batch, closeMsg, true
}

// writeBatch hands the batch's frames to the WebSocket library, which
// frames them into the open socket batch (see batchConn).
func (c *conn) writeBatch(batch []outItem, deadline time.Time) error {
	err := c.ws.SetWriteDeadline(deadline)
	frames, bytes := 0, 0
	c.bc.begin()
	for _, it := range batch {
		if err != nil || c.overflowed.Load() {
			break
		}
		if it.op == websocket.TextMessage {
			err = c.ws.WriteMessage(websocket.TextMessage, it.data)
			frames++
			bytes += len(it.data)
		} else {
			err = c.ws.WriteControl(it.op, it.data, deadline)
		}
	}
	if frames > 0 {
		c.s.metrics.FramesOut(frames, bytes)
		c.framesOut.Add(int64(frames))
	}
	return err
}

// workerPass is one flush by a server worker. A worker must never wait on
// one client's full socket, so it writes with a short deadline; what does
// not fit moves, in order, to a goroutine of the connection's own, which
// waits with the full write timeout. Close frames are left to that
// goroutine too.
func (c *conn) workerPass() {
	c.mu.Lock()
	if c.closeMsg != nil {
		c.spawnWriterLocked()
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	now := time.Now()
	c.s.lag.Store(now.UnixNano() - c.readyAt.Load())
	batch, _, ok := c.take()
	if !ok {
		return
	}
	err := c.writeBatch(batch, now.Add(c.s.cfg.WriteTimeout))
	if err == nil {
		err = c.bc.flushWithin(workerWriteWait)
	}
	if errors.Is(err, errSocketFull) {
		c.mu.Lock()
		c.spawnWriterLocked() // it writes the rest of the batch first
		c.mu.Unlock()
		return
	}
	if err != nil {
		c.writeFailed()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastFlush = time.Now()
	if len(c.queue) == 0 && c.closeMsg == nil {
		c.writing = false
		return
	}
	// More came while writing: back of the line, so every connection gets
	// its turn.
	c.scheduleLocked()
}

// writeLoop is the connection's own writer: it writes what a worker left
// in the socket batch, then everything queued, in batches, and exits when
// the queue is empty.
func (c *conn) writeLoop() {
	defer c.wg.Done()
	if err := c.bc.flush(time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
		c.writeFailed()
		return
	}
	for {
		batch, closeMsg, ok := c.take()
		if !ok {
			return
		}
		deadline := time.Now().Add(c.s.cfg.WriteTimeout)
		err := c.writeBatch(batch, deadline)
		if ferr := c.bc.flush(deadline); err == nil {
			err = ferr
		}
		if err == nil && closeMsg != nil {
			err = c.ws.WriteControl(websocket.CloseMessage, closeMsg, time.Now().Add(time.Second))
			if err == nil {
				c.mu.Lock()
				if c.cut != nil {
					c.cut.Stop() // the close got through; no need to cut
				}
				c.mu.Unlock()
			}
			// Give the peer a moment to answer the close, then the reader's
			// deadline ends the session.
			_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(closeGrace))
		}
		if err != nil {
			c.writeFailed()
			return
		}
	}
}

// writeFailed ends a connection whose socket could not be written.
func (c *conn) writeFailed() {
	c.mu.Lock()
	c.closing = true
	c.queue, c.queued, c.closeMsg = nil, 0, nil
	c.writing = false
	c.mu.Unlock()
	c.bc.discard()
	c.abort()
}

// abort drops the TCP connection; the reader and writer then fail and end.
// Unsent data is discarded (a reset, not a graceful FIN), so a client that
// stopped reading cannot keep kernel buffers or a half-open socket alive.
func (c *conn) abort() {
	if tc, ok := c.bc.tcp(); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.bc.Close()
}

// A session is set up on the HTTP handler's goroutine (start), then read on
// a goroutine of its own (serve) while the handler returns. The HTTP
// server's per-request state is then released instead of living as long as
// the WebSocket, and the reading goroutine starts with a small stack that
// the set-up work (JSON, store reads, which run deep) never grew: an idle
// connection's stack is most of its memory. Each frame is handled by a
// call out of the read loop, so the stack of an idle connection holds only
// small frames and the runtime can shrink it after a busy spell.

// serve reads the session's frames until it ends, then tears it down.
func (c *conn) serve(ctx context.Context) {
	defer c.finish()
	c.readLoop(ctx)
}

// finish tears the session down and forgets it.
func (c *conn) finish() {
	c.teardown()
	c.s.forget(c)
}

// start authenticates if needed, welcomes the client and registers it with
// the hub; false means the session is over and must be finished.
func (c *conn) start(ctx context.Context, p Principal, preAuth bool, room string) bool {
	cfg := c.s.cfg
	c.ws.SetReadLimit(int64(cfg.MaxFrameBytes))
	c.ws.SetPongHandler(func(string) error { c.extendRead(); return nil })

	if preAuth {
		var ok bool
		if p, ok = c.awaitAuth(ctx); !ok {
			c.drainUntilClosed()
			return false
		}
	}
	c.user = p.User.ID
	c.send(protocol.TypeWelcome, "", c.welcome(p))
	client, err := c.s.hub.Connect(ctx, c.id, p.Identity, c)
	if err != nil {
		code, msg := protocol.CloseInternalError, "internal error"
		if errors.Is(err, hub.ErrTooManyConns) {
			code, msg = protocol.CloseTooManyConns, "too many connections for this user"
		}
		c.Close(code, msg)
		c.drainUntilClosed()
		return false
	}
	c.name = p.User.Name
	c.opened = time.Now().UnixNano()
	c.logConnected(ctx, p, room)
	c.mu.Lock()
	c.client = client
	c.armExpiryLocked(p.ExpiresAt)
	c.ping = time.AfterFunc(cfg.HeartbeatInterval, c.heartbeat)
	c.mu.Unlock()
	c.extendRead()

	if room != "" {
		// The seed's convenience form: join the room in the path as if the
		// client had sent {"type":"join","body":{"room":...}}, and
		// counted as one, or reconnecting would be a free join.
		if e := c.allowFrame(protocol.TypeJoin); e != nil {
			c.sendError("", e)
			return true
		}
		body, _ := json.Marshal(protocol.RoomBody{Room: room})
		client.Handle(ctx, protocol.Envelope{Type: protocol.TypeJoin, Body: body})
	}
	return true
}
