package protocol

import (
	"fmt"
	"time"
)

// Error codes carried in error frames. They are stable: clients branch on them.
// docs/PROTOCOL.md lists each with the situations that produce it.
const (
	CodeBadFrame     = "bad_frame"      // not a JSON object of the envelope's shape
	CodeUnknownType  = "unknown_type"   // the type is not one the server accepts
	CodeInvalid      = "invalid"        // a field is missing, of the wrong type or out of range
	CodeTooLong      = "too_long"       // message text longer than max_message_length
	CodeInvalidRoom  = "invalid_room"   // the room name breaks the naming rules
	CodeNotJoined    = "not_joined"     // the frame needs the room joined on this connection
	CodeTooManyRooms = "too_many_rooms" // max_rooms reached on this connection
	CodeRateLimited  = "rate_limited"   // too many frames, or messages, joins or rooms for the user or address; retry_after_ms says when to try again
	CodeForbidden    = "forbidden"      // authenticated, but not allowed to do this
	CodeNotFound     = "not_found"      // the room, user or message does not exist
	CodeUnauthorized = "unauthorized"   // no valid token, or the token expired
	CodeUnavailable  = "unavailable"    // the server could not store the request; retry later
	CodeInternal     = "internal"       // an unexpected server fault
	// CodeLookalike refuses a new username that is not taken but looks
	// like one that is (same UTS #39 skeleton); HTTP API only.
	CodeLookalike = "lookalike"
)

// WebSocket close codes the server uses. 1000–1011 are RFC 6455's; 4000–4999
// are Parley's own, documented in docs/PROTOCOL.md.
const (
	CloseNormal    = 1000 // the client asked to close
	CloseGoingAway = 1001 // the server is shutting down; reconnect to another node or later
	// CloseServiceRestart is how a draining node closes its connections:
	// reconnect after the wait its reason gives (RestartReason), to another
	// node or to this one restarted.
	CloseServiceRestart  = 1012
	CloseUnsupportedData = 1003 // a binary frame: the protocol is text only
	CloseInvalidPayload  = 1007 // a text frame that is not valid UTF-8
	ClosePolicyViolation = 1008 // a persistent abuse of limits
	CloseTooBig          = 1009 // a frame larger than max_frame_bytes
	CloseInternalError   = 1011 // an unexpected server fault
	CloseTryAgainLater   = 1013 // the server could not check credentials now; retry with backoff

	CloseUnauthorized    = 4001 // no valid token within the auth deadline, or it was rejected
	CloseDisconnected    = 4003 // the application ended the user's sessions; do not reconnect on your own
	CloseTokenExpired    = 4002 // the session's token expired and no fresh one came
	CloseTooSlow         = 4008 // the client read too slowly and its queue overflowed
	CloseTooManyConns    = 4009 // the user already has max_conns_per_user connections
	CloseHeartbeatMissed = 4010 // nothing heard from the client within the heartbeat timeout
)

// Error is a request failure that goes to the client as an error frame.
type Error struct {
	Code       string
	Message    string
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Body returns the error frame body for e.
func (e *Error) Body() ErrorBody {
	return ErrorBody{Code: e.Code, Message: e.Message, RetryAfterMS: e.RetryAfter.Milliseconds()}
}

// RestartReason is the close reason of CloseServiceRestart: it tells
// clients, and the people reading it, when to reconnect. Each connection
// gets its own wait, spread over a window, so that a node's clients do
// not all come back at once.
func RestartReason(wait time.Duration) string {
	return fmt.Sprintf("server restarting; reconnect after %d ms", wait.Milliseconds())
}

// ParseRestartReason reads the wait out of a RestartReason; ok is false
// for any other reason.
func ParseRestartReason(reason string) (wait time.Duration, ok bool) {
	var ms int64
	if _, err := fmt.Sscanf(reason, "server restarting; reconnect after %d ms", &ms); err != nil || ms < 0 {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}
