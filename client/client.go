package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/protocol"
)

// Options configure a Client. The zero value connects with no credentials,
// which only works against a server that authenticates some other way.
type Options struct {
	// Token is sent as "Authorization: Bearer <Token>" on every dial.
	Token string
	// GetToken, when set, returns a fresh access token (Refresher.GetToken
	// does, for an account signed in with Login). The client calls it
	// before the first dial when Token is empty; ahead of the session's
	// expires_at, to hand the new token over in an auth frame so that the
	// connection stays open (see RenewBefore); and when the server refuses
	// the token it has (HTTP 401 on a dial, close 4001 or 4002), to
	// reconnect with a new one instead of stopping. An error is retried
	// with backoff, except ErrNoToken or an *APIError with a 4xx status
	// (the refresh token is no longer good), which end the client with
	// that error; so does a second fresh token refused in a row. ctx
	// bounds one call. Calls never overlap.
	GetToken func(ctx context.Context) (string, error)
	// RenewBefore is how long before the token's expiry GetToken is asked
	// for the next one; at most half the token's remaining life is used,
	// so a short-lived token is renewed halfway. Default 1 minute.
	RenewBefore time.Duration
	// Name, when set, connects as a new guest displayed as Name
	// (?name=Name); the server must run with guests enabled. The client
	// keeps the guest token of the welcome and reconnects with it, so it
	// stays the same guest (the same user id) across reconnects; if the
	// server no longer takes that token, it connects as a new guest of the
	// same name.
	Name string
	// Header is added to the upgrade request of every dial.
	Header http.Header
	// LocalAddr is the local address connections are made from, for
	// example 127.0.0.2:0 to use another loopback address's ports when one
	// address has run out. Ignored when NetDial is set.
	LocalAddr *net.TCPAddr
	// NetDial, when set, opens the TCP connections instead of a net.Dialer,
	// so a caller can wrap, route or cut them.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout bounds one dial: TCP, the upgrade and the welcome
	// frame. Default 10s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds one frame written to the server. Default 10s.
	WriteTimeout time.Duration

	// Reconnect re-dials after a connection ends unexpectedly and recovers
	// what was missed (see the package documentation). Without it the
	// client stops at the first disconnect.
	Reconnect bool
	// BackoffMin and BackoffMax shape the wait before each reconnect
	// attempt: a random duration between 0 and min(BackoffMax,
	// BackoffMin×2^attempt) ("full jitter", so a crowd of clients does not
	// come back in lockstep). Defaults 250ms and 30s. The attempt count
	// resets once a connection has stayed up for a minute.
	BackoffMin, BackoffMax time.Duration

	// MaxOutbox bounds the sends (Send and Private) waiting for their ack,
	// in flight or held while disconnected; a further send waits for one
	// of them to finish (or for its ctx). Default 1000. Each holds its
	// frame, so the bound is also one on the memory a long disconnect can
	// take.
	MaxOutbox int

	// EventBuffer is the capacity of the Events channel; default 256. When
	// it is full the client stops reading the socket until there is room,
	// so a consumer that stays behind is eventually disconnected by the
	// server as too slow (close 4008); with Reconnect the client then
	// recovers the events it had not read.
	EventBuffer int
	// Handler, when set, receives every event synchronously on the
	// client's reader goroutine instead of the Events channel, saving a
	// channel hand-off and a goroutine per client (load tools hold
	// thousands). It must return quickly and must not call the client's
	// blocking methods (their replies are read by the same goroutine).
	//
	// The Event is valid only until Handler returns. For message and
	// private events, Message points to a struct the client reuses for the
	// next frame, and its strings, like Room, may be views of the client's
	// read buffer, which is reused too: that is what lets a delivery cost
	// no allocation. A Handler that keeps anything past its return must
	// copy it, strings with strings.Clone (copying *Message copies the
	// struct, not the bytes its strings point to). Events read from the
	// Events channel own their memory.
	Handler func(Event)

	// IgnorePresence drops presence and presence_diff frames unread: no
	// EventPresence, and Members keeps only the joined reply's list. For
	// load tools and bots that show no one's presence, so that a crowded
	// room costs them reading the frames, not decoding them.
	IgnorePresence bool

	// ReadBufferSize and WriteBufferSize size the WebSocket buffers;
	// default 1 KiB each. Write buffers come from a pool shared by all
	// clients, so an idle client holds none; larger frames still work.
	ReadBufferSize, WriteBufferSize int
}

