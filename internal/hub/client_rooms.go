package hub

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

func now() time.Time { return time.Now() }

// join adds the connection to a room. The order of what the client receives
// is fixed: the joined reply, then (with since) the recovered events, then
// live traffic, with nothing lost or repeated between the last two.
func (c *Client) join(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.JoinBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	key, perr := c.roomKey(body.Room)
	if perr != nil {
		return perr
	}
	if body.Since != nil && *body.Since < 0 {
		return protocol.Errorf(protocol.CodeInvalid, "since must be 0 or more")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	if _, ok := c.rooms[key]; ok {
		c.mu.Unlock()
		return c.rejoin(ctx, env.ID, key, body.Since)
	}
	if len(c.rooms) >= c.hub.cfg.MaxRoomsPerConn {
		c.mu.Unlock()
		return protocol.Errorf(protocol.CodeTooManyRooms, "a connection may join at most %d rooms", c.hub.cfg.MaxRoomsPerConn)
	}
	c.mu.Unlock()

	info, perr := c.authoriseJoin(ctx, key)
	if perr != nil {
		return perr
	}
	r, err := c.hub.acquireRoom(ctx, key)
	if err != nil {
		return c.storeError("join", key, err)
	}

	m := &membership{holding: true}
	r.mu.Lock()
	// What this connection will get live is exactly what the room delivers
	// from now on, so the room's delivered sequence, read under the same
	// lock, is the join's last_seq: a message stored while the join was
	// being authorised is either at or below it (history, recovery) or
	// above it (held, then live). It is never missed.
	lastSeq := r.delivered
	r.members[c] = m
	p, first := r.users.add(c.ident.User)
	p.conns++
	members, count := r.memberListLocked(c.hub.cfg.MaxJoinedMembers), r.users.len()
	busy := len(r.members) > c.hub.cfg.PresenceBatchAbove
	r.mu.Unlock()
	announce := first
	if c.hub.cluster != nil {
		// The cluster decides whether the join is news, and who is in
		// the room through any node. Read after this connection was
		// added: anyone who joins later is in the list or in a held
		// presence event, possibly both (clients take a join for a
		// member as no change).
		if first {
			announce = c.hub.joinedCluster(key, c.ident.User)
		}
		if busy {
			// Its presence comes gathered, and so does its roster.
			members, count = c.hub.busyRoster(r)
		} else {
			members, count = c.hub.clusterRoster(key)
		}
	}

	c.mu.Lock()
	if c.closed {
		// The connection ended while joining; undo.
		c.mu.Unlock()
		c.leaveRoom(ctx, r)
		return nil
	}
	c.rooms[key] = r
	c.mu.Unlock()

	joined := protocol.JoinedBody{Room: key, Private: info.Private, Topic: info.Topic, LastSeq: lastSeq,
		Members: members, MemberCount: count, Locked: info.Locked, Archived: info.Archived}
	rp, perr := c.recover(ctx, key, body.Since, lastSeq)
	if perr != nil {
		c.mu.Lock()
		delete(c.rooms, key)
		c.mu.Unlock()
		c.leaveRoom(ctx, r)
		return perr
	}
	if body.Since != nil {
		joined.Recovered = &rp.complete
		joined.Replayed = len(rp.frames)
	}
	if announce {
		// Announce before replying, so that anyone who joins after this
		// client has seen its reply finds it in the member list and gets
		// no late presence event for it.
		c.hub.publishRoom(ctx, key, kindPresence, 0, c.id, protocol.Encode(protocol.TypePresence, "",
			protocol.PresenceBody{Room: key, User: c.ident.User, Event: "join"}))
	}
	c.reply(protocol.TypeJoined, env.ID, joined)
	for _, f := range rp.frames {
		c.out.Send(f)
	}
	c.release(r, m, rp.upTo)
	return nil
}

// rejoin answers a join for a room the connection is already in: the reply
// again, and a replay when since is given (duplicates are possible there and
// clients drop them by sequence).
func (c *Client) rejoin(ctx context.Context, id, key string, since *int64) *protocol.Error {
	info, err := c.hub.store.Room(ctx, key)
	if err != nil {
		return c.storeError("join", key, err)
	}
	r := c.joined(key)
	if r == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "left %q while re-joining", key)
	}
	r.mu.Lock()
	members, count := r.memberListLocked(c.hub.cfg.MaxJoinedMembers), r.users.len()
	r.mu.Unlock()
	if c.hub.cluster != nil {
		members, count = c.hub.clusterRoster(key)
	}
	rp, perr := c.recover(ctx, key, since, info.LastSeq)
	if perr != nil {
		return perr
	}
	joined := protocol.JoinedBody{Room: key, Private: info.Private, Topic: info.Topic, LastSeq: info.LastSeq,
		Members: members, MemberCount: count, Locked: info.Locked, Archived: info.Archived}
	if since != nil {
		joined.Recovered = &rp.complete
		joined.Replayed = len(rp.frames)
	}
	c.reply(protocol.TypeJoined, id, joined)
	for _, f := range rp.frames {
		c.out.Send(f)
	}
	return nil
}

