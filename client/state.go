package client

import (
	"cmp"
	"slices"
	"strings"
)

// The client keeps two pieces of session state for its user, read from any
// goroutine and written by the reader goroutine under stateMu: the unread
// counts of every room and conversation, and the members connected to each
// joined room. Both are rebuilt from the server on every (re)connect.

// Unread returns the unread state of every room and conversation the user
// is a member of, sorted by room key: the server's unread frame of the
// current connection (account holders only; nil for guests, and until the
// frame has come), kept current since from the events this client
// receives. A message or private message from someone else adds one;
// MarkRead, or a read marker the user moved on another device, resets the
// count once the marker reaches the newest known sequence. A room the
// user became a member of after connecting appears with its first
// message. The counts are exact again after every reconnect.
func (c *Client) Unread() []UnreadRoom {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if c.unread == nil {
		return nil
	}
	out := make([]UnreadRoom, 0, len(c.unread))
	for _, u := range c.unread {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b UnreadRoom) int { return strings.Compare(a.Room, b.Room) })
	return out
}

// Members returns the users connected to a joined room, sorted by id: the
// members of the last joined reply (from Join or a re-join after a
// reconnect), kept current from presence events. A user with several
// connections is there once. Nil for a room not joined.
func (c *Client) Members(room string) []User {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	m, ok := c.members[room]
	if !ok {
		return nil
	}
	out := make([]User, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// setUnread replaces the unread state with the server's.
func (c *Client) setUnread(u *Unread) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.unread = make(map[string]*UnreadRoom, len(u.Rooms))
	for _, r := range u.Rooms {
		c.unread[r.Room] = &r
	}
	c.countUnread = true
}

// countMessage counts a new message or private message into the unread
// state. m may be a view of the read buffer (see handleHot): a new entry
// gets a copy of the room key. Messages at or below the newest sequence
// already known are not counted, so a replay that repeats some counts
// each once.
func (c *Client) countMessage(m *Message, direct bool) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	u := c.unread[m.Room]
	if u == nil {
		u = &UnreadRoom{Room: strings.Clone(m.Room), Direct: direct}
		c.unread[u.Room] = u
	}
	if m.Seq <= u.LastSeq {
		return
	}
	u.LastSeq = m.Seq
	if m.From.ID != c.self && m.Seq > u.ReadSeq {
		u.Unread++
	}
}

// countSeq records a room's newer sequence (an update) without counting
// it as unread.
func (c *Client) countSeq(room string, seq int64) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if u := c.unread[room]; u != nil && seq > u.LastSeq {
		u.LastSeq = seq
	}
}

// applyRead moves the user's own read marker in the unread state.
func (c *Client) applyRead(r *Read) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	u := c.unread[r.Room]
	if u == nil {
		return
	}
	if r.Seq > u.ReadSeq {
		u.ReadSeq = r.Seq
	}
	if u.ReadSeq >= u.LastSeq {
		u.Unread = 0
	}
}

// setMembers replaces a room's members with those of a joined reply.
func (c *Client) setMembers(j *Joined) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	m := make(map[string]User, len(j.Members))
	for _, u := range j.Members {
		m[u.ID] = u
	}
	c.members[j.Room] = m
}

// applyPresence adds or removes a member.
func (c *Client) applyPresence(p *Presence) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	m, ok := c.members[p.Room]
	if !ok {
		return
	}
	if p.Event == "leave" {
		delete(m, p.User.ID)
	} else {
		m[p.User.ID] = p.User
	}
}

// forgetRoom drops a room the connection is no longer in.
func (c *Client) forgetRoom(room string) {
	delete(c.rooms, room)
	c.stateMu.Lock()
	delete(c.members, room)
	c.stateMu.Unlock()
}