func (o *Options) setDefaults() {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 250 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.RenewBefore <= 0 {
		o.RenewBefore = time.Minute
	}
	if o.MaxOutbox <= 0 {
		o.MaxOutbox = 1000
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = 1024
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = 1024
	}
}

// writeBufferPool is shared by every client's connections: a buffer is held
// only while a frame is being written.
var writeBufferPool sync.Pool

// Client is one Parley session, re-established across disconnects when
// Options.Reconnect is set. Create it with Dial and release it with Close.
type Client struct {
	url    string
	opts   Options
	dialer websocket.Dialer
	header http.Header
	events chan Event
	// idPrefix makes client_ids unique across clients and processes; it
	// ends with "-".
	idPrefix string
	nextID   atomic.Uint64

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the run goroutine has exited

	// writeMu serialises writers on the connection; it is also held while
	// a new connection re-joins and resends, so no request overtakes the
	// re-joins.
	writeMu sync.Mutex

	// wg counts the goroutines besides run (the token renewer); run waits
	// for them before it closes done.
	wg sync.WaitGroup

	mu        sync.Mutex
	conn      *websocket.Conn // nil while disconnected
	connected chan struct{}   // closed when conn is set; replaced on disconnect
	welcome   Welcome
	// token is the access token dials use: Options.Token, then the latest
	// from GetToken or Renew.
	token string
	// expires is when the current connection's token expires (zero:
	// never), as of expirySet; renewKick wakes the renewer when it moves.
	expires, expirySet time.Time
	renewKick          chan struct{}
	// guestToken brings a guest back as the same guest on reconnect.
	guestToken string
	pending    map[string]*call // by frame id
	outbox     []*call          // unacknowledged sends, oldest first
	// slots holds a token for each send in the outbox: its capacity is
	// Options.MaxOutbox.
	slots   chan struct{}
	closing bool
	err     error // why the client stopped, once it has

	// rooms is touched only by the run goroutine (which is also the
	// reader), so it needs no lock.
	rooms map[string]*roomState
	// self is the user's id, for the run goroutine: set before it starts
	// and by each resume, which it runs.
	self string

	// stateMu guards the session state of state.go: unread counts (nil
	// until an unread frame came) and the members of joined rooms.
	stateMu sync.Mutex
	unread  map[string]*UnreadRoom
	members map[string]map[string]User
	// countUnread is set once an unread frame came (never for guests, who
	// get none), so that only then does each message take stateMu; run
	// goroutine only.
	countUnread bool
	// scratch is the Message that message and private frames are decoded
	// into when Handler is set (see handleHot); reader goroutine only.
	scratch Message
}

// Dial connects to a Parley server's WebSocket endpoint, such as
// ws://127.0.0.1:8080/ws, and waits for the welcome frame. The first dial
// is not retried: an error means no client was created. ctx bounds the
// dial only.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	opts.setDefaults()
	c := &Client{
		url:       url,
		opts:      opts,
		pending:   make(map[string]*call),
		rooms:     make(map[string]*roomState),
		members:   make(map[string]map[string]User),
		slots:     make(chan struct{}, opts.MaxOutbox),
		done:      make(chan struct{}),
		connected: make(chan struct{}),
	}
	var p [6]byte
	_, _ = rand.Read(p[:])
	c.idPrefix = hex.EncodeToString(p[:]) + "-"
	if opts.Handler == nil {
		c.events = make(chan Event, opts.EventBuffer)
	} else {
		c.events = make(chan Event)
	}
	c.header = http.Header{}
	for k, v := range opts.Header {
		c.header[k] = append([]string(nil), v...)
	}
	c.token = opts.Token
	c.renewKick = make(chan struct{}, 1)
	c.dialer = websocket.Dialer{
		Subprotocols:     []string{"parley.v1"},
		HandshakeTimeout: opts.HandshakeTimeout,
		ReadBufferSize:   opts.ReadBufferSize,
		WriteBufferSize:  opts.WriteBufferSize,
		WriteBufferPool:  &writeBufferPool,
		NetDialContext:   opts.NetDial,
	}
	if opts.NetDial == nil {
		d := &net.Dialer{Timeout: opts.HandshakeTimeout}
		if opts.LocalAddr != nil {
			d.LocalAddr = opts.LocalAddr
		}
		c.dialer.NetDialContext = d.DialContext
	}
	conn, w, err := c.firstDial(ctx)
	if err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.conn, c.welcome, c.guestToken, c.self = conn, w, w.GuestToken, w.User.ID
	exp, _ := time.Parse(time.RFC3339Nano, w.ExpiresAt)
	c.setExpiryLocked(exp, w.ExpiresAt)
	close(c.connected)
	if opts.GetToken != nil {
		c.wg.Add(1)
		go c.renewLoop()
	}
	go c.run(conn)
	return c, nil
}

