package hub

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// maxClientID bounds the idempotency key a client may attach to a send.
const maxClientID = 64

// maxUserID bounds the user id a private message is addressed to.
const maxUserID = 128

func validClientID(id string) *protocol.Error {
	if len(id) > maxClientID {
		return protocol.Errorf(protocol.CodeInvalid, "client_id is longer than %d bytes", maxClientID)
	}
	return nil
}

// chat stores a message, acknowledges it to the sending connection and only
// then broadcasts it to the room, so that no one sees a message that could
// still be lost.
func (c *Client) chat(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.ChatBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	key, perr := c.roomKey(body.Room)
	if perr != nil {
		return perr
	}
	if err := protocol.ValidText(body.Text, c.hub.cfg.MaxMessageLength); err != nil {
		return err
	}
	if err := validClientID(body.ClientID); err != nil {
		return err
	}
	r := c.joined(key)
	if r == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %q before sending to it", key)
	}
	u := c.ident.User
	msg := store.NewMessage{Room: key, Sender: u.ID, SenderName: u.Name, Guest: u.Guest, ClientID: body.ClientID, Text: body.Text}
	c.appendThen(ctx, msg, func(ev store.Event, dup bool, err error) {
		if err != nil {
			c.SendError(env.ID, c.storeError("chat", key, err))
			return
		}
		c.reply(protocol.TypeAck, env.ID, protocol.AckBody{
			Room: key, MessageID: ev.Message.ID, Seq: ev.Seq, TS: protocol.FormatTime(ev.Message.CreatedAt), Duplicate: dup,
		})
		if dup {
			return
		}
		c.stopTyping(ctx, r)
		c.hub.publishRoom(ctx, key, kindStored, ev.Seq, c.id, encodeEvent(ev))
		c.hub.emitMessage(ev)
	})
	return nil
}

// maxInFlight bounds the durable writes one connection may have pending;
// past it the connection's reader waits, which slows the client down.
const maxInFlight = 64

// pipeline runs a durable write off the connection's reader, so that a
// client sending faster than one commit at a time has several messages in
// flight — they share the store's group commits instead of waiting one
// fsync each — and then finishes the writes (ack, broadcast) strictly in
// the order the client sent them. work runs concurrently with later frames;
// the finish func it returns runs after every earlier write's has.
// It is called only from the reader goroutine.
func (c *Client) pipeline(work func() (finish func())) {
	prev, done := c.enter(false)
	go func() {
		finish := work()
		if prev != nil {
			<-prev
		}
		finish()
		c.exit(done)
	}()
}

// enter gives a durable write its place in the connection's order: it
// waits for room in the window and returns the completion of the write
// before it (nil if none) and its own, which exit closes. async records
// whether the write's outcome comes from the store's completer (see
// appendThen). Reader goroutine only.
func (c *Client) enter(async bool) (prev, done chan struct{}) {
	c.inflight <- struct{}{}
	prev, done = c.tail, make(chan struct{})
	c.tail, c.tailAsync = done, async
	c.ops.Add(1)
	return prev, done
}

// exit ends a write that enter placed, once it has finished.
func (c *Client) exit(done chan struct{}) {
	close(done)
	<-c.inflight
	c.ops.Done()
}

// appendThen stores msg durably and then calls finish with the outcome, in
// the pipeline's order. When the store can report the outcome itself
// (store.AsyncAppender) no goroutine waits for the commit: finish runs on
// the store's completer with the rest of the batch, which saves each
// message a goroutine and its wake-up, the chief cost of a busy server's
// acks after every group commit. The store keeps one reader's appends in
// order, so this is used only while every earlier write still pending on
// the connection went the same way; after one that did not (a private
// message, which looks up its conversation first), the append waits its
// turn on a goroutine as pipeline does. finish must not block (it only
// queues frames and publishes).
func (c *Client) appendThen(ctx context.Context, msg store.NewMessage, finish func(store.Event, bool, error)) {
	as, ok := c.hub.store.(store.AsyncAppender)
	if !ok || !c.afterAsync() {
		c.pipeline(func() func() {
			ev, dup, err := c.append(ctx, msg)
			return func() { finish(ev, dup, err) }
		})
		return
	}
	_, done := c.enter(true) // the store keeps the order after an async one
	start := time.Now()
	as.AppendAsync(ctx, msg, func(ev store.Event, dup bool, err error) {
		c.hub.cfg.OnAppend(time.Since(start), err)
		finish(ev, dup, err)
		c.exit(done)
	})
}

