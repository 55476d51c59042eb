package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/protocol"
)

// stableAfter is how long a connection must stay up for the reconnect
// backoff to start again from BackoffMin.
const stableAfter = time.Minute

// DialError is a failed dial. Status is the HTTP status of a refused
// upgrade, 0 when the connection itself failed.
type DialError struct {
	Status int
	// RetryAfter is the wait a refusal's Retry-After asked for (a node
	// that is full or busy, or an address over its share); 0 without one.
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *DialError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("parley: dial refused with HTTP %d: %v", e.Status, e.Err)
	}
	return "parley: dial: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DialError) Unwrap() error { return e.Err }

// permanent reports whether err ends the client rather than calling for a
// reconnect: refusals that a retry with the same credentials cannot fix,
// and the close codes docs/PROTOCOL.md says not to reconnect on in a loop.
func permanent(err error) bool {
	var de *DialError
	if errors.As(err, &de) {
		switch de.Status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			return true
		}
		return false
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case protocol.CloseUnauthorized, protocol.CloseDisconnected, protocol.CloseTooManyConns, protocol.CloseTokenExpired,
			protocol.CloseUnsupportedData, protocol.CloseInvalidPayload, protocol.CloseTooBig,
			protocol.CloseNormal:
			return true
		}
	}
	return false
}

