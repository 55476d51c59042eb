package hub

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// SystemUserID is the sender id of messages an application posts as itself
// (protocol.SystemUserID).
const SystemUserID = protocol.SystemUserID

// guestPrefix starts every guest's user id (auth.GuestIDPrefix).
const guestPrefix = "guest:"

// noticeSubject carries notices for everyone connected to any node.
const noticeSubject = "notice"

// Post stores a message in a room — the same durable append, sequence,
// idempotency by client id and message frame as a chat frame from the
// WebSocket — and then broadcasts it to the room. It is how the server API
// posts. msg.Room must be a normalised room key; a room that does not
// exist is store.ErrNotFound. dup reports a repeated client id: nothing new
// was stored and nothing is broadcast.
func (h *Hub) Post(ctx context.Context, msg store.NewMessage) (ev store.Event, dup bool, err error) {
	start := time.Now()
	ev, dup, err = h.store.Append(ctx, msg)
	h.cfg.OnAppend(time.Since(start), err)
	if err == nil && !dup {
		h.publishRoom(ctx, msg.Room, kindStored, ev.Seq, "", encodeEvent(ev))
		h.emitMessage(ev)
	}
	return ev, dup, err
}

// Posted is the outcome of one message of PostBatch.
type Posted struct {
	Event store.Event
	Dup   bool
	Err   error
}

// PostBatch posts several messages as Post would, sharing the store's
// commits: they are stored in the order given (so messages for one room
// take increasing sequences in that order) and each is broadcast once
// stored. It returns one outcome per message, in the same order.
func (h *Hub) PostBatch(ctx context.Context, msgs []store.NewMessage) []Posted {
	out := make([]Posted, len(msgs))
	as, ok := h.store.(store.AsyncAppender)
	if !ok {
		for i, m := range msgs {
			out[i].Event, out[i].Dup, out[i].Err = h.Post(ctx, m)
		}
		return out
	}
	done := make(chan struct{}, len(msgs))
	start := time.Now()
	for i, m := range msgs {
		// The store answers one goroutine's appends in the order queued.
		as.AppendAsync(ctx, m, func(ev store.Event, dup bool, err error) {
			h.cfg.OnAppend(time.Since(start), err)
			out[i] = Posted{Event: ev, Dup: dup, Err: err}
			done <- struct{}{}
		})
	}
	for range msgs {
		<-done
	}
	for i, p := range out {
		if p.Err == nil && !p.Dup {
			h.publishRoom(ctx, msgs[i].Room, kindStored, p.Event.Seq, "", encodeEvent(p.Event))
			h.emitMessage(p.Event)
		}
	}
	return out
}

// PostPrivate stores a private message from one user (or SystemUserID) to
// another in their conversation, created on first use, and delivers it to
// every connection of both, as a private frame from the WebSocket would be.
// The recipient must exist (see recipient); a missing one is a
// *protocol.Error with code not_found, and nothing is stored.
func (h *Hub) PostPrivate(ctx context.Context, from protocol.User, to, text, clientID string) (store.Event, bool, error) {
	if perr := h.recipient(ctx, to); perr != nil {
		return store.Event{}, false, perr
	}
	dm, err := h.store.EnsureDirect(ctx, from.ID, to)
	if err != nil {
		return store.Event{}, false, err
	}
	start := time.Now()
	ev, dup, err := h.store.Append(ctx, store.NewMessage{
		Room: dm.Name, Sender: from.ID, SenderName: from.Name, Guest: from.Guest, ClientID: clientID, Text: text,
	})
	h.cfg.OnAppend(time.Since(start), err)
	if err == nil && !dup {
		h.publishToRoom(ctx, dm.Name, from.ID, kindStored, ev.Seq, "", encodeEvent(ev))
		h.emitMessage(ev)
	}
	return ev, dup, err
}

// Notice sends a system frame with text to every connection in room, or to
// every connection of every node when room is "". Notices are not stored:
// whoever is not connected does not get them.
func (h *Hub) Notice(ctx context.Context, room, text string) error {
	frame := protocol.Encode(protocol.TypeSystem, "", protocol.SystemBody{Room: room, Text: text})
	subject := noticeSubject
	if room != "" {
		subject = roomSubject(room)
	}
	return h.publish(ctx, subject, packEvent(kindEphemeral, 0, "", frame))
}

// deliverNotice hands a notice for everyone to every local connection.
func (h *Hub) deliverNotice(data []byte) {
	_, _, _, frame, err := unpackEvent(data)
	if err != nil {
		h.log.Warn("dropping malformed notice", "err", err)
		return
	}
	for i := range h.users {
		s := &h.users[i]
		s.mu.Lock()
		for _, u := range s.users {
			for c := range u.clients {
				c.out.Send(frame)
			}
		}
		s.mu.Unlock()
	}
}

// recipient checks that a private message to id can reach someone: an
// account, a user of an integrating app's tokens who has signed in, or a
// guest connected now (guests have no account to come back to the message
// in, and a guest id names one visit). Anything else — a username given
// instead of an id, a typo — is not_found, and nothing is stored.
func (h *Hub) recipient(ctx context.Context, id string) *protocol.Error {
	if strings.HasPrefix(id, guestPrefix) {
		if h.Online(id) > 0 {
			return nil
		}
		return protocol.Errorf(protocol.CodeNotFound, "the guest %q is not connected; guests get private messages only while connected", id)
	}
	_, err := h.store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		_, err = h.store.ExternalUser(ctx, id)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return protocol.Errorf(protocol.CodeNotFound,
			"no user has the id %q; to write to someone by name, look their id up with GET /api/v1/users/{username}", id)
	}
	h.log.Error("store call failed", "op", "recipient", "user", id, "err", err)
	return protocol.Errorf(protocol.CodeUnavailable, "the recipient could not be checked; retry later")
}

// publishToRoom sends an event to a room's members, or for a direct
// conversation to every connection of its two users; sender is one of them.
func (h *Hub) publishToRoom(ctx context.Context, key, sender string, kind byte, seq int64, exclude string, frame []byte) {
	if !protocol.IsDirectRoom(key) {
		h.publishRoom(ctx, key, kind, seq, exclude, frame)
		return
	}
	data := packEvent(kindEphemeral, 0, exclude, frame)
	for _, uid := range []string{sender, store.DirectPeer(key, sender)} {
		if uid == "" {
			continue
		}
		if err := h.publish(ctx, userSubject(uid), data); err != nil {
			h.log.Warn("publishing to a conversation", "room", key, "user", uid, "err", err)
		}
	}
}

// DeleteMessage deletes a message as the WebSocket's delete frame does —
// actor's own, or anyone's when moderator is true — and broadcasts the
// update. It is how the HTTP API deletes.
func (h *Hub) DeleteMessage(ctx context.Context, key, messageID, actor string, moderator bool) (store.Event, error) {
	ev, err := h.store.Delete(ctx, key, messageID, actor, moderator)
	if err == nil && ev.Seq > 0 {
		h.publishToRoom(ctx, key, actor, kindStored, ev.Seq, "", encodeEvent(ev))
		h.emitMessage(ev)
	}
	return ev, err
}
