package store

import "time"

// SanctionKind is what a room sanction does to a user.
type SanctionKind string

const (
	// SanctionBan keeps a user out of a room: they may not join, read or
	// be invited, and lose their membership when banned.
	SanctionBan SanctionKind = "ban"
	// SanctionMute makes a user read-only in a room: they may read and
	// stay, but not send, type or react.
	SanctionMute SanctionKind = "mute"
)

// Sanction is a ban or a mute of one user in one room.
type Sanction struct {
	Room      string
	UserID    string
	Kind      SanctionKind
	Reason    string // shown to moderators; "" when none was given
	By        string // who imposed it: a user id, or "system" for an API key or the command line
	CreatedAt time.Time
	ExpiresAt time.Time // zero: until lifted
}

// Active reports whether the sanction is in force at t.
func (s Sanction) Active(t time.Time) bool { return s.ExpiresAt.IsZero() || t.Before(s.ExpiresAt) }

// AuditEntry records one moderation or administration action.
type AuditEntry struct {
	ID        string // assigned by the caller (NewID); sorts by time
	At        time.Time
	Actor     string // a user id, "key:<id>" for an API key, or "cli" for the command line
	ActorName string // the actor's name when it was done, for reading
	Action    string // such as "room.ban" or "user.disable"; see the API documentation
	Room      string // the room concerned; "" when none
	Target    string // the user, message, key or webhook concerned; "" when none
	Detail    string // a JSON object with the rest (a reason, a duration); "" when none
}

// AuditQuery pages through the audit log, newest first: entries with an id
// below Before (all when ""), filtered by Action, Room and Actor when set,
// at most Limit (clamped with ClampLimit, so set it).
type AuditQuery struct {
	Before string
	Action string
	Room   string
	Actor  string
	Limit  int
}

// DeletedUserName is the sender name the messages of a deleted account
// keep.
const DeletedUserName = "Deleted user"
