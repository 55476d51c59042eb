package client

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// maxAhead bounds the sequences remembered above a room's contiguous mark.
// They are normally a handful (own acks that overtook others' messages); a
// gap that outlives this many is abandoned rather than remembered forever.
const maxAhead = 4096

// roomState tracks which stored events of a joined room were delivered.
// last is the highest sequence up to which everything was seen; ahead holds
// sequences seen above it. Events at or below last, or in ahead, are
// duplicates (a replay overlapping what came live) and are dropped.
type roomState struct {
	last    int64
	ahead   map[int64]struct{}
	filling bool // a re-join with since is on its way
}

// see records seq and reports whether it is new, and whether it left a gap
// below it.
func (r *roomState) see(seq int64) (fresh, gap bool) {
	if seq <= r.last {
		return false, false
	}
	if _, dup := r.ahead[seq]; dup {
		return false, false
	}
	if seq != r.last+1 {
		if r.ahead == nil {
			r.ahead = make(map[int64]struct{})
		}
		r.ahead[seq] = struct{}{}
		if len(r.ahead) > maxAhead {
			r.skipTo(seq)
			return true, false
		}
		return true, true
	}
	r.last = seq
	for len(r.ahead) > 0 {
		if _, ok := r.ahead[r.last+1]; !ok {
			break
		}
		delete(r.ahead, r.last+1)
		r.last++
	}
	return true, false
}

// skipTo gives up on everything at or below seq that was not seen.
func (r *roomState) skipTo(seq int64) {
	if seq > r.last {
		r.last = seq
	}
	for s := range r.ahead {
		if s <= r.last {
			delete(r.ahead, s)
		}
	}
	for {
		if _, ok := r.ahead[r.last+1]; !ok {
			break
		}
		delete(r.ahead, r.last+1)
		r.last++
	}
}

// envelope is the part of every server frame needed to route it.
type envelope struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

// handleFrame routes one server frame. It runs on the reader goroutine;
// data is valid only during the call.
func (c *Client) handleFrame(data []byte) {
	if c.handleHot(data) {
		return
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return // not ours to judge; the protocol says to ignore the unknown
	}
	if env.ID != "" {
		c.onReply(env)
		return
	}
	switch env.Type {
	case protocol.TypeMessage, protocol.TypePrivate:
		var m Message
		if json.Unmarshal(env.Body, &m) == nil {
			c.onMessage(EventType(env.Type), &m)
		}
	case protocol.TypeUpdate:
		var u Update
		if json.Unmarshal(env.Body, &u) == nil {
			if rs := c.rooms[u.Room]; rs != nil {
				if fresh, gap := rs.see(u.Seq); !fresh {
					return
				} else if gap {
					c.fillGap(u.Room, rs)
				}
			}
			if c.countUnread {
				c.countSeq(u.Room, u.Seq)
			}
			c.emit(Event{Type: EventUpdate, Room: u.Room, Update: &u})
		}
	case protocol.TypePresence:
		var p Presence
		if json.Unmarshal(env.Body, &p) == nil {
			c.applyPresence(&p)
			c.emit(Event{Type: EventPresence, Room: p.Room, Presence: &p})
		}
	case protocol.TypePresenceDiff:
		// A busy room's changes, gathered: one presence event each, leaves
		// first, as if they had come one by one. The lists are bounded
		// (the first by id); Members stays a sample of a large room.
		var d protocol.PresenceDiffBody
		if json.Unmarshal(env.Body, &d) == nil {
			for _, batch := range []struct {
				users []protocol.User
				event string
			}{{d.Leaves, "leave"}, {d.Joins, "join"}} {
				for _, u := range batch.users {
					p := Presence{Room: d.Room, User: u, Event: batch.event}
					c.applyPresence(&p)
					c.emit(Event{Type: EventPresence, Room: p.Room, Presence: &p})
				}
			}
		}
	case protocol.TypeTyping:
		var t Typing
		if json.Unmarshal(env.Body, &t) == nil {
			c.emit(Event{Type: EventTyping, Room: t.Room, Typing: &t})
		}
	case protocol.TypeRead:
		var r Read
		if json.Unmarshal(env.Body, &r) == nil {
			if r.User.ID == c.self {
				c.applyRead(&r) // moved on another device
			}
			c.emit(Event{Type: EventRead, Room: r.Room, Read: &r})
		}
	case protocol.TypeSystem:
		var s System
		if json.Unmarshal(env.Body, &s) == nil {
			c.emit(Event{Type: EventSystem, Room: s.Room, System: &s})
		}
	case protocol.TypeError:
		var e protocol.ErrorBody
		if json.Unmarshal(env.Body, &e) == nil {
			c.emit(Event{Type: EventError, Err: serverError(e)})
		}
	case protocol.TypeJoined:
		// The implicit join of /ws/{room}: track the room like any other.
		var j Joined
		if json.Unmarshal(env.Body, &j) == nil {
			c.trackRoom(j)
		}
	default:
		c.handleSession(env)
	}
}

