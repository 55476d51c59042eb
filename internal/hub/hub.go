package hub

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/broker"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// ErrTooManyConns is returned by Connect when the user already holds
// Config.MaxConnsPerUser connections on this node.
var ErrTooManyConns = errors.New("hub: too many connections for this user")

// ErrClosed is returned by Connect after Close.
var ErrClosed = errors.New("hub: closed")

// Config holds the hub's limits. Zero values are replaced by the defaults
// noted on each field.
type Config struct {
	MaxRoomName      int           // characters in a room name; default 64
	MaxMessageLength int           // characters in a message; default 4000
	MaxRoomsPerConn  int           // rooms one connection may join; default 100
	MaxConnsPerUser  int           // connections one user may hold on this node; default 16
	TypingTimeout    time.Duration // a typing indicator expires after this; default 6s
	RecoveryWindow   int           // most events replayed on a re-join; default 1000
	HistoryLimit     int           // default history page; default 100
	// MaxReplayBytes bounds the encoded events one join replays: a replay
	// larger than this is not sent and the join says recovery is
	// incomplete. The server sets it to half a connection's send queue,
	// so that a replay never cuts its client off as too slow. Default 512 KiB.
	MaxReplayBytes int
	// GapTimeout is how long a room waits for an out-of-order stored event
	// before reading the missing ones from the store; default 250ms.
	GapTimeout time.Duration
	// OnAppend, when set, is told how long each durable append took (the
	// sender's wait before its ack) and whether it failed; for metrics.
	OnAppend func(d time.Duration, err error)
	// Events hears of messages, members and users coming and going, for
	// webhooks; default event.None.
	Events event.Sink
	// RoomCreation says who may create a room by joining it: CreateAnyone,
	// CreateAccounts or CreateAdmins; default CreateAnyone.
	RoomCreation string
	// ReservedRooms are room keys only administrators may create.
	ReservedRooms []string
	// MaxRoomsPerUser bounds the rooms one user may own; 0 means no limit.
	MaxRoomsPerUser int
	// RoomCreations limits how fast one user may create rooms, keyed by
	// user id; nil means no limit. Administrators are not limited.
	RoomCreations *limit.Keyed
	// Audit records what moderators do over the WebSocket (deleting
	// others' messages); nil records nothing.
	Audit *audit.Recorder
	// MaxJoinedMembers bounds the members a joined reply lists (the
	// first ones by id; member_count gives them all), so that joining a
	// large room costs a bounded frame. Default 100.
	MaxJoinedMembers int
	// PresenceBatchAbove is the number of local connections in a room
	// above which its presence changes are gathered into presence_diff
	// frames, one per PresenceInterval; default 100.
	PresenceBatchAbove int
	// PresenceInterval is how often a busy room sends its gathered
	// presence changes; default 1s.
	PresenceInterval time.Duration
	// Cluster, when set, makes presence and the per-user connection
	// limit hold across the nodes that share the store and the broker.
	Cluster *Cluster
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxRoomName, 64)
	def(&c.MaxMessageLength, 4000)
	def(&c.MaxRoomsPerConn, 100)
	def(&c.MaxConnsPerUser, 16)
	def(&c.RecoveryWindow, 1000)
	def(&c.MaxReplayBytes, 512<<10)
	def(&c.HistoryLimit, 100)
	def(&c.MaxJoinedMembers, 100)
	def(&c.PresenceBatchAbove, 100)
	if c.PresenceInterval <= 0 {
		c.PresenceInterval = time.Second
	}
	if c.TypingTimeout <= 0 {
		c.TypingTimeout = 6 * time.Second
	}
	if c.GapTimeout <= 0 {
		c.GapTimeout = 250 * time.Millisecond
	}
	if c.OnAppend == nil {
		c.OnAppend = func(time.Duration, error) {}
	}
	if c.Events == nil {
		c.Events = event.None{}
	}
	if c.RoomCreation == "" {
		c.RoomCreation = CreateAnyone
	}
}

