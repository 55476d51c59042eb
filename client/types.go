package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// The wire types are the protocol package's own, re-exported as aliases so
// the SDK and the server can never disagree on a field.
type (
	// Welcome opens every session: who the client is and the session's
	// limits.
	Welcome = protocol.WelcomeBody
	// Limits are the limits in force for a session.
	Limits = protocol.Limits
	// User is how a user appears on the wire.
	User = protocol.User
	// Joined answers Join: the room's normalised key, last sequence and the
	// connected members.
	Joined = protocol.JoinedBody
	// Ack confirms a stored message; Duplicate is set when a resend found
	// the message already stored.
	Ack = protocol.AckBody
	// Message is a stored message, in message and private events.
	Message = protocol.MessageBody
	// Update reports an edit, deletion or reaction.
	Update = protocol.UpdateBody
	// Presence tells that a user joined or left a room.
	Presence = protocol.PresenceBody
	// Typing is a typing indicator.
	Typing = protocol.TypingEvent
	// Read is a read receipt.
	Read = protocol.ReadEvent
	// System is a notice from the server.
	System = protocol.SystemBody
	// Reaction is one emoji on a message and the ids of who reacted.
	Reaction = protocol.Reaction
	// UnreadRoom is the unread state of one room or conversation: its
	// newest sequence, the user's read marker and how many messages from
	// others came after the marker.
	UnreadRoom = protocol.UnreadRoom
	// Unread is the unread frame sent after the welcome to account holders.
	Unread = protocol.UnreadBody
	// Notification is one notification, live or in a page.
	Notification = protocol.Notification
	// NotificationsPage is a page of notifications, newest first, with the
	// number of all the user's unread ones.
	NotificationsPage = protocol.NotificationsReply
	// NotificationsQuery selects a page of notifications: older than the
	// one with id Before (all when ""), only unread ones with Unread, at
	// most Limit (the server's default, 50, when 0).
	NotificationsQuery = protocol.NotificationsBody
	// NotificationsRead says which notifications were marked read (IDs, or
	// All) and how many of the user's stay unread.
	NotificationsRead = protocol.NotificationsReadBody
	// RoomChange tells of a change to a room the user belongs to: a member
	// added or removed, a role changed, the topic or privacy updated.
	RoomChange = protocol.RoomEventBody
)

// EventType says what an Event carries.
type EventType string

// Event types. All but EventReconnected are the server frame types of the
// same name.
const (
	EventMessage  EventType = "message"  // Message is set
	EventPrivate  EventType = "private"  // Message is set
	EventUpdate   EventType = "update"   // Update is set
	EventPresence EventType = "presence" // Presence is set
	EventTyping   EventType = "typing"   // Typing is set
	EventRead     EventType = "read"     // Read is set
	EventSystem   EventType = "system"   // System is set
	EventUnread   EventType = "unread"   // Unread is set: after each welcome, for account holders
	EventRoom     EventType = "room"     // RoomChange is set
	// EventLeft: the connection was taken out of Room by someone else (an
	// owner removed the user); the room is no longer re-joined.
	EventLeft EventType = "left"
	// EventNotification: a notification arrived live; Notification is set.
	EventNotification EventType = "notification"
	// EventNotifications: the unread notifications sent after a welcome;
	// Notifications is set.
	EventNotifications EventType = "notifications"
	// EventNotificationsRead: notifications were marked read by another
	// connection of the user or over the HTTP API; NotificationsRead is
	// set.
	EventNotificationsRead EventType = "notifications_read"
	EventError             EventType = "error" // Err is set: an error frame nobody waited for, a lost connection, a failed recovery
	// EventReconnected is synthetic: a new connection replaced a lost one.
	// It precedes the events replayed on the new connection; Session has
	// been updated when it arrives.
	EventReconnected EventType = "reconnected"
)

// Event is one thing that happened on the session. Exactly one of the
// pointer fields is set, as its Type says; Room is filled in for every
// room-scoped event.
type Event struct {
	Type     EventType
	Room     string
	Message  *Message
	Update   *Update
	Presence *Presence
	Typing   *Typing
	Read     *Read
	System   *System

	Unread            *Unread
	RoomChange        *RoomChange
	Notification      *Notification
	Notifications     *NotificationsPage
	NotificationsRead *NotificationsRead

	Err error
}

