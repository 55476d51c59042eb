package hub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"

	"github.com/parley-chat/parley/internal/notify"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// notifySubject carries live notifications to every node: one event per
// notification, naming its recipients, so that a notification to 10,000
// users is one publish, not 10,000.
const notifySubject = "notify"

// welcomeNotifications is how many unread notifications a connection gets
// after its welcome; the rest it pages with a notifications frame.
const welcomeNotifications = 50

// NotificationFrame is the wire form of a stored notification.
func NotificationFrame(n store.Notification, read bool) protocol.Notification {
	out := protocol.Notification{ID: n.ID, Topic: n.Topic, Title: n.Title, Body: n.Body, Link: n.Link,
		TS: protocol.FormatTime(n.CreatedAt), Read: read}
	if n.Data != "" {
		out.Data = json.RawMessage(n.Data)
	}
	return out
}

// Notify pushes a stored notification, live, to every connection of its
// recipients on every node. Recipients not connected find it on their next
// connection (see sendNotifications).
func (h *Hub) Notify(ctx context.Context, n store.Notification, recipients []string) {
	frame := protocol.Encode(protocol.TypeNotification, "", NotificationFrame(n, false))
	if err := h.publish(ctx, notifySubject, packNotify(frame, recipients)); err != nil {
		h.log.Warn("publishing a notification", "notification", n.ID, "recipients", len(recipients), "err", err)
	}
}

// NotificationsRead tells every connection of userID but the one with id
// except (none when "") that notifications were marked read, so that
// every device shows the same unread state.
func (h *Hub) NotificationsRead(ctx context.Context, userID, except string, body protocol.NotificationsReadBody) {
	frame := protocol.Encode(protocol.TypeNotificationsRead, "", body)
	if err := h.publish(ctx, userSubject(userID), packEvent(kindEphemeral, 0, except, frame)); err != nil {
		h.log.Warn("publishing notifications read", "user", userID, "err", err)
	}
}

// packNotify is a notify event: the frame's length (4 bytes, big endian),
// the frame, then the recipients' ids, one a line (ids hold no newline).
func packNotify(frame []byte, recipients []string) []byte {
	ids := strings.Join(recipients, "\n")
	b := make([]byte, 4+len(frame)+len(ids))
	binary.BigEndian.PutUint32(b, uint32(len(frame)))
	copy(b[4:], frame)
	copy(b[4+len(frame):], ids)
	return b
}

// deliverNotification hands a notify event's frame to the local
// connections of its recipients.
func (h *Hub) deliverNotification(data []byte) {
	if len(data) < 4 || int(binary.BigEndian.Uint32(data)) > len(data)-4 {
		h.log.Warn("dropping a malformed notification event")
		return
	}
	n := int(binary.BigEndian.Uint32(data))
	frame, ids := data[4:4+n], string(data[4+n:])
	for uid := range strings.SplitSeq(ids, "\n") {
		s := &h.users[h.shard(uid)]
		s.mu.Lock()
		if u := s.users[uid]; u != nil {
			for c := range u.clients {
				c.out.Send(frame)
			}
		}
		s.mu.Unlock()
	}
}

// sendNotifications tells a new connection of its user's unread
// notifications, the newest welcomeNotifications of them, when there are
// any.
func (c *Client) sendNotifications(ctx context.Context) {
	uid := c.ident.User.ID
	list, err := c.hub.store.Notifications(ctx, uid, store.NotificationQuery{Unread: true, Limit: welcomeNotifications})
	if err != nil {
		c.hub.log.Warn("reading unread notifications", "user", uid, "err", err)
		return
	}
	if len(list) == 0 {
		return
	}
	unread := len(list)
	if unread == welcomeNotifications {
		if unread, err = c.hub.store.UnreadNotifications(ctx, uid); err != nil {
			c.hub.log.Warn("counting unread notifications", "user", uid, "err", err)
			return
		}
	}
	c.reply(protocol.TypeNotifications, "", notificationsReply(list, unread))
}