// Sender is the transport's side of one connection.
type Sender interface {
	// Send enqueues one encoded frame and never blocks. The frame is shared
	// with other recipients and must not be modified. When the connection's
	// queue is over its bound the transport disconnects it as too slow; Send
	// then returns false, as it does once the connection is closing.
	Send(frame []byte) bool
	// Reply is Send for an answer to the client's own request (an ack, an
	// error, a joined room): the transport writes it without the delay it
	// may add to gather a busy connection's broadcast frames.
	Reply(frame []byte) bool
	// Close closes the connection with a WebSocket close code and reason.
	Close(code int, reason string)
}

// Identity is who a connection belongs to, as authentication established it.
type Identity struct {
	User protocol.User
	// Rooms, when non-nil, restricts the rooms this identity may join (from
	// an integrating app's token).
	Rooms []string
	// Admin may moderate every room.
	Admin bool
	// SessionID is the sign-in session behind the token, when there is one;
	// signing out closes the connections that carry it.
	SessionID string
}

const shardCount = 32

// Hub routes events between the connections of one node and the broker.
type Hub struct {
	cfg    Config
	store  store.Store
	broker broker.Broker
	log    *slog.Logger
	seed   maphash.Seed

	rooms [shardCount]roomShard
	users [shardCount]userShard

	// notices delivers notices for everyone (see Notice), notifications
	// live notifications (see Notify); nil if the broker refused them.
	notices, notifications broker.Subscription

	// cluster is nil on a single node.
	cluster *cluster
	// stopping is set when the node shuts down (Stopping).
	stopping atomic.Bool

	mu     sync.Mutex
	closed bool
}

type roomShard struct {
	mu    sync.Mutex
	rooms map[string]*room
}

type userShard struct {
	mu    sync.Mutex
	users map[string]*localUser
}

// localUser is one user's connections on this node.
type localUser struct {
	clients map[*Client]struct{}
	sub     broker.Subscription
}

// New returns a hub over st and b, subscribed to notices for everyone. It
// starts no goroutines; timers it arms are stopped by Close.
func New(cfg Config, st store.Store, b broker.Broker, log *slog.Logger) *Hub {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{cfg: cfg, store: st, broker: b, log: log, seed: maphash.MakeSeed()}
	for i := range h.rooms {
		h.rooms[i].rooms = make(map[string]*room)
		h.users[i].users = make(map[string]*localUser)
	}
	if b == nil {
		return h // a hub for tests of its rooms alone
	}
	var err error
	if h.notices, err = b.Subscribe(noticeSubject, h.deliverNotice); err != nil {
		log.Error("hub: subscribe to notices for everyone; they will not arrive", "err", err)
	}
	if h.notifications, err = b.Subscribe(notifySubject, h.deliverNotification); err != nil {
		log.Error("hub: subscribe to live notifications; they will arrive only on connecting", "err", err)
	}
	if cfg.Cluster != nil {
		h.startCluster(*cfg.Cluster)
	}
	return h
}

// Config returns the limits in force, defaults applied.
func (h *Hub) Config() Config { return h.cfg }

func (h *Hub) shard(key string) int {
	return int(maphash.String(h.seed, key) % shardCount)
}

// Connect registers a new connection. The caller has already sent the
// welcome frame. Connect sends the user's unread counts when they hold an
// account, and returns the Client the transport feeds frames to.
func (h *Hub) Connect(ctx context.Context, connID string, id Identity, out Sender) (*Client, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	c := &Client{hub: h, id: connID, ident: id, out: out, rooms: make(map[string]*room),
		inflight: make(chan struct{}, maxInFlight)}
	if id.Rooms != nil {
		c.allowed = make(map[string]bool, len(id.Rooms))
		for _, r := range id.Rooms {
			if key, err := protocol.NormaliseRoom(r, h.cfg.MaxRoomName); err == nil {
				c.allowed[key] = true
			}
		}
	}
	if err := h.addUserConn(c); err != nil {
		return nil, err
	}
	if !id.User.Guest {
		c.sendUnread(ctx)
		c.sendNotifications(ctx)
	}
	return c, nil
}