// afterAsync reports whether every write pending on the connection has its
// outcome coming from the store's completer (or none is pending), so that
// the next one can too without overtaking any.
func (c *Client) afterAsync() bool {
	if c.tail == nil || c.tailAsync {
		return true
	}
	select {
	case <-c.tail:
		return true
	default:
		return false
	}
}

// append stores a message durably and reports the time it took.
func (c *Client) append(ctx context.Context, m store.NewMessage) (store.Event, bool, error) {
	start := time.Now()
	ev, dup, err := c.hub.store.Append(ctx, m)
	c.hub.cfg.OnAppend(time.Since(start), err)
	return ev, dup, err
}

// private stores a message in the two users' direct conversation and delivers
// it to every connection of both, but the sending one, which gets the ack.
func (c *Client) private(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.PrivateBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	to := strings.TrimSpace(body.To)
	switch {
	case to == "":
		return protocol.Errorf(protocol.CodeInvalid, "to is required")
	case len(to) > maxUserID || !utf8.ValidString(to):
		return protocol.Errorf(protocol.CodeInvalid, "to is not a valid user id")
	case to == c.ident.User.ID:
		return protocol.Errorf(protocol.CodeInvalid, "you cannot send a private message to yourself")
	}
	if err := protocol.ValidText(body.Text, c.hub.cfg.MaxMessageLength); err != nil {
		return err
	}
	if err := validClientID(body.ClientID); err != nil {
		return err
	}
	u := c.ident.User
	c.pipeline(func() func() {
		if perr := c.hub.recipient(ctx, to); perr != nil {
			return func() { c.SendError(env.ID, perr) }
		}
		dm, err := c.hub.store.EnsureDirect(ctx, u.ID, to)
		if err != nil {
			return func() { c.SendError(env.ID, c.storeError("private", store.DirectRoomName(u.ID, to), err)) }
		}
		ev, dup, err := c.append(ctx, store.NewMessage{
			Room: dm.Name, Sender: u.ID, SenderName: u.Name, Guest: u.Guest, ClientID: body.ClientID, Text: body.Text,
		})
		return func() {
			if err != nil {
				c.SendError(env.ID, c.storeError("private", dm.Name, err))
				return
			}
			c.reply(protocol.TypeAck, env.ID, protocol.AckBody{
				Room: dm.Name, MessageID: ev.Message.ID, Seq: ev.Seq, TS: protocol.FormatTime(ev.Message.CreatedAt), Duplicate: dup,
			})
			if !dup {
				c.hub.publishToRoom(ctx, dm.Name, u.ID, kindStored, ev.Seq, c.id, encodeEvent(ev))
				c.hub.emitMessage(ev)
			}
		}
	})
	return nil
}

// change edits, deletes or reacts to a message. The change is stored as an
// event with its own room sequence and broadcast to every member, the
// requesting connection included, which also gets an ack.
func (c *Client) change(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var (
		room, msgID string
		run         func(key string) (store.Event, error)
	)
	st := c.hub.store
	uid := c.ident.User.ID
	switch env.Type {
	case protocol.TypeEdit:
		var b protocol.EditBody
		if err := protocol.DecodeBody(env, &b); err != nil {
			return err
		}
		if err := protocol.ValidText(b.Text, c.hub.cfg.MaxMessageLength); err != nil {
			return err
		}
		room, msgID = b.Room, b.MessageID
		run = func(key string) (store.Event, error) { return st.Edit(ctx, key, msgID, uid, b.Text) }
	case protocol.TypeDelete:
		var b protocol.DeleteBody
		if err := protocol.DecodeBody(env, &b); err != nil {
			return err
		}
		room, msgID = b.Room, b.MessageID
		run = func(key string) (store.Event, error) {
			return st.Delete(ctx, key, msgID, uid, c.isModerator(ctx, key))
		}
	default:
		var b protocol.ReactBody
		if err := protocol.DecodeBody(env, &b); err != nil {
			return err
		}
		if b.Emoji == "" || utf8.RuneCountInString(b.Emoji) > 16 {
			return protocol.Errorf(protocol.CodeInvalid, "emoji must be 1 to 16 characters")
		}
		room, msgID = b.Room, b.MessageID
		run = func(key string) (store.Event, error) { return st.React(ctx, key, msgID, uid, b.Emoji, !b.Remove) }
	}
	if msgID == "" || len(msgID) > maxClientID {
		return protocol.Errorf(protocol.CodeInvalid, "message_id is required")
	}
	key, perr := c.roomKeyOrDirect(room)
	if perr != nil {
		return perr
	}
	if protocol.IsDirectRoom(key) {
		// Conversations are not joined; their two members may change them.
		if _, err := c.hub.store.Member(ctx, key, uid); err != nil {
			return protocol.Errorf(protocol.CodeForbidden, "not your conversation")
		}
	} else if c.joined(key) == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %q first", key)
	}
	ev, err := run(key)
	if err != nil {
		return c.storeError(env.Type, key, err)
	}
	seq := ev.Seq
	c.reply(protocol.TypeAck, env.ID, protocol.AckBody{Room: key, MessageID: msgID, Seq: seq, TS: protocol.FormatTime(ev.At)})
	if seq > 0 {
		c.hub.publishToRoom(ctx, key, uid, kindStored, seq, "", encodeEvent(ev))
		c.hub.emitMessage(ev)
	}
	return nil
}

