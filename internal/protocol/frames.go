package protocol

import "encoding/json"

// Subprotocol is the WebSocket subprotocol name of this protocol version.
// Clients offer it in Sec-WebSocket-Protocol; a client that offers none is
// served v1 as well, so plain tools like websocat work.
const Subprotocol = "parley.v1"

// SystemUserID is the sender id of messages an application posts as itself
// through the server API rather than on behalf of a user. No account, guest
// or user of an integrating app's tokens can have it.
const SystemUserID = "system"

// Frame types a client sends.
const (
	TypeAuth    = "auth"    // first frame when the token cannot go in the URL or headers
	TypeJoin    = "join"    // join a room, optionally recovering after a sequence
	TypeLeave   = "leave"   // leave a room on this connection
	TypeChat    = "chat"    // send a message to a joined room
	TypePrivate = "private" // send a private message to a user (also sent by the server)
	TypeTyping  = "typing"  // typing start/stop (also sent by the server)
	TypePing    = "ping"    // application-level ping; answered with pong
	TypeEdit    = "edit"    // edit one's own message
	TypeDelete  = "delete"  // delete a message
	TypeReact   = "react"   // add or remove an emoji reaction
	TypeRead    = "read"    // move one's read marker (also sent by the server as a receipt)
	TypeHistory = "history" // page through a room's history (the reply has the same type)

	TypeSubscribe         = "subscribe"          // subscribe to notifications on topics matching a pattern
	TypeUnsubscribe       = "unsubscribe"        // end a subscription
	TypeNotifications     = "notifications"      // page through one's notifications (also sent after welcome)
	TypeNotificationsRead = "notifications_read" // mark notifications read (also sent to one's other connections)
)

// Frame types the server sends.
const (
	TypeWelcome  = "welcome"  // first frame of every session
	TypeJoined   = "joined"   // reply to join
	TypeLeft     = "left"     // reply to leave
	TypeAck      = "ack"      // reply to chat or private: the message is stored
	TypeMessage  = "message"  // a chat message in a room
	TypeUpdate   = "update"   // a message was edited, deleted or reacted to
	TypePresence = "presence" // a member joined or left a room
	// TypePresenceDiff gathers a busy room's joins and leaves of the last
	// interval into one frame.
	TypePresenceDiff = "presence_diff"
	TypeSystem       = "system" // a notice from the server
	TypeError        = "error"  // a request failed; id names the frame
	TypePong         = "pong"   // reply to ping
	TypeUnread       = "unread" // unread counts, sent after welcome to account holders
	TypeRoom         = "room"   // a room the user belongs to changed: added, removed, role, updated

	TypeSubscribed   = "subscribed"   // reply to subscribe
	TypeUnsubscribed = "unsubscribed" // reply to unsubscribe
	TypeNotification = "notification" // a notification for the user, live
)

// SubscribeBody asks for (or ends) a subscription to notifications on the
// topics Topic matches; the replies carry the same body.
type SubscribeBody struct {
	Topic string `json:"topic"`
}

// NotificationsBody asks for a page of one's notifications, newest first:
// those before the one with id Before (all when ""), only unread ones with
// Unread, at most Limit (default 50, at most 1000).
type NotificationsBody struct {
	Before string `json:"before,omitempty"`
	Unread bool   `json:"unread,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Notification is a notification as a client receives it.
type Notification struct {
	ID    string          `json:"id"`
	Topic string          `json:"topic,omitempty"`
	Title string          `json:"title"`
	Body  string          `json:"body,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Link  string          `json:"link,omitempty"`
	TS    string          `json:"ts"`
	Read  bool            `json:"read,omitempty"`
}

// NotificationsReply is a page of notifications and the number of unread
// ones in all.
type NotificationsReply struct {
	Notifications []Notification `json:"notifications"`
	Unread        int            `json:"unread"`
}

// NotificationsReadBody marks notifications read: those of IDs, or all.
// From the server (reply, and to the user's other connections) it also
// says how many stay unread.
type NotificationsReadBody struct {
	IDs    []string `json:"ids,omitempty"`
	All    bool     `json:"all,omitempty"`
	Unread *int     `json:"unread,omitempty"`
}

