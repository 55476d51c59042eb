package hub

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// typing starts or stops the user's typing indicator in a room. Indicators
// are ephemeral: never stored, sent only on a change of state, and expired by
// the server after TypingTimeout so that a typer who vanishes stops typing.
func (c *Client) typing(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.TypingBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	if body.State != "start" && body.State != "stop" {
		return protocol.Errorf(protocol.CodeInvalid, `state must be "start" or "stop"`)
	}
	key, perr := c.roomKey(body.Room)
	if perr != nil {
		return perr
	}
	r := c.joined(key)
	if r == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %q first", key)
	}
	if body.State == "start" && c.mayPost(ctx, r) != nil {
		return nil // one who may not post is not typing either
	}
	uid := c.ident.User.ID
	changed := false
	r.mu.Lock()
	t, typing := r.typing[uid]
	switch {
	case body.State == "start" && typing:
		t.Reset(c.hub.cfg.TypingTimeout)
	case body.State == "start" && !r.stopped:
		user := c.ident.User
		r.typing[uid] = time.AfterFunc(c.hub.cfg.TypingTimeout, func() { c.hub.expireTyping(r, user) })
		changed = true
	case body.State == "stop" && typing:
		t.Stop()
		delete(r.typing, uid)
		changed = true
	}
	r.mu.Unlock()
	if changed {
		c.hub.publishRoom(ctx, key, kindEphemeral, 0, c.id, protocol.Encode(protocol.TypeTyping, "",
			protocol.TypingEvent{Room: key, User: c.ident.User, State: body.State}))
	}
	return nil
}

// expireTyping ends an indicator whose typer went quiet.
func (h *Hub) expireTyping(r *room, user protocol.User) {
	r.mu.Lock()
	_, ok := r.typing[user.ID]
	delete(r.typing, user.ID)
	r.mu.Unlock()
	if ok {
		h.publishRoom(context.Background(), r.key, kindEphemeral, 0, "", protocol.Encode(protocol.TypeTyping, "",
			protocol.TypingEvent{Room: r.key, User: user, State: "stop"}))
	}
}

// stopTyping clears the sender's indicator when their message goes
// out; other members stop showing it when the message arrives, and a stop
// frame follows for clients that track typing on its own.
func (c *Client) stopTyping(ctx context.Context, r *room) {
	uid := c.ident.User.ID
	r.mu.Lock()
	t, ok := r.typing[uid]
	if ok {
		t.Stop()
		delete(r.typing, uid)
	}
	r.mu.Unlock()
	if ok {
		c.hub.publishRoom(ctx, r.key, kindEphemeral, 0, c.id, protocol.Encode(protocol.TypeTyping, "",
			protocol.TypingEvent{Room: r.key, User: c.ident.User, State: "stop"}))
	}
}
