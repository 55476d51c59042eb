package hub

import (
	"context"
	"errors"
	"sync"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Client is one connection's state in the hub. The transport calls Handle for
// each frame from its single reader goroutine and Close once when the
// connection ends.
type Client struct {
	hub     *Hub
	id      string
	ident   Identity
	allowed map[string]bool // nil: no restriction
	out     Sender

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool

	// Durable writes in flight (see pipeline): the window, the completion
	// of the last one, whether that one's outcome comes from the store's
	// completer (see appendThen), and the writes to wait for on Close.
	inflight  chan struct{}
	tail      chan struct{} // reader goroutine only
	tailAsync bool          // reader goroutine only
	ops       sync.WaitGroup
}

// ID returns the connection id.
func (c *Client) ID() string { return c.id }

// User returns the connection's user.
func (c *Client) User() protocol.User { return c.ident.User }

// Handle acts on one decoded frame and replies on the connection. Errors go
// to the client as error frames; nothing a client sends ends the connection
// here (the transport enforces the protocol-level limits).
func (c *Client) Handle(ctx context.Context, env protocol.Envelope) {
	var perr *protocol.Error
	switch env.Type {
	case protocol.TypeJoin:
		perr = c.join(ctx, env)
	case protocol.TypeLeave:
		perr = c.leave(ctx, env)
	case protocol.TypeChat:
		perr = c.chat(ctx, env)
	case protocol.TypePrivate:
		perr = c.private(ctx, env)
	case protocol.TypeTyping:
		perr = c.typing(ctx, env)
	case protocol.TypeEdit, protocol.TypeDelete, protocol.TypeReact:
		perr = c.change(ctx, env)
	case protocol.TypeRead:
		perr = c.read(ctx, env)
	case protocol.TypeHistory:
		perr = c.history(ctx, env)
	case protocol.TypeSubscribe, protocol.TypeUnsubscribe:
		perr = c.subscribe(ctx, env)
	case protocol.TypeNotifications:
		perr = c.notifications(ctx, env)
	case protocol.TypeNotificationsRead:
		perr = c.notificationsRead(ctx, env)
	case protocol.TypePing:
		c.reply(protocol.TypePong, env.ID, protocol.PongBody{TS: protocol.FormatTime(now())})
	default:
		perr = protocol.Errorf(protocol.CodeUnknownType, "unknown frame type %q", env.Type)
	}
	if perr != nil {
		c.SendError(env.ID, perr)
	}
}

// SendError sends an error frame referencing the frame id.
func (c *Client) SendError(id string, e *protocol.Error) {
	c.out.Reply(protocol.Encode(protocol.TypeError, id, e.Body()))
}

func (c *Client) reply(typ, id string, body any) {
	c.out.Reply(protocol.Encode(typ, id, body))
}

// joined returns the room if this connection has joined key.
func (c *Client) joined(key string) *room {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rooms[key]
}

// roomKey normalises a room name from a frame.
func (c *Client) roomKey(name string) (string, *protocol.Error) {
	return protocol.NormaliseRoom(name, c.hub.cfg.MaxRoomName)
}

// storeError maps a store failure to what the client is told. Failures that
// are the server's are logged here, once.
func (c *Client) storeError(op, room string, err error) *protocol.Error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return protocol.Errorf(protocol.CodeNotFound, "%s: not found", op)
	case errors.Is(err, store.ErrForbidden):
		return protocol.Errorf(protocol.CodeForbidden, "%s: not allowed", op)
	case errors.Is(err, store.ErrConflict):
		return protocol.Errorf(protocol.CodeInvalid, "%s: already exists", op)
	case errors.Is(err, context.Canceled):
		return protocol.Errorf(protocol.CodeUnavailable, "%s: cancelled", op)
	}
	c.hub.log.Error("store call failed", "op", op, "room", room, "conn", c.id, "user", c.ident.User.ID, "err", err)
	return protocol.Errorf(protocol.CodeUnavailable, "%s could not be stored; retry later", op)
}

// Close leaves every room and unregisters the connection. It is safe to call
// more than once.
func (c *Client) Close() {
	c.ops.Wait() // writes in flight finish (and are acked) first
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	rooms := c.rooms
	c.rooms = make(map[string]*room)
	c.mu.Unlock()
	ctx := context.Background()
	for _, r := range rooms {
		c.leaveRoom(ctx, r)
	}
	c.hub.removeUserConn(c)
}

// sendUnread tells an account holder their unread counts.
func (c *Client) sendUnread(ctx context.Context) {
	list, err := c.hub.store.Unread(ctx, c.ident.User.ID)
	if err != nil {
		c.hub.log.Warn("reading unread counts", "user", c.ident.User.ID, "err", err)
		return
	}
	body := protocol.UnreadBody{Rooms: make([]protocol.UnreadRoom, 0, len(list))}
	for _, u := range list {
		body.Rooms = append(body.Rooms, protocol.UnreadRoom{
			Room: u.Room, Direct: u.Kind == store.KindDirect, Unread: u.Count, LastSeq: u.LastSeq, ReadSeq: u.ReadSeq,
		})
	}
	c.reply(protocol.TypeUnread, "", body)
}