// Room change events, the event field of a room frame.
const (
	RoomAdded    = "added"    // a user became a member
	RoomRemoved  = "removed"  // a member was removed, or left
	RoomRole     = "role"     // a member's role changed
	RoomUpdated  = "updated"  // the room's topic, privacy, lock or archive state changed
	RoomBanned   = "banned"   // a user was banned from the room
	RoomUnbanned = "unbanned" // a user's ban was lifted
	RoomMuted    = "muted"    // a user was muted: they may read but not post
	RoomUnmuted  = "unmuted"  // a user's mute was lifted
	RoomDeleted  = "deleted"  // the room was deleted, with its history
)

// RoomEventBody tells of a change to a room: to its connected members and
// to the member it concerns, wherever they are connected.
type RoomEventBody struct {
	Room  string `json:"room"`
	Event string `json:"event"`
	// User is the member the event concerns (not for updated).
	User string `json:"user,omitempty"`
	// Role is that member's role now (added and role).
	Role string `json:"role,omitempty"`
	// By is who made the change: a user id, or SystemUserID for the
	// application's backend.
	By      string `json:"by,omitempty"`
	Private bool   `json:"private"`
	Topic   string `json:"topic,omitempty"`
	// Locked rooms take messages only from their owner and admins;
	// archived ones from no one.
	Locked   bool `json:"locked,omitempty"`
	Archived bool `json:"archived,omitempty"`
	// Reason is the moderator's reason (banned, muted), when given.
	Reason string `json:"reason,omitempty"`
	// Until is when a ban or mute ends; absent when it lasts until lifted.
	Until string `json:"until,omitempty"`
}

// Envelope is the outer shape of every frame. ID is chosen by the client and
// echoed in the server's reply to that frame; Body depends on Type.
type Envelope struct {
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// User is how a user appears on the wire.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Guest bool   `json:"guest,omitempty"`
}

// AuthBody carries a token in an auth frame.
type AuthBody struct {
	Token string `json:"token"`
}

// JoinBody asks to join Room. When Since is set the server first replays the
// room's events after that sequence, then live traffic, with no gap.
type JoinBody struct {
	Room  string `json:"room"`
	Since *int64 `json:"since,omitempty"`
}

// RoomBody names a room (leave).
type RoomBody struct {
	Room string `json:"room"`
}

// ChatBody is a message to a room. ClientID makes a retried send idempotent.
type ChatBody struct {
	Room     string `json:"room"`
	Text     string `json:"text"`
	ClientID string `json:"client_id,omitempty"`
}

// PrivateBody is a private message to the user with id To.
type PrivateBody struct {
	To       string `json:"to"`
	Text     string `json:"text"`
	ClientID string `json:"client_id,omitempty"`
}

// TypingBody starts or stops the typing indicator in Room.
type TypingBody struct {
	Room  string `json:"room"`
	State string `json:"state"` // "start" or "stop"
}

// EditBody replaces the text of one's own message.
type EditBody struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// DeleteBody deletes a message.
type DeleteBody struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
}

// ReactBody adds (Remove false) or removes an emoji reaction.
type ReactBody struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
	Remove    bool   `json:"remove,omitempty"`
}

// ReadBody moves the sender's read marker in Room to Seq.
type ReadBody struct {
	Room string `json:"room"`
	Seq  int64  `json:"seq"`
}