func notificationsReply(list []store.UserNotification, unread int) protocol.NotificationsReply {
	out := protocol.NotificationsReply{Notifications: make([]protocol.Notification, 0, len(list)), Unread: unread}
	for _, un := range list {
		out.Notifications = append(out.Notifications, NotificationFrame(un.Notification, !un.ReadAt.IsZero()))
	}
	return out
}

// noGuests refuses what needs a stored identity.
func (c *Client) noGuests(what string) *protocol.Error {
	if c.ident.User.Guest {
		return protocol.Errorf(protocol.CodeForbidden, "guests cannot %s; sign in", what)
	}
	return nil
}

// subscribe starts or ends a subscription to notifications.
func (c *Client) subscribe(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.SubscribeBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	if perr := c.noGuests("subscribe to notifications"); perr != nil {
		return perr
	}
	if err := notify.CheckPattern(body.Topic); err != nil {
		return protocol.Errorf(protocol.CodeInvalid, "%s", err)
	}
	uid := c.ident.User.ID
	reply := protocol.TypeSubscribed
	var err error
	if env.Type == protocol.TypeSubscribe {
		err = c.hub.store.Subscribe(ctx, uid, body.Topic)
	} else {
		reply = protocol.TypeUnsubscribed
		err = c.hub.store.Unsubscribe(ctx, uid, body.Topic)
	}
	if err != nil {
		return c.storeError(env.Type, body.Topic, err)
	}
	c.reply(reply, env.ID, body)
	return nil
}

// notifications answers with a page of the user's notifications.
func (c *Client) notifications(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.NotificationsBody
	if len(env.Body) > 0 {
		if err := protocol.DecodeBody(env, &body); err != nil {
			return err
		}
	}
	if perr := c.noGuests("have notifications"); perr != nil {
		return perr
	}
	if body.Limit < 0 || body.Limit > store.MaxLimit {
		return protocol.Errorf(protocol.CodeInvalid, "limit must be 1 to %d", store.MaxLimit)
	}
	if body.Limit == 0 {
		body.Limit = welcomeNotifications
	}
	uid := c.ident.User.ID
	list, err := c.hub.store.Notifications(ctx, uid, store.NotificationQuery{Before: body.Before, Unread: body.Unread, Limit: body.Limit})
	if err != nil {
		return c.storeError("notifications", "", err)
	}
	unread, err := c.hub.store.UnreadNotifications(ctx, uid)
	if err != nil {
		return c.storeError("notifications", "", err)
	}
	c.reply(protocol.TypeNotifications, env.ID, notificationsReply(list, unread))
	return nil
}

// notificationsRead marks notifications read and tells the user's other
// connections.
func (c *Client) notificationsRead(ctx context.Context, env protocol.Envelope) *protocol.Error {
	var body protocol.NotificationsReadBody
	if err := protocol.DecodeBody(env, &body); err != nil {
		return err
	}
	if perr := c.noGuests("have notifications"); perr != nil {
		return perr
	}
	if (!body.All && len(body.IDs) == 0) || len(body.IDs) > store.MaxLimit {
		return protocol.Errorf(protocol.CodeInvalid, "give ids (1 to %d) or all", store.MaxLimit)
	}
	uid := c.ident.User.ID
	if _, err := c.hub.store.MarkNotificationsRead(ctx, uid, body.IDs, body.All); err != nil {
		return c.storeError("notifications_read", "", err)
	}
	unread, err := c.hub.store.UnreadNotifications(ctx, uid)
	if err != nil {
		return c.storeError("notifications_read", "", err)
	}
	out := protocol.NotificationsReadBody{IDs: body.IDs, All: body.All, Unread: &unread}
	c.reply(protocol.TypeNotificationsRead, env.ID, out)
	c.hub.NotificationsRead(ctx, uid, c.id, out)
	return nil
}