// addUserConn counts c among its user's connections: against the limit
// across the cluster when there is one (this node's count, exact, plus
// the others' as last written to the store: one read), then on this node.
func (h *Hub) addUserConn(c *Client) error {
	others := 0
	if h.cluster != nil {
		others = h.otherConns(c.ident.User.ID)
	}
	subscribed, err := h.addLocalConn(c, others)
	if err != nil {
		return err
	}
	if h.cluster != nil {
		h.cluster.writer.markUser(c.ident.User.ID)
	}
	if f, ok := h.broker.(flusher); ok && subscribed {
		// A private message sent from another node right after this
		// user's welcome must find the subscription in place on NATS;
		// without the round trip it could be published first and missed.
		// A broker that is down fails the flush: the node goes on serving
		// its own users, as it does for every publish then.
		if err := f.Flush(); err != nil {
			h.log.Debug("hub: flush a new user subscription", "user", c.ident.User.ID, "err", err)
		}
	}
	return nil
}

// flusher is a broker whose subscriptions take effect asynchronously:
// Flush returns once those made so far are in place.
type flusher interface{ Flush() error }

// addLocalConn adds c to its user's connections on this node, unless
// they and others (the user's connections on other nodes; -1: unknown)
// reach MaxConnsPerUser. The user is online when both were none.
// subscribed says that c is the user's first connection here, so the
// user's broker subscription was just made.
func (h *Hub) addLocalConn(c *Client, others int) (subscribed bool, err error) {
	uid := c.ident.User.ID
	s := &h.users[h.shard(uid)]
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		u = &localUser{clients: make(map[*Client]struct{})}
		sub, err := h.broker.Subscribe(userSubject(uid), func(data []byte) { h.deliverToUser(uid, data) })
		if err != nil {
			return false, fmt.Errorf("hub: subscribe to user %q: %w", uid, err)
		}
		u.sub = sub
		s.users[uid] = u
		subscribed = true
	}
	if max(others, 0)+len(u.clients) >= h.cfg.MaxConnsPerUser {
		if len(u.clients) == 0 {
			_ = u.sub.Unsubscribe()
			delete(s.users, uid)
		}
		return false, ErrTooManyConns
	}
	if len(u.clients) == 0 && others == 0 {
		h.emit(event.UserOnline, func() any { return event.User{User: c.ident.User} })
	}
	u.clients[c] = struct{}{}
	return subscribed, nil
}

func (h *Hub) removeUserConn(c *Client) {
	was, last := h.removeLocalConn(c)
	if was && h.leaveRecorded() {
		h.closedInCluster(c, last)
	}
}

// removeLocalConn drops c from its user's connections on this node and
// reports whether it was one, and whether it was their last here.
func (h *Hub) removeLocalConn(c *Client) (was, last bool) {
	uid := c.ident.User.ID
	s := &h.users[h.shard(uid)]
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[uid]
	if u == nil {
		return false, false
	}
	if _, ok := u.clients[c]; !ok {
		return false, false
	}
	delete(u.clients, c)
	if len(u.clients) == 0 {
		_ = u.sub.Unsubscribe()
		delete(s.users, uid)
		if h.cluster == nil {
			h.emit(event.UserOffline, func() any { return event.User{User: c.ident.User} })
		}
		return true, true
	}
	return true, false
}

// emit reports an event of type typ, building its data only when someone
// wants it.
func (h *Hub) emit(typ string, data func() any) {
	if h.cfg.Events.Wants(typ) {
		h.cfg.Events.Emit(typ, data())
	}
}

// emitMessage reports a stored message event: created, edited or deleted.
func (h *Hub) emitMessage(ev store.Event) {
	typ := event.MessageCreated
	switch ev.Kind {
	case store.EventEdit:
		typ = event.MessageEdited
	case store.EventDelete:
		typ = event.MessageDeleted
	case store.EventReaction:
		return
	}
	h.emit(typ, func() any {
		m := event.Message{Message: MessageBody(ev.Message)}
		if typ != event.MessageCreated {
			m.Actor = ev.Actor
		}
		return m
	})
}