// handleHot takes the fast path (decode.go) for message, private and ack
// frames and reports whether it did; false leaves the frame to
// encoding/json.
func (c *Client) handleHot(data []byte) bool {
	var typ EventType
	var prefix string
	switch src := view(data); {
	case strings.HasPrefix(src, messagePrefix):
		typ, prefix = EventMessage, messagePrefix
	case strings.HasPrefix(src, privatePrefix):
		typ, prefix = EventPrivate, privatePrefix
	case strings.HasPrefix(src, ackPrefix):
		// The ack goes to a caller on another goroutine: it must own its
		// strings, which share one copy of the frame.
		var a Ack
		id, ok := decodeAck(string(data), &a)
		if ok {
			c.onAck(id, a)
		}
		return ok
	case c.opts.IgnorePresence && strings.HasPrefix(src, presencePrefix):
		return true
	default:
		return false
	}
	// With a Handler the message is decoded in place, allocating nothing:
	// into c.scratch, with strings that are views of data, both valid
	// until the Handler returns (see Options.Handler). Events sent on the
	// channel own a Message and one copy of the frame its strings share.
	m, src := &c.scratch, view(data)
	if c.opts.Handler == nil {
		m, src = new(Message), string(data)
	}
	if !decodeMessage(src, prefix, m) {
		return false
	}
	c.onMessage(typ, m)
	return true
}

// onMessage delivers a message or private event once. m may be a view
// (see handleHot): nothing here keeps it or its strings past the call.
func (c *Client) onMessage(typ EventType, m *Message) {
	if typ == EventMessage {
		rs := c.rooms[m.Room]
		if rs == nil {
			return // a room left meanwhile
		}
		fresh, gap := rs.see(m.Seq)
		if !fresh {
			return
		}
		if gap {
			c.fillGap(m.Room, rs)
		}
		// A replay can carry our own message whose ack the lost connection
		// never brought: it settles the send and is not an event.
		if m.ClientID != "" && c.settleEcho(m) {
			return
		}
	}
	if c.countUnread {
		c.countMessage(m, typ == EventPrivate)
	}
	c.emit(Event{Type: typ, Room: m.Room, Message: m})
}

// settleEcho completes an outbox send from its replayed message.
func (c *Client) settleEcho(m *Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.From.ID != c.welcome.User.ID {
		return false
	}
	for _, cl := range c.outbox {
		if cl.clientID != m.ClientID {
			continue
		}
		// m may be a view of the read buffer: the caller gets copies.
		ack := Ack{Room: strings.Clone(m.Room), MessageID: strings.Clone(m.ID), Seq: m.Seq,
			TS: strings.Clone(m.TS), Duplicate: true}
		c.dropOutboxLocked(cl)
		for id, p := range c.pending {
			if p == cl {
				delete(c.pending, id)
			}
		}
		cl.finish(result{typ: protocol.TypeAck, ack: ack})
		return true
	}
	return false
}