// Error codes of the server's error frames, stable across releases; branch
// on them, never on messages. docs/PROTOCOL.md says when each happens.
const (
	CodeBadFrame     = protocol.CodeBadFrame
	CodeUnknownType  = protocol.CodeUnknownType
	CodeInvalid      = protocol.CodeInvalid
	CodeTooLong      = protocol.CodeTooLong
	CodeInvalidRoom  = protocol.CodeInvalidRoom
	CodeNotJoined    = protocol.CodeNotJoined
	CodeTooManyRooms = protocol.CodeTooManyRooms
	CodeRateLimited  = protocol.CodeRateLimited
	CodeForbidden    = protocol.CodeForbidden
	CodeNotFound     = protocol.CodeNotFound
	CodeUnauthorized = protocol.CodeUnauthorized
	CodeUnavailable  = protocol.CodeUnavailable
	CodeInternal     = protocol.CodeInternal
)

// ServerError is an error frame from the server. Code is one of the stable
// codes of docs/PROTOCOL.md (CodeNotJoined, CodeRateLimited, …).
type ServerError struct {
	Code    string
	Message string
	// RetryAfter is set with rate_limited: when to try again.
	RetryAfter time.Duration
}

// Error implements error.
func (e *ServerError) Error() string { return "parley: " + e.Code + ": " + e.Message }

// Is reports whether target is a *ServerError with the same Code and no
// Message, so that errors.Is(err, &ServerError{Code: CodeForbidden})
// matches any forbidden error.
func (e *ServerError) Is(target error) bool {
	t, ok := target.(*ServerError)
	return ok && t.Message == "" && t.Code == e.Code
}

// ErrorCode returns the server's code carried by err: a ServerError's
// code, or "" when err is not (or does not wrap) one.
func ErrorCode(err error) string {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// Close codes of docs/PROTOCOL.md, in CloseError.Code. The client
// reconnects (with Options.Reconnect) after any other close, and after
// CloseUnauthorized and CloseTokenExpired too when Options.GetToken can
// give it a new token; the codes below that say "final" end it.
const (
	CloseNormal          = protocol.CloseNormal          // final: the client asked to close
	CloseGoingAway       = protocol.CloseGoingAway       // the server is shutting down
	CloseServiceRestart  = protocol.CloseServiceRestart  // a draining node: reconnect after the wait in the reason
	CloseUnsupportedData = protocol.CloseUnsupportedData // final: a binary frame was sent
	CloseInvalidPayload  = protocol.CloseInvalidPayload  // final: a frame was not valid UTF-8
	ClosePolicyViolation = protocol.ClosePolicyViolation // the rate limit was ignored persistently
	CloseTooBig          = protocol.CloseTooBig          // final: a frame over max_frame_bytes
	CloseInternalError   = protocol.CloseInternalError   // an unexpected server fault
	CloseTryAgainLater   = protocol.CloseTryAgainLater   // the server could not check the token now
	CloseUnauthorized    = protocol.CloseUnauthorized    // final without GetToken: the token was refused or signed out
	CloseTokenExpired    = protocol.CloseTokenExpired    // final without GetToken: the token expired
	CloseDisconnected    = protocol.CloseDisconnected    // final: the application ended the user's sessions, or disabled the account
	CloseTooSlow         = protocol.CloseTooSlow         // the client read too slowly
	CloseTooManyConns    = protocol.CloseTooManyConns    // final: the user holds too many connections
	CloseHeartbeatMissed = protocol.CloseHeartbeatMissed // nothing was heard from the client in time
)

// CloseError is how a connection ended when the server closed it with a
// WebSocket close frame.
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	return fmt.Sprintf("parley: connection closed with %d: %s", e.Code, e.Reason)
}

// RecoveryError reports that a re-join could not replay everything missed
// in Room: more than the server's recovery window happened while the client
// was away. Events after LastSeq flow again; page the gap with history.
type RecoveryError struct {
	Room    string
	Since   int64
	LastSeq int64
}

// Error implements error.
func (e *RecoveryError) Error() string {
	return fmt.Sprintf("parley: room %q: events %d to %d could not be recovered", e.Room, e.Since+1, e.LastSeq)
}

// Sentinel errors. Check them with errors.Is.
var (
	// ErrClosed is returned by requests on a client that was closed or
	// whose connection ended for good.
	ErrClosed = errors.New("parley: client closed")
	// ErrDisconnected is returned by a request other than Send and Private
	// whose connection ended before the reply came. The request may or may
	// not have taken effect; with Reconnect on it is safe to retry.
	ErrDisconnected = errors.New("parley: connection lost before the reply")
)