// replay is what a join sends after its reply: the missed events, encoded,
// oldest first. complete says they are every event after since; when false
// frames is empty and the client pages history instead.
type replay struct {
	frames   [][]byte
	upTo     int64 // the sequence of the last frame; 0 when none
	complete bool
}

// recover reads the events after since up to lastSeq, in pages of what one
// store read returns, or reports that recovery is incomplete: the gap is
// larger than the recovery window, or its events would take more than
// MaxReplayBytes of the connection's send queue (sent anyway, they would cut
// the client off as too slow, and again at every re-join).
func (c *Client) recover(ctx context.Context, key string, since *int64, lastSeq int64) (replay, *protocol.Error) {
	if since == nil || *since >= lastSeq {
		return replay{complete: true}, nil
	}
	if lastSeq-*since > int64(c.hub.cfg.RecoveryWindow) {
		return replay{}, nil
	}
	var rp replay
	size := 0
	for after := *since; after < lastSeq; {
		// Events after lastSeq reach the connection live; read only up to it.
		events, err := c.hub.store.Events(ctx, key, after, int(min(lastSeq-after, store.MaxLimit)))
		if err != nil {
			return replay{}, c.storeError("recover", key, err)
		}
		if len(events) == 0 {
			return replay{}, nil // the log ends before lastSeq: say so, never claim it all
		}
		for _, ev := range events {
			if ev.Seq > lastSeq {
				break
			}
			f := encodeEvent(ev)
			if size += len(f); size > c.hub.cfg.MaxReplayBytes {
				return replay{}, nil
			}
			rp.frames = append(rp.frames, f)
			rp.upTo = ev.Seq
		}
		after = events[len(events)-1].Seq
	}
	rp.complete = true
	return rp, nil
}

// release ends a membership's holding period: held live events the replay
// did not already carry go out, and later ones flow directly.
func (c *Client) release(r *room, m *membership, replayedUpTo int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range m.held {
		if ev.seq == 0 || ev.seq > replayedUpTo {
			c.out.Send(ev.frame)
		}
	}
	m.held = nil
	m.holding = false
	m.skipUpTo = replayedUpTo
}

