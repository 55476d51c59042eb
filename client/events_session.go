package client

import (
	"encoding/json"

	"github.com/parley-chat/parley/internal/protocol"
)

// handleSession routes the server frames about the session rather than a
// room's traffic: unread counts, room changes, removals and notifications.
// Like the rest of handleFrame it runs on the reader goroutine; frames it
// does not know are ignored, as the protocol asks.
func (c *Client) handleSession(env envelope) {
	switch env.Type {
	case protocol.TypeUnread:
		var u Unread
		if json.Unmarshal(env.Body, &u) == nil {
			c.setUnread(&u)
			c.emit(Event{Type: EventUnread, Unread: &u})
		}
	case protocol.TypeRoom:
		var r RoomChange
		if json.Unmarshal(env.Body, &r) == nil {
			c.emit(Event{Type: EventRoom, Room: r.Room, RoomChange: &r})
		}
	case protocol.TypeLeft:
		// Without an id: an owner or admin took the user out of the room.
		// It is not re-joined on reconnect, which a private room would
		// refuse anyway.
		var b protocol.RoomBody
		if json.Unmarshal(env.Body, &b) == nil {
			c.forgetRoom(b.Room)
			c.emit(Event{Type: EventLeft, Room: b.Room})
		}
	case protocol.TypeNotification:
		var n Notification
		if json.Unmarshal(env.Body, &n) == nil {
			c.emit(Event{Type: EventNotification, Notification: &n})
		}
	case protocol.TypeNotifications:
		var p NotificationsPage
		if json.Unmarshal(env.Body, &p) == nil {
			c.emit(Event{Type: EventNotifications, Notifications: &p})
		}
	case protocol.TypeNotificationsRead:
		var r NotificationsRead
		if json.Unmarshal(env.Body, &r) == nil {
			c.emit(Event{Type: EventNotificationsRead, NotificationsRead: &r})
		}
	}
}
