// Package event names what happens in Parley that the application's
// backend can hear of through webhooks, and the interface through which the
// hub and the HTTP API report it. It holds no logic; internal/webhook
// delivers the events.
package event

import "github.com/parley-chat/parley/internal/protocol"

// Event types.
const (
	MessageCreated      = "message.created"      // a message was stored, in a room or a conversation
	MessageEdited       = "message.edited"       // a message's text changed
	MessageDeleted      = "message.deleted"      // a message was deleted
	MemberJoined        = "member.joined"        // a user became a member of a room
	MemberLeft          = "member.left"          // a member was removed from a room, or left it
	UserOnline          = "user.online"          // a user's first connection opened
	UserOffline         = "user.offline"         // a user's last connection closed
	NotificationCreated = "notification.created" // a notification was published
)

// Types lists every event type, in the order documented.
var Types = []string{MessageCreated, MessageEdited, MessageDeleted, MemberJoined, MemberLeft,
	UserOnline, UserOffline, NotificationCreated}

// Sink hears of events. Both methods are safe for concurrent use and never
// block.
type Sink interface {
	// Wants reports whether anyone listens for events of type typ, so
	// that a caller can skip building one nobody will get.
	Wants(typ string) bool
	// Emit reports an event of type typ; data is marshalled to JSON.
	Emit(typ string, data any)
}

// None is the Sink of a server without webhooks.
type None struct{}

// Wants implements Sink.
func (None) Wants(string) bool { return false }

// Emit implements Sink.
func (None) Emit(string, any) {}

// Message is the data of message events.
type Message struct {
	Message protocol.MessageBody `json:"message"`
	// Actor is who edited or deleted it (edited and deleted only).
	Actor string `json:"actor,omitempty"`
}

// Member is the data of member events.
type Member struct {
	Room string `json:"room"`
	User string `json:"user"`
	Role string `json:"role,omitempty"`
	// By is who made the change: a user id, or protocol.SystemUserID for
	// the application's backend.
	By string `json:"by,omitempty"`
}

// User is the data of user.online and user.offline.
type User struct {
	User protocol.User `json:"user"`
}

// Notification is the data of notification.created.
type Notification struct {
	Notification protocol.Notification `json:"notification"`
	Recipients   int                   `json:"recipients"`
}
