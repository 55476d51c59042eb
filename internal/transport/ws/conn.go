package ws

import (
	"context"
	"encoding/json"
	"errors"
	"net"
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
	id      string
	limiter *rate.Limiter
	client  *hub.Client
	user    string
	strikes int // frames refused by the rate limiter in a row; reader only

	mu        sync.Mutex
	queue     []outItem
	queued    int // bytes in queue
	writing   bool
	closing   bool
	closeMsg  []byte // a close frame waiting for the writer
	closeCode int
	expiry    *time.Timer
	ping      *time.Timer
	cut       *time.Timer // set when the queue overflowed
	// overflowed tells the writer to drop the rest of its batch.
	overflowed atomic.Bool
	wg         sync.WaitGroup // the writer goroutine, when running
}

func newConn(s *Server, wsc *websocket.Conn, id string) *conn {
	return &conn{s: s, ws: wsc, id: id,
		limiter: rate.NewLimiter(rate.Limit(s.cfg.RateMessages), s.cfg.RateBurst)}
}

// Send implements hub.Sender: it queues frame without blocking and starts the
// writer if none is running. A client whose queue passes the bound is cut off
// as too slow; the frames it missed are recoverable from history.
func (c *conn) Send(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
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

// kickLocked starts the writer goroutine if it is not running.
func (c *conn) kickLocked() {
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.writeLoop()
	}
}

// writeLoop writes everything queued, in batches, and exits when the queue
// is empty.
func (c *conn) writeLoop() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue, c.queued = nil, 0
		closeMsg := c.closeMsg
		c.closeMsg = nil
		if len(batch) == 0 && closeMsg == nil {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()

		deadline := time.Now().Add(c.s.cfg.WriteTimeout)
		err := c.ws.SetWriteDeadline(deadline)
		frames, bytes := 0, 0
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
			c.mu.Lock()
			c.closing = true
			c.queue, c.queued, c.closeMsg = nil, 0, nil
			c.writing = false
			c.mu.Unlock()
			c.abort()
			return
		}
	}
}

// abort drops the TCP connection; the reader and writer then fail and end.
// Unsent data is discarded (a reset, not a graceful FIN), so a client that
// stopped reading cannot keep kernel buffers or a half-open socket alive.
func (c *conn) abort() {
	if tc, ok := c.ws.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.ws.NetConn().Close()
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
	c.mu.Lock()
	c.client = client
	c.armExpiryLocked(p.ExpiresAt)
	c.ping = time.AfterFunc(cfg.HeartbeatInterval, c.heartbeat)
	c.mu.Unlock()
	c.extendRead()

	if room != "" {
		// The seed's convenience form: join the room in the path as if the
		// client had sent {"type":"join","body":{"room":...}}.
		body, _ := json.Marshal(protocol.RoomBody{Room: room})
		client.Handle(ctx, protocol.Envelope{Type: protocol.TypeJoin, Body: body})
	}
	return true
}