// firstDial is Dial's one attempt, with a token from GetToken when Token
// is empty, and once more with a fresh one if the server refuses a token
// it did not just give.
func (c *Client) firstDial(ctx context.Context) (*websocket.Conn, Welcome, error) {
	fresh := false
	if c.token == "" && c.opts.GetToken != nil {
		if _, err := c.fetchToken(ctx); err != nil {
			return nil, Welcome{}, err
		}
		fresh = true
	}
	conn, w, err := c.dial(ctx)
	if err != nil && !fresh && c.opts.GetToken != nil && authRefused(err) {
		if _, err := c.fetchToken(ctx); err != nil {
			return nil, Welcome{}, err
		}
		return c.dial(ctx)
	}
	return conn, w, err
}

// Events returns the channel of events. It is closed once the client has
// stopped: after Close, or when the connection ended for good (the last
// event then is an EventError saying why). Unused when Options.Handler is
// set.
func (c *Client) Events() <-chan Event { return c.events }

// Session returns the welcome of the current connection: the user, the
// session id and the limits. It changes on reconnect.
func (c *Client) Session() Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome
}

// Done is closed when the client has stopped; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped: ErrClosed after Close, the final
// connection error otherwise, nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the session with a normal closure (1000) and waits for every
// goroutine of the client to exit. Requests still waiting return ErrClosed.
// It is safe to call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closing = true
	conn := c.conn
	c.mu.Unlock()
	c.cancel()
	if conn != nil {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = conn.Close()
	}
	<-c.done
	return nil
}

// newID returns a fresh frame id.
func (c *Client) newID() string {
	return strconv.FormatUint(c.nextID.Add(1), 36)
}

// newClientID returns a fresh idempotency key for a send: the time in
// milliseconds (nine base-36 digits, so keys sort by it), then idPrefix and
// a counter, which make it unique. The server's index of these keys is led
// by the key (see docs/PROTOCOL.md), and keys that grow with time all go to
// its last pages instead of one page per sender, which under load is most
// of what each commit and checkpoint writes.
func (c *Client) newClientID() string {
	return clientIDAt(time.Now(), c.idPrefix, c.nextID.Add(1))
}

// clientIDAt is newClientID's key for the time t.
func clientIDAt(t time.Time, prefix string, n uint64) string {
	b := protocol.AppendClientIDTime(make([]byte, 0, 10+len(prefix)+8), t)
	b = append(b, prefix...)
	return string(strconv.AppendUint(b, n, 36))
}

// emit hands an event to the Handler or the Events channel. It blocks while
// the channel is full, which stops the reader (see Options.EventBuffer).
func (c *Client) emit(ev Event) {
	if c.opts.Handler != nil {
		c.opts.Handler(ev)
		return
	}
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

// encodeFrame marshals a client frame.
func encodeFrame(typ, id string, body any) []byte {
	// The server's encoder: chat and private frames by hand, the rest
	// through encoding/json, in the envelope the protocol defines.
	return protocol.Encode(typ, id, body)
}