// dial opens one connection and reads its welcome. A guest comes back with
// its guest token; if the server refuses it (it expired, or the server's key
// changed), the guest connects by name again, as a new guest.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, Welcome, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, Welcome{}, &DialError{Err: err}
	}
	header := c.header
	c.mu.Lock()
	guestToken, token := c.guestToken, c.token
	c.mu.Unlock()
	if token != "" {
		header = header.Clone()
		header.Set("Authorization", "Bearer "+token)
	} else if c.opts.Name != "" {
		if guestToken != "" {
			header = header.Clone()
			header.Set("Authorization", "Bearer "+guestToken)
		} else {
			q := u.Query()
			q.Set("name", c.opts.Name)
			u.RawQuery = q.Encode()
		}
	}
	conn, resp, err := c.dialer.DialContext(ctx, u.String(), header)
	if err != nil && guestToken != "" && resp != nil && resp.StatusCode == http.StatusUnauthorized {
		c.mu.Lock()
		c.guestToken = ""
		c.mu.Unlock()
		return c.dial(ctx)
	}
	if err != nil {
		de := &DialError{Err: err}
		if resp != nil {
			de.Status = resp.StatusCode
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				de.RetryAfter = time.Duration(s) * time.Second
			}
			if resp.Body != nil {
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				_ = resp.Body.Close()
				if len(msg) > 0 {
					de.Err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(msg))
				}
			}
		}
		return nil, Welcome{}, de
	}
	_ = conn.SetReadDeadline(time.Now().Add(c.opts.HandshakeTimeout))
	_, data, err := conn.ReadMessage()
	if err != nil {
		_ = conn.Close()
		return nil, Welcome{}, &DialError{Err: fmt.Errorf("waiting for welcome: %w", closeErr(err))}
	}
	var f struct {
		Type string  `json:"type"`
		Body Welcome `json:"body"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Type != protocol.TypeWelcome {
		_ = conn.Close()
		return nil, Welcome{}, &DialError{Err: fmt.Errorf("want a welcome frame, got %.100s", data)}
	}
	return conn, f.Body, nil
}

// closeErr turns the library's close error into a *CloseError.
func closeErr(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Reason: ce.Text}
	}
	return err
}

// run owns the connection: it reads until the connection ends, then
// reconnects (with Reconnect) or stops the client.
func (c *Client) run(conn *websocket.Conn) {
	defer close(c.done)
	defer close(c.events)
	defer c.wg.Wait()
	defer c.cancel() // ends the renewer when the client stops by itself
	attempt := 0
	for {
		up := time.Now()
		err := c.readLoop(conn)
		c.disconnected()
		_ = conn.Close()
		if c.ctx.Err() != nil {
			c.stop(ErrClosed)
			return
		}
		err = closeErr(err)
		renew := c.opts.GetToken != nil && authRefused(err)
		if !c.opts.Reconnect || (permanent(err) && !renew) {
			c.stop(err)
			return
		}
		if time.Since(up) > stableAfter {
			attempt = 0
		}
		first := time.Duration(-1) // the usual backoff
		var ce *CloseError
		if errors.As(err, &ce) && ce.Code == protocol.CloseServiceRestart {
			// A draining node says when to come back; it spreads its
			// clients' waits so they do not all return at once.
			if wait, ok := protocol.ParseRestartReason(ce.Reason); ok {
				first = min(wait, c.opts.BackoffMax)
			}
		}
		if conn, err = c.reconnect(&attempt, renew, first); err != nil {
			c.stop(err)
			return
		}
		c.emit(Event{Type: EventReconnected})
	}
}

// reconnect dials with backoff until it has a connection, the client is
// closed or a dial fails for good; first, when not negative, replaces the
// first wait (the one a restarting server asked for). With needToken (the server refused the
// token) it first gets a new one from GetToken; a token refused on a dial
// is replaced once, and a second refusal in a row ends the client. The
// new connection has its rooms re-joined and its outbox resent before
// anyone else may write to it.
func (c *Client) reconnect(attempt *int, needToken bool, first time.Duration) (*websocket.Conn, error) {
	refusals := 0
	for {
		ceiling := c.opts.BackoffMax
		if *attempt < 30 {
			ceiling = min(ceiling, c.opts.BackoffMin<<*attempt)
		}
		*attempt++
		wait := rand.N(ceiling + 1)
		if first >= 0 {
			wait, first = first, -1
		}
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
		}
		if needToken {
			if _, err := c.fetchToken(c.ctx); err != nil {
				if c.ctx.Err() != nil {
					return nil, ErrClosed
				}
				if finalTokenError(err) {
					return nil, err
				}
				continue
			}
			needToken = false
		}
		conn, w, err := c.dial(c.ctx)
		if c.ctx.Err() != nil {
			if conn != nil {
				_ = conn.Close()
			}
			return nil, ErrClosed
		}
		if err != nil {
			if c.opts.GetToken != nil && authRefused(err) {
				if refusals++; refusals < 2 {
					needToken = true
					continue
				}
			}
			if permanent(err) {
				return nil, err
			}
			// A refusal that says when to come back is taken at its
			// word (the server spreads those waits over its clients).
			var de *DialError
			if errors.As(err, &de) && de.RetryAfter > 0 {
				first = min(de.RetryAfter, c.opts.BackoffMax)
			}
			continue
		}
		if c.resume(conn, w) {
			return conn, nil
		}
		_ = conn.Close()
		return nil, ErrClosed
	}
}

// resume installs a new connection: it re-joins every room with since the
// last sequence seen there and resends the outbox, holding the write lock
// so that no request overtakes the re-joins. It returns false if the client
// was closed meanwhile.
func (c *Client) resume(conn *websocket.Conn, w Welcome) bool {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return false
	}
	c.conn, c.welcome, c.self = conn, w, w.User.ID
	exp, _ := time.Parse(time.RFC3339Nano, w.ExpiresAt)
	c.setExpiryLocked(exp, w.ExpiresAt)
	if w.GuestToken != "" {
		c.guestToken = w.GuestToken
	}
	close(c.connected)
	frames := make([][]byte, 0, len(c.rooms)+len(c.outbox))
	for key, rs := range c.rooms {
		since := rs.last
		rs.filling = true
		id := c.newID()
		c.pending[id] = &call{kind: callRejoin, room: key, since: since}
		frames = append(frames, encodeFrame(protocol.TypeJoin, id, protocol.JoinBody{Room: key, Since: &since}))
	}
	for _, cl := range c.outbox {
		frames = append(frames, cl.frame)
	}
	c.mu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	for _, f := range frames {
		if err := conn.WriteMessage(websocket.TextMessage, f); err != nil {
			// The reader will see the connection fail and start over.
			break
		}
	}
	return true
}

// disconnected forgets the connection and fails the requests that cannot
// outlive it; sends stay in the outbox for the next connection.
func (c *Client) disconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = nil
	c.connected = make(chan struct{})
	for id, cl := range c.pending {
		switch cl.kind {
		case callSend:
			continue
		case callRequest:
			cl.finish(result{err: ErrDisconnected})
		}
		delete(c.pending, id)
	}
	for _, rs := range c.rooms {
		rs.filling = false
	}
}

// stop ends the client for good: every waiting request fails with err.
func (c *Client) stop(err error) {
	c.mu.Lock()
	c.err = err
	c.closing = true
	for id, cl := range c.pending {
		cl.finish(result{err: err})
		delete(c.pending, id)
	}
	c.outbox = nil
	c.mu.Unlock()
	if !errors.Is(err, ErrClosed) {
		c.emit(Event{Type: EventError, Err: err})
	}
}

// bufPool holds read buffers: a frame is read into one, decoded (decoding
// copies what it keeps) and the buffer is returned, so idle clients hold
// no read buffer beyond the library's small one.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps rare huge frames from pinning big buffers in the pool.
const maxPooledBuf = 64 << 10

// readLoop reads frames until the connection fails. Any frame or ping from
// the server pushes the read deadline out by the session's timeout; it is
// moved at most once per eighth of that span (a frame arriving sooner proves
// nothing new), which spares a busy connection a timer update per frame, so
// a silent server is given up on between seven eighths of the timeout and
// the whole of it.
func (c *Client) readLoop(conn *websocket.Conn) error {
	c.mu.Lock()
	timeout := time.Duration(c.welcome.TimeoutMS) * time.Millisecond
	c.mu.Unlock()
	if timeout <= 0 {
		timeout = 35 * time.Second
	}
	var extended time.Time // only this goroutine (and the ping handler it runs) use it
	extend := func() {
		now := time.Now()
		if now.Sub(extended) < timeout/8 {
			return
		}
		extended = now
		_ = conn.SetReadDeadline(now.Add(timeout))
	}
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	extend()
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
		}
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		_, err = buf.ReadFrom(r)
		if err == nil {
			extend()
			c.handleFrame(buf.Bytes())
		}
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
		if err != nil {
			return err
		}
	}
}