// authoriseJoin decides whether this user may join key, creating a public
// room on first join and recording account holders as members so that their
// unread counts follow the room.
func (c *Client) authoriseJoin(ctx context.Context, key string) (store.Room, *protocol.Error) {
	st := c.hub.store
	if c.allowed != nil && !c.allowed[key] {
		return store.Room{}, protocol.Errorf(protocol.CodeForbidden, "your token does not allow room %q", key)
	}
	uid := c.ident.User.ID
	info, err := st.Room(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		if perr := c.hub.MayCreateRoom(ctx, Creator{UserID: uid, Guest: c.ident.User.Guest, Admin: c.ident.Admin}, key); perr != nil {
			return store.Room{}, perr
		}
		info, err = st.CreateRoom(ctx, store.Room{Name: key, Kind: store.KindRoom, Owner: uid})
		created := err == nil
		if errors.Is(err, store.ErrConflict) {
			info, err = st.Room(ctx, key) // created by someone else meanwhile
		}
		if err != nil {
			return store.Room{}, c.storeError("join", key, err)
		}
		if created {
			c.hub.emit(event.MemberJoined, func() any {
				return event.Member{Room: key, User: uid, Role: string(store.RoleOwner), By: uid}
			})
		}
		return info, nil
	}
	if err != nil {
		return store.Room{}, c.storeError("join", key, err)
	}
	if c.ident.Admin {
		return info, nil
	}
	if perr := c.checkBan(ctx, key); perr != nil {
		return store.Room{}, perr
	}
	_, err = st.Member(ctx, key, uid)
	switch {
	case err == nil:
		return info, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Room{}, c.storeError("join", key, err)
	case info.Private:
		return store.Room{}, protocol.Errorf(protocol.CodeForbidden, "room %q is private; ask an owner to invite you", key)
	case c.ident.User.Guest:
		return info, nil
	}
	if err := st.AddMember(ctx, key, uid, store.RoleMember); err != nil {
		return store.Room{}, c.storeError("join", key, err)
	}
	c.hub.emit(event.MemberJoined, func() any {
		return event.Member{Room: key, User: uid, Role: string(store.RoleMember), By: uid}
	})
	return info, nil
}

// leave removes the connection from a room on request.
func (c *Client) leave(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.RoomBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	key, perr := c.roomKey(body.Room)
	if perr != nil {
		return perr
	}
	c.mu.Lock()
	r := c.rooms[key]
	delete(c.rooms, key)
	c.mu.Unlock()
	if r == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "not in room %q", key)
	}
	c.leaveRoom(ctx, r)
	c.reply(protocol.TypeLeft, env.ID, protocol.RoomBody{Room: key})
	return nil
}

// leaveRoom drops the connection from r and announces the user's departure
// when it was their last connection in the room.
func (c *Client) leaveRoom(ctx context.Context, r *room) {
	uid := c.ident.User.ID
	r.mu.Lock()
	_, was := r.members[c]
	delete(r.members, c)
	last := false
	stoppedTyping := false
	if p := r.users.get(uid); was && p != nil {
		p.conns--
		if p.conns == 0 {
			r.users.remove(uid)
			last = true
			if t, ok := r.typing[uid]; ok {
				t.Stop()
				delete(r.typing, uid)
				stoppedTyping = true
			}
		}
	}
	r.mu.Unlock()
	announce := last
	if c.hub.cluster != nil {
		announce = last && c.hub.leaveRecorded() && c.hub.leftCluster(r.key, uid)
	}
	if stoppedTyping {
		c.hub.publishRoom(ctx, r.key, kindEphemeral, 0, c.id, protocol.Encode(protocol.TypeTyping, "",
			protocol.TypingEvent{Room: r.key, User: c.ident.User, State: "stop"}))
	}
	if announce {
		c.hub.publishRoom(ctx, r.key, kindPresence, 0, c.id, protocol.Encode(protocol.TypePresence, "",
			protocol.PresenceBody{Room: r.key, User: c.ident.User, Event: "leave"}))
	}
	if was {
		c.hub.releaseRoom(r)
	}
}

// removedFrom takes the connection out of a room whose membership was
// revoked and tells the client with a left frame (no id: not a reply).
func (c *Client) removedFrom(key string) {
	c.mu.Lock()
	r := c.rooms[key]
	delete(c.rooms, key)
	c.mu.Unlock()
	if r == nil {
		return
	}
	c.leaveRoom(context.Background(), r)
	c.reply(protocol.TypeLeft, "", protocol.RoomBody{Room: key})
}