// HistoryBody asks for a page of Room's messages. Before pages backwards
// (newest first), After pages forwards (oldest first); neither gives the newest
// page.
type HistoryBody struct {
	Room   string `json:"room"`
	Before int64  `json:"before,omitempty"`
	After  *int64 `json:"after,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Limits tells a client the limits in force for its session.
type Limits struct {
	MaxFrameBytes    int     `json:"max_frame_bytes"`
	MaxMessageLength int     `json:"max_message_length"`
	MaxRoomName      int     `json:"max_room_name_length"`
	MaxRooms         int     `json:"max_rooms"`
	RateMessages     float64 `json:"rate_messages"`
	RateBurst        int     `json:"rate_burst"`
	TypingTimeoutMS  int64   `json:"typing_timeout_ms"`
	RecoveryWindow   int     `json:"recovery_window"`
}

// WelcomeBody opens every session.
type WelcomeBody struct {
	Session     string `json:"session"`
	User        User   `json:"user"`
	Protocol    string `json:"protocol"`
	Server      string `json:"server"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
	TimeoutMS   int64  `json:"timeout_ms"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	// GuestToken, for guests only, connects again as the same guest when
	// presented as an access token.
	GuestToken string `json:"guest_token,omitempty"`
	Limits     Limits `json:"limits"`
}

// JoinedBody answers a join with the member list. Recovered tells whether the
// replay after Since was complete; false means the gap was larger than the
// recovery window and the client should page history instead.
type JoinedBody struct {
	Room    string `json:"room"`
	Private bool   `json:"private"`
	Topic   string `json:"topic,omitempty"`
	LastSeq int64  `json:"last_seq"`
	// Members are the users in the room now, the first ones by id, at
	// most the server's bound; MemberCount counts them all.
	Members     []User `json:"members"`
	MemberCount int    `json:"member_count"`
	Locked      bool   `json:"locked,omitempty"`
	Archived    bool   `json:"archived,omitempty"`
	Recovered   *bool  `json:"recovered,omitempty"`
	Replayed    int    `json:"replayed,omitempty"`
}

// AckBody confirms a stored message to its sender.
type AckBody struct {
	Room      string `json:"room"`
	MessageID string `json:"message_id"`
	Seq       int64  `json:"seq"`
	TS        string `json:"ts"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// Reaction is one emoji and who reacted with it.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

// MessageBody is a stored message as clients see it, in message, update,
// private and history frames.
type MessageBody struct {
	Room      string     `json:"room"`
	ID        string     `json:"id"`
	Seq       int64      `json:"seq"`
	TS        string     `json:"ts"`
	From      User       `json:"from"`
	To        string     `json:"to,omitempty"`
	Text      string     `json:"text"`
	ClientID  string     `json:"client_id,omitempty"`
	EditedAt  string     `json:"edited_at,omitempty"`
	Deleted   bool       `json:"deleted,omitempty"`
	Reactions []Reaction `json:"reactions,omitempty"`
}

// UpdateBody reports a change to an earlier message; Seq is the event's own
// sequence in the room log and Message the message's state after it.
type UpdateBody struct {
	Room    string      `json:"room"`
	Seq     int64       `json:"seq"`
	Kind    string      `json:"kind"` // edit, delete or reaction
	Actor   string      `json:"actor"`
	Emoji   string      `json:"emoji,omitempty"`
	Removed bool        `json:"removed,omitempty"`
	Message MessageBody `json:"message"`
}

// PresenceBody tells members that User joined or left Room.
type PresenceBody struct {
	Room  string `json:"room"`
	User  User   `json:"user"`
	Event string `json:"event"` // "join" or "leave"
}

// PresenceDiffBody is a busy room's presence changes over an interval:
// who joined and who left, each user once, by their last change. Each
// list holds at most the server's max-joined-members users, the first by
// id; Truncated says some were left out, and MemberCount is the room's
// count when the diff was sent, so filling a room of N costs each member
// a bounded frame per interval rather than the whole arrival list.
type PresenceDiffBody struct {
	Room        string `json:"room"`
	Joins       []User `json:"joins"`
	Leaves      []User `json:"leaves"`
	MemberCount int    `json:"member_count"`
	Truncated   bool   `json:"truncated,omitempty"`
}

// TypingEvent is the server's typing frame.
type TypingEvent struct {
	Room  string `json:"room"`
	User  User   `json:"user"`
	State string `json:"state"`
}

// ReadEvent is a read receipt: User has read Room up to Seq.
type ReadEvent struct {
	Room string `json:"room"`
	User User   `json:"user"`
	Seq  int64  `json:"seq"`
}

// SystemBody is a notice from the server, for a room or the whole session.
type SystemBody struct {
	Room string `json:"room,omitempty"`
	Text string `json:"text"`
}

// ErrorBody reports a failed request. Code is stable; Message is for people.
type ErrorBody struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// PongBody answers a ping with the server time.
type PongBody struct {
	TS string `json:"ts"`
}

// HistoryReply is the answer to a history request.
type HistoryReply struct {
	Room     string        `json:"room"`
	Messages []MessageBody `json:"messages"`
}

// UnreadRoom is one room's unread state.
type UnreadRoom struct {
	Room    string `json:"room"`
	Direct  bool   `json:"direct,omitempty"`
	Unread  int64  `json:"unread"`
	LastSeq int64  `json:"last_seq"`
	ReadSeq int64  `json:"read_seq"`
}

// UnreadBody lists unread state for each of the user's rooms.
type UnreadBody struct {
	Rooms []UnreadRoom `json:"rooms"`
}

// AuthReply answers an auth frame sent during a session with the new expiry.
type AuthReply struct {
	ExpiresAt string `json:"expires_at,omitempty"`
}
