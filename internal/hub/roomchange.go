package hub

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// userExclude starts an event's exclude field when it names a user, all of
// whose connections are left out, rather than one connection (whose ids
// never start with it).
const userExclude = "u:"

// RoomChange is a change to a room made outside the WebSocket (the HTTP
// API): a member added, removed or given another role, or the room's topic
// or privacy changed.
type RoomChange struct {
	Room  store.Room // the room as it now is
	Event string     // protocol.RoomAdded, RoomRemoved, RoomRole or RoomUpdated
	User  string     // the member concerned; "" for RoomUpdated
	Role  store.Role // the member's role now, for RoomAdded and RoomRole
	By    string     // who made it: a user id, or protocol.SystemUserID
	// Reason and Until, for a ban or a mute: the moderator's reason and
	// when it ends (zero: until lifted).
	Reason string
	Until  time.Time
}

// RoomChanged tells of ch with a room frame: every connection in the room,
// on every node, and every connection of the member concerned, joined to
// the room or not — so that an invited user sees the room appear without
// reconnecting. No connection gets it twice. The frame is not stored.
func (h *Hub) RoomChanged(ctx context.Context, ch RoomChange) {
	until := ""
	if !ch.Until.IsZero() {
		until = protocol.FormatTime(ch.Until)
	}
	frame := protocol.Encode(protocol.TypeRoom, "", protocol.RoomEventBody{
		Room: ch.Room.Name, Event: ch.Event, User: ch.User, Role: string(ch.Role), By: ch.By,
		Private: ch.Room.Private, Topic: ch.Room.Topic, Locked: ch.Room.Locked, Archived: ch.Room.Archived,
		Reason: ch.Reason, Until: until,
	})
	exclude := ""
	if ch.User != "" {
		exclude = userExclude + ch.User
		if err := h.publish(ctx, userSubject(ch.User), packEvent(kindEphemeral, 0, "", frame)); err != nil {
			h.log.Warn("publishing a room change to its member", "room", ch.Room.Name, "user", ch.User, "err", err)
		}
	}
	h.publishRoom(ctx, ch.Room.Name, kindEphemeral, 0, exclude, frame)
}
