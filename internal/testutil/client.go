package testutil

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultWait bounds every wait of the test client.
const DefaultWait = 5 * time.Second

// Frame is one frame received from the server.
type Frame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
	Raw  []byte          `json:"-"`
}

// Decode unmarshals the frame's body into v, failing the test on error.
func (f Frame) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(f.Body, v); err != nil {
		tb.Fatalf("decode %s body %s: %v", f.Type, f.Body, err)
	}
}

// FrameCheck, when set, is called with every frame a test client receives;
// the protocol tests set it to validate frames against the JSON Schema.
var FrameCheck func(tb testing.TB, raw []byte)

// Client is a real WebSocket client for tests. A goroutine reads frames into
// a buffer; Close stops it.
type Client struct {
	tb testing.TB
	// Welcomed is what the last Welcome read.
	Welcomed WelcomeInfo
	Conn     *websocket.Conn
	frames   chan Frame
	done     chan struct{}

	mu       sync.Mutex
	closeErr error
	closed   bool
}

// DialOptions tune Dial.
type DialOptions struct {
	Header       http.Header
	Subprotocols []string
	// Buffer is the number of frames buffered; default 4096.
	Buffer int
}

// Dial connects to path (for example "/ws?name=alice") on the test server.
func (ts *TestServer) Dial(tb testing.TB, path string) *Client {
	tb.Helper()
	c, _, err := ts.DialWith(tb, path, DialOptions{})
	if err != nil {
		tb.Fatalf("dial %s: %v", path, err)
	}
	return c
}

// DialWith connects with options and returns the HTTP response of the
// handshake too, so refusals can be inspected.
func (ts *TestServer) DialWith(tb testing.TB, path string, o DialOptions) (*Client, *http.Response, error) {
	tb.Helper()
	return DialURL(tb, ts.WSURL+path, o)
}

// DialURL connects to a full ws:// URL.
func DialURL(tb testing.TB, u string, o DialOptions) (*Client, *http.Response, error) {
	tb.Helper()
	if _, err := url.Parse(u); err != nil {
		return nil, nil, err
	}
	d := websocket.Dialer{HandshakeTimeout: DefaultWait, Subprotocols: o.Subprotocols}
	conn, resp, err := d.Dial(u, o.Header)
	if err != nil {
		return nil, resp, err
	}
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	c := &Client{tb: tb, Conn: conn, frames: make(chan Frame, o.Buffer), done: make(chan struct{})}
	go c.readLoop()
	tb.Cleanup(c.Close)
	return c, resp, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	defer close(c.frames)
	for {
		typ, data, err := c.Conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		var f Frame
		if typ != websocket.TextMessage || json.Unmarshal(data, &f) != nil {
			f = Frame{Type: "<undecodable>", Raw: data}
		}
		f.Raw = data
		if FrameCheck != nil {
			FrameCheck(c.tb, data)
		}
		c.frames <- f
	}
}

// Send writes a frame {"type":typ,"id":id,"body":body}; body may be nil.
func (c *Client) Send(typ, id string, body any) {
	c.tb.Helper()
	f := map[string]any{"type": typ}
	if id != "" {
		f["id"] = id
	}
	if body != nil {
		f["body"] = body
	}
	b, err := json.Marshal(f)
	if err != nil {
		c.tb.Fatalf("marshal frame: %v", err)
	}
	c.SendRaw(websocket.TextMessage, b)
}

// SendRaw writes one WebSocket message as is.
func (c *Client) SendRaw(msgType int, data []byte) {
	c.tb.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(DefaultWait))
	if err := c.Conn.WriteMessage(msgType, data); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// Next returns the next frame, failing the test if none arrives in time or
// the connection ends.
func (c *Client) Next() Frame {
	c.tb.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.tb.Fatalf("connection ended while waiting for a frame: %v", c.Err())
		}
		return f
	case <-time.After(DefaultWait):
		c.tb.Fatalf("no frame within %v", DefaultWait)
	}
	return Frame{}
}

// Expect skips frames until one of type typ arrives and returns it. Skipped
// frames of the types in skip are ignored; any other skipped type fails the
// test, so unexpected traffic is noticed.
func (c *Client) Expect(typ string, skip ...string) Frame {
	c.tb.Helper()
	for {
		f := c.Next()
		if f.Type == typ {
			return f
		}
		if !contains(skip, f.Type) {
			c.tb.Fatalf("want a %s frame, got %s: %s", typ, f.Type, f.Raw)
		}
	}
}

// ExpectNone fails if a frame other than the skipped types arrives within
// d, or if the connection ends meanwhile: "nothing arrived" means nothing
// only on a connection that is still open.
func (c *Client) ExpectNone(d time.Duration, skip ...string) {
	c.tb.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.tb.Fatalf("want no frame, but the connection ended: %v", c.Err())
			}
			if !contains(skip, f.Type) {
				c.tb.Fatalf("want no frame, got %s: %s", f.Type, f.Raw)
			}
		case <-deadline:
			return
		}
	}
}

// ExpectClose waits for the connection to end and returns the close code
// the server sent (websocket.CloseAbnormalClosure, 1006, when none came).
// Frames before the close are discarded.
func (c *Client) ExpectClose() int {
	c.tb.Helper()
	timeout := time.After(3 * DefaultWait)
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if errors.As(c.Err(), &ce) {
				return ce.Code
			}
			return websocket.CloseAbnormalClosure
		case <-timeout:
			c.tb.Fatalf("connection still open after %v", 3*DefaultWait)
			return 0
		}
	}
}

// Err returns the error that ended the read loop, if it has ended.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Welcome reads the session's welcome frame and returns its body fields,
// which it also keeps in c.Welcomed.
func (c *Client) Welcome() WelcomeInfo {
	c.tb.Helper()
	f := c.Expect("welcome")
	var w WelcomeInfo
	f.Decode(c.tb, &w)
	c.Welcomed = w
	return w
}

// ID is the user id the welcome gave the session ("" before Welcome).
func (c *Client) ID() string { return c.Welcomed.User.ID }

// WelcomeInfo is the part of the welcome body tests use.
type WelcomeInfo struct {
	Session string `json:"session"`
	User    struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Guest bool   `json:"guest"`
	} `json:"user"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
	GuestToken  string `json:"guest_token"`
}

// Close closes the connection and waits for the read goroutine.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	_ = c.Conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.Conn.Close()
	// Drain so the reader is never stuck on a full buffer.
	for range c.frames {
	}
	<-c.done
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// TryNext returns the next frame, or false if none arrives within d or the
// connection has ended. Unlike Next it never fails the test, so it is safe
// on goroutines other than the test's.
func (c *Client) TryNext(d time.Duration) (Frame, bool) {
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-time.After(d):
		return Frame{}, false
	}
}

// DecodeErr unmarshals the frame's body into v.
func (f Frame) DecodeErr(v any) error { return json.Unmarshal(f.Body, v) }