// isModerator reports whether the user owns or administers the room.
func (c *Client) isModerator(ctx context.Context, key string) bool {
	if c.ident.Admin {
		return true
	}
	m, err := c.hub.store.Member(ctx, key, c.ident.User.ID)
	return err == nil && (m.Role == store.RoleOwner || m.Role == store.RoleAdmin)
}

// read moves the user's read marker and sends a receipt to the room.
func (c *Client) read(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.ReadBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	if body.Seq < 0 {
		return protocol.Errorf(protocol.CodeInvalid, "seq must be 0 or more")
	}
	key, perr := c.roomKeyOrDirect(body.Room)
	if perr != nil {
		return perr
	}
	if c.ident.User.Guest {
		return protocol.Errorf(protocol.CodeForbidden, "guests have no read markers")
	}
	seq, err := c.hub.store.MarkRead(ctx, key, c.ident.User.ID, body.Seq)
	if err != nil {
		return c.storeError("read", key, err)
	}
	receipt := protocol.ReadEvent{Room: key, User: c.ident.User, Seq: seq}
	c.reply(protocol.TypeRead, env.ID, receipt)
	if seq > body.Seq {
		return nil // the marker was already further on: nothing new to tell
	}
	c.hub.publishToRoom(ctx, key, c.ident.User.ID, kindEphemeral, 0, c.id, protocol.Encode(protocol.TypeRead, "", receipt))
	return nil
}

// roomKeyOrDirect accepts a room name or a direct conversation key.
func (c *Client) roomKeyOrDirect(name string) (string, *protocol.Error) {
	if protocol.IsDirectRoom(name) {
		if len(name) > 2*maxUserID+2 || !utf8.ValidString(name) {
			return "", protocol.Errorf(protocol.CodeInvalidRoom, "not a valid conversation")
		}
		return name, nil
	}
	return c.roomKey(name)
}

// history returns a page of a room's messages to a reader allowed to see it.
func (c *Client) history(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.HistoryBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	key, perr := c.roomKeyOrDirect(body.Room)
	if perr != nil {
		return perr
	}
	if body.Limit < 0 || body.Limit > 1000 || body.Before < 0 || (body.After != nil && *body.After < 0) {
		return protocol.Errorf(protocol.CodeInvalid, "limit must be 1 to 1000 and before/after 0 or more")
	}
	if perr := c.authoriseRead(ctx, key); perr != nil {
		return perr
	}
	q := store.HistoryQuery{Before: body.Before, Limit: body.Limit}
	if q.Limit == 0 {
		q.Limit = c.hub.cfg.HistoryLimit
	}
	if body.After != nil {
		q.After, q.Forward, q.Before = *body.After, true, 0
	}
	msgs, err := c.hub.store.History(ctx, key, q)
	if err != nil {
		return c.storeError("history", key, err)
	}
	reply := protocol.HistoryReply{Room: key, Messages: make([]protocol.MessageBody, 0, len(msgs))}
	for _, m := range msgs {
		reply.Messages = append(reply.Messages, MessageBody(m))
	}
	c.reply(protocol.TypeHistory, env.ID, reply)
	return nil
}

// authoriseRead allows public rooms to anyone their token permits and
// private rooms and conversations to members.
func (c *Client) authoriseRead(ctx context.Context, key string) *protocol.Error {
	if c.allowed != nil && !protocol.IsDirectRoom(key) && !c.allowed[key] {
		return protocol.Errorf(protocol.CodeForbidden, "your token does not allow room %q", key)
	}
	info, err := c.hub.store.Room(ctx, key)
	if err != nil {
		return c.storeError("history", key, err)
	}
	if !info.Private || c.ident.Admin {
		return nil
	}
	if _, err := c.hub.store.Member(ctx, key, c.ident.User.ID); err != nil {
		return protocol.Errorf(protocol.CodeForbidden, "room %q is private", key)
	}
	return nil
}