// onReply matches a reply to the request with the same id.
func (c *Client) onReply(env envelope) {
	if env.Type == protocol.TypeAck {
		var a Ack
		if json.Unmarshal(env.Body, &a) == nil {
			c.onAck(env.ID, a)
			return
		}
	}
	cl := c.takePending(env.ID)
	if cl == nil {
		if env.Type == protocol.TypeError {
			var e protocol.ErrorBody
			if json.Unmarshal(env.Body, &e) == nil {
				c.emit(Event{Type: EventError, Err: serverError(e)})
			}
		}
		return // a reply for a caller who gave up
	}
	if env.Type == protocol.TypeError {
		var e protocol.ErrorBody
		_ = json.Unmarshal(env.Body, &e)
		err := serverError(e)
		if cl.kind == callRejoin || cl.kind == callGapFill {
			if rs := c.rooms[cl.room]; rs != nil {
				rs.filling = false
			}
			c.emit(Event{Type: EventError, Room: cl.room, Err: err})
			return
		}
		cl.finish(result{err: err})
		return
	}
	switch env.Type {
	case protocol.TypeJoined:
		var j Joined
		if json.Unmarshal(env.Body, &j) == nil {
			c.onJoined(cl, j)
		}
	case protocol.TypeLeft:
		var b protocol.RoomBody
		if json.Unmarshal(env.Body, &b) == nil {
			c.forgetRoom(b.Room)
		}
	case protocol.TypeRead:
		var r Read
		if json.Unmarshal(env.Body, &r) == nil {
			c.applyRead(&r)
		}
	}
	cl.finish(result{typ: env.Type, body: env.Body})
}

// onAck settles the send with frame id id from its decoded ack.
func (c *Client) onAck(id string, a Ack) {
	cl := c.takePending(id)
	// Our own message is never an event here; mark its sequence seen even
	// when its caller gave up, or it would look like a gap. An edit's,
	// delete's or reaction's sequence is not: the update frame that
	// carries it comes to this connection too, and must not be dropped.
	if cl == nil || !cl.update {
		if rs := c.rooms[a.Room]; rs != nil {
			rs.see(a.Seq)
		}
	}
	if cl != nil {
		cl.finish(result{typ: protocol.TypeAck, ack: a})
	}
}

// takePending removes and returns the call waiting for the reply with
// frame id id, nil when there is none (its caller gave up).
func (c *Client) takePending(id string) *call {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.pending[id]
	if cl != nil {
		delete(c.pending, id)
		if cl.kind == callSend {
			c.dropOutboxLocked(cl)
		}
	}
	return cl
}

// onJoined updates a room's state from a joined reply.
func (c *Client) onJoined(cl *call, j Joined) {
	switch cl.kind {
	case callRejoin, callGapFill:
		rs := c.rooms[j.Room]
		if rs == nil {
			return // left meanwhile
		}
		c.setMembers(&j)
		rs.filling = false
		if j.Recovered != nil && !*j.Recovered {
			rs.skipTo(j.LastSeq)
			c.emit(Event{Type: EventError, Room: j.Room,
				Err: &RecoveryError{Room: j.Room, Since: cl.since, LastSeq: j.LastSeq}})
		}
	default:
		c.trackRoom(j)
	}
}

// trackRoom starts tracking a room joined without since: events up to its
// last sequence are history, not news.
func (c *Client) trackRoom(j Joined) {
	c.setMembers(&j)
	if _, ok := c.rooms[j.Room]; !ok {
		c.rooms[j.Room] = &roomState{last: j.LastSeq}
	}
}

// fillGap asks for the events missing below a sequence that skipped ahead
// by re-joining the room with since; the replay's duplicates are dropped.
func (c *Client) fillGap(room string, rs *roomState) {
	if rs.filling {
		return
	}
	c.mu.Lock()
	conn := c.conn
	if conn == nil {
		c.mu.Unlock()
		return // the reconnect re-joins with since anyway
	}
	rs.filling = true
	since := rs.last
	room = strings.Clone(room) // it may be a view of the read buffer
	id := c.newID()
	c.pending[id] = &call{kind: callGapFill, room: room, since: since}
	c.mu.Unlock()
	_ = c.write(conn, encodeFrame(protocol.TypeJoin, id, protocol.JoinBody{Room: room, Since: &since}))
}

func serverError(e protocol.ErrorBody) *ServerError {
	return &ServerError{Code: e.Code, Message: e.Message, RetryAfter: time.Duration(e.RetryAfterMS) * time.Millisecond}
}
