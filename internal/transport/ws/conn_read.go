package ws

import (
	"context"
	"errors"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/protocol"
)

// readLoop reads frames until the connection ends. Bad frames get error
// frames and the session goes on; protocol violations close it with the
// matching RFC 6455 code.
func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		if !c.handleOffStack(ctx, typ, data) {
			return
		}
	}
}

// handleOffStack handles a frame on a short-lived goroutine. Decoding and
// handling a frame (JSON, the hub, the store) runs deeper than waiting for
// the next one; done on the reader, it would leave every idle connection
// with a grown stack, which the runtime does not shrink back while the
// reader still uses more than a quarter of it. Done here, the reader stays
// at its small starting stack, for about a microsecond a frame.
func (c *conn) handleOffStack(ctx context.Context, typ int, data []byte) bool {
	done := make(chan bool, 1)
	go func() { done <- c.handleFrame(ctx, typ, data) }()
	return <-done
}

// handleFrame checks and dispatches one frame; false ends the session.
//
//go:noinline
func (c *conn) handleFrame(ctx context.Context, typ int, data []byte) bool {
	c.extendRead()
	c.s.metrics.FrameIn()
	c.framesIn++
	if typ != websocket.TextMessage {
		c.violation(protocol.CloseUnsupportedData, "binary frames are not part of the protocol")
		return false
	}
	if !utf8.Valid(data) {
		c.violation(protocol.CloseInvalidPayload, "text frame is not valid UTF-8")
		return false
	}
	if !c.limiter.Allow() {
		c.s.limits().ConnRefused.Add(1)
		r := c.limiter.Reserve()
		wait := r.Delay()
		r.Cancel()
		id := ""
		if env, perr := protocol.DecodeEnvelope(data); perr == nil || env.ID != "" {
			id = env.ID
		}
		return c.rateLimited(id, &protocol.Error{Code: protocol.CodeRateLimited,
			Message: "too many frames; slow down", RetryAfter: max(wait, time.Millisecond)})
	}
	env, perr := protocol.DecodeEnvelope(data)
	if perr != nil {
		c.strikes = 0
		c.sendError(env.ID, perr)
		return true
	}
	if e := c.allowFrame(env.Type); e != nil {
		return c.rateLimited(env.ID, e)
	}
	c.strikes = 0
	if env.Type == protocol.TypeAuth {
		c.reauth(ctx, env)
		return true
	}
	c.client.Handle(ctx, env)
	return true
}

// rateLimited answers a refused frame, and closes the connection with 1008
// when more than maxRateStrikes frames in a row were refused: a client that
// ignores the retry hints is abusive. false ends the session.
func (c *conn) rateLimited(id string, e *protocol.Error) bool {
	c.strikes++
	if c.strikes > maxRateStrikes {
		c.violation(protocol.ClosePolicyViolation, "rate limit exceeded persistently")
		return false
	}
	c.sendError(id, e)
	return true
}

// readFailed classifies why reading stopped. A silent peer is told why
// before the connection is dropped; the rest need no answer (the peer closed,
// the library already sent 1009, or the network failed).
//
//go:noinline
func (c *conn) readFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if c.closeNow(protocol.CloseHeartbeatMissed, "heartbeat timeout") {
			c.s.log.Debug("heartbeat timeout", "conn", c.id, "user", c.user)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(err, websocket.ErrReadLimit) {
		c.closeCode = protocol.CloseTooBig
		return
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && c.closeCode == 0 {
		c.closeCode = ce.Code
	}
}

// closeNow writes a close frame at once, on the caller's goroutine, for a
// session that can read no more (its read deadline passed), so the peer
// learns why before the socket is dropped. Nothing more is queued after it.
// It reports false, writing nothing, when the session was already closing.
func (c *conn) closeNow(code int, reason string) bool {
	c.mu.Lock()
	closing := c.closing
	if !closing {
		c.closing = true
		c.closeCode = code
	}
	c.mu.Unlock()
	if closing {
		return false
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	return true
}

// violation closes the connection for breaking the protocol and waits
// briefly for the peer's close frame.
func (c *conn) violation(code int, reason string) {
	c.s.log.Debug("protocol violation", "conn", c.id, "user", c.user, "code", code, "reason", reason)
	c.Close(code, reason)
	c.drainUntilClosed()
}

// drainUntilClosed discards frames until the peer answers the close or the
// grace period runs out.
func (c *conn) drainUntilClosed() {
	_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace + time.Second))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// extendRead pushes the read deadline out by one heartbeat period plus the
// timeout: any frame or pong proves the peer is alive.
//
// The deadline is moved at most once per eighth of that span: a frame
// arriving sooner proves nothing new, and a busy connection is spared a
// timer update per frame.
func (c *conn) extendRead() {
	span := c.s.cfg.HeartbeatInterval + c.s.cfg.HeartbeatTimeout
	now := time.Now()
	if now.UnixNano()-c.lastExtend.Load() < int64(span/8) {
		return
	}
	c.lastExtend.Store(now.UnixNano())
	_ = c.ws.SetReadDeadline(now.Add(span))
}

// heartbeat sends a ping and re-arms itself.
func (c *conn) heartbeat() {
	c.sendControl(websocket.PingMessage, nil)
	c.mu.Lock()
	if !c.closing && c.ping != nil {
		c.ping.Reset(c.s.cfg.HeartbeatInterval)
	}
	c.mu.Unlock()
}

func (c *conn) send(typ, id string, body any) { c.Send(protocol.Encode(typ, id, body)) }

func (c *conn) sendError(id string, e *protocol.Error) {
	c.send(protocol.TypeError, id, e.Body())
}

// teardown ends the session: the hub forgets the connection (announcing the
// user's departure), timers stop, the TCP connection closes and the writer
// is waited for.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closing = true
	c.finished = true
	if c.ping != nil {
		c.ping.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.cut != nil {
		c.cut.Stop()
	}
	client := c.client
	code := c.closeCode
	c.mu.Unlock()
	if client != nil {
		client.Close()
	}
	_ = c.ws.Close()
	c.wg.Wait()
	c.s.metrics.ConnClosed(code)
	if client != nil {
		c.logDisconnected(code)
	}
}