// deliverToUser hands a private event to every local connection of uid, or
// carries out a control event on them.
func (h *Hub) deliverToUser(uid string, data []byte) {
	kind, _, exclude, frame, err := unpackEvent(data)
	if err != nil {
		h.log.Warn("dropping malformed user event", "user", uid, "err", err)
		return
	}
	s := &h.users[h.shard(uid)]
	s.mu.Lock()
	u := s.users[uid]
	if u == nil {
		s.mu.Unlock()
		return
	}
	if kind == kindRemoved || kind == kindSignedOut || kind == kindDisconnect || kind == kindSignedOutExcept {
		targets := make([]*Client, 0, len(u.clients))
		for c := range u.clients {
			targets = append(targets, c)
		}
		s.mu.Unlock()
		// Acting takes room locks and publishes, so it runs without the
		// shard lock (see LOCKING.md).
		for _, c := range targets {
			switch {
			case kind == kindRemoved:
				c.removedFrom(string(frame))
			case kind == kindDisconnect:
				c.out.Close(protocol.CloseDisconnected, string(frame))
			case kind == kindSignedOutExcept:
				if c.ident.SessionID != string(frame) {
					c.out.Close(protocol.CloseUnauthorized, "signed out: the password changed")
				}
			case c.ident.SessionID == string(frame):
				c.out.Close(protocol.CloseUnauthorized, "signed out")
			}
		}
		return
	}
	defer s.mu.Unlock()
	for c := range u.clients {
		if c.id != exclude {
			c.out.Send(frame)
		}
	}
}

// RemovedFromRoom takes uid's live connections out of room, on every node,
// after their membership was revoked: a removed member must not keep reading
// or writing a private room through a connection opened before.
func (h *Hub) RemovedFromRoom(ctx context.Context, room, uid string) {
	if err := h.publish(ctx, userSubject(uid), packEvent(kindRemoved, 0, "", []byte(room))); err != nil {
		h.log.Warn("publishing a removal", "room", room, "user", uid, "err", err)
	}
}

// SignedOut closes, on every node, the connections that authenticated with
// the given sign-in session, which has just been revoked.
func (h *Hub) SignedOut(ctx context.Context, uid, sessionID string) {
	if sessionID == "" {
		return
	}
	if err := h.publish(ctx, userSubject(uid), packEvent(kindSignedOut, 0, "", []byte(sessionID))); err != nil {
		h.log.Warn("publishing a sign-out", "user", uid, "err", err)
	}
}

// Disconnect closes, on every node, every connection of the user with
// close code 4003 and reason, which tells the client not to reconnect on
// its own.
func (h *Hub) Disconnect(ctx context.Context, uid, reason string) error {
	if err := h.publish(ctx, userSubject(uid), packEvent(kindDisconnect, 0, "", []byte(reason))); err != nil {
		return fmt.Errorf("hub: disconnect %q: %w", uid, err)
	}
	return nil
}

// RoomOnline lists the users connected to room (through any node of a
// cluster, up to MaxJoinedMembers; on this node otherwise), each once,
// by id; empty when nobody is.
func (h *Hub) RoomOnline(room string) []protocol.User {
	if h.cluster != nil {
		return h.clusterMembers(room)
	}
	s := &h.rooms[h.shard(room)]
	s.mu.Lock()
	r := s.rooms[room]
	s.mu.Unlock()
	if r == nil {
		return []protocol.User{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.memberListLocked(0)
}

// Online reports how many connections user has: on every node of a
// cluster (this node's from memory, the others' as they last wrote
// them), on this one otherwise.
func (h *Hub) Online(uid string) int {
	n := h.localConns(uid)
	if h.cluster != nil {
		if others := h.otherConns(uid); others > 0 {
			n += others
		}
	}
	return n
}

// Stats is a snapshot of the hub's size.
type Stats struct {
	Rooms int // rooms with at least one local connection
	Users int // users with at least one local connection
}

// Stats counts rooms and users on this node.
func (h *Hub) Stats() Stats {
	var st Stats
	for i := range h.rooms {
		h.rooms[i].mu.Lock()
		st.Rooms += len(h.rooms[i].rooms)
		h.rooms[i].mu.Unlock()
		h.users[i].mu.Lock()
		st.Users += len(h.users[i].users)
		h.users[i].mu.Unlock()
	}
	return st
}

// Close stops the hub's timers and subscriptions. Connections are closed by
// the transport, which calls Client.Close for each.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	h.stopCluster()
	for _, sub := range []broker.Subscription{h.notices, h.notifications} {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
	}
	for i := range h.rooms {
		s := &h.rooms[i]
		s.mu.Lock()
		for _, r := range s.rooms {
			r.stop()
		}
		s.mu.Unlock()
	}
}

func roomSubject(key string) string { return "room." + key }
func userSubject(uid string) string { return "user." + uid }
