// Package store defines how Parley keeps durable state — accounts, rooms,
// memberships, the per-room message log, read markers and sign-in sessions —
// and the contract every backend must honour. Implementations live in
// sub-packages named for their technology (sqlite, postgres) and prove
// themselves by passing the shared conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Sentinel errors returned (possibly wrapped) by every Store implementation.
// Callers test them with errors.Is; the protocol and API layers map them to
// wire error codes in one place.
var (
	// ErrNotFound means the user, room, message or session does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint would be broken: a username
	// (case-insensitively) or a room name that is already taken.
	ErrConflict = errors.New("already exists")
	// ErrForbidden means the actor may not change the target, for example
	// editing someone else's message.
	ErrForbidden = errors.New("forbidden")
	// ErrSchemaTooNew means the database was migrated by a newer Parley than
	// this binary; the binary refuses to run against it.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("store closed")
)

// RoomKind tells rooms apart from two-person conversations.
type RoomKind string

const (
	// KindRoom is a named room, public or private.
	KindRoom RoomKind = "room"
	// KindDirect is a private two-person conversation. Its name is derived
	// from the two user ids by DirectRoomName.
	KindDirect RoomKind = "direct"
)

// Role is a member's standing in a room.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// EventKind says what a room log entry records.
type EventKind string

const (
	EventMessage  EventKind = "message"  // a new message
	EventEdit     EventKind = "edit"     // the message's text changed
	EventDelete   EventKind = "delete"   // the message was deleted (text cleared)
	EventReaction EventKind = "reaction" // a reaction was added or removed
)

// User is an account. Guests and users from an integrating app's JWTs are
// not stored as accounts; they exist only as ids on messages and members.
type User struct {
	ID           string // opaque, assigned by the caller (auth), unique
	Username     string // as typed at sign-up; unique case-insensitively
	DisplayName  string
	PasswordHash string // argon2id PHC string, never the password
	Admin        bool
	Disabled     bool // may not sign in; set by SetDisabled
	CreatedAt    time.Time
}

// ExternalUser is a user of an integrating app's tokens whom the server
// has seen: such users have no account, but other users may address them
// (a private message needs a recipient that exists).
type ExternalUser struct {
	ID        string // the token's sub
	Name      string // the display name the last token gave
	FirstSeen time.Time
	LastSeen  time.Time
}

// APIKey is a key a backend authenticates with on the HTTP API. Only the
// hash of its secret is stored.
type APIKey struct {
	ID         string   // public, unique; part of the key itself
	Name       string   // what the administrator called it
	Hash       string   // SHA-256 hex of the whole key
	Scopes     []string // what it may do, in the order given
	CreatedBy  string   // the user id of the administrator who made it; "" from the command line
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
	RevokedAt  time.Time // zero while the key works
}

// Notification is something the application tells users: about a topic
// they subscribe to, to one user, or to everyone. It is stored once, with
// a row of read state per recipient.
type Notification struct {
	ID        string // assigned by the caller (NewID); sorts by creation
	Topic     string // the topic it was published to; "" for a user or everyone
	Title     string
	Body      string
	Data      string // a JSON object, as text; "" when none
	Link      string
	CreatedAt time.Time
	CreatedBy string // the API key that published it
}

// UserNotification is a notification as one of its recipients has it.
type UserNotification struct {
	Notification
	ReadAt time.Time // zero while unread
}

// NotificationQuery pages through a user's notifications, newest first:
// those with an id below Before (all when ""), only unread ones when
// Unread, at most Limit (clamped with ClampLimit).
type NotificationQuery struct {
	Before string
	Unread bool
	Limit  int
}

// Webhook is an endpoint an administrator configured to receive events.
type Webhook struct {
	ID        string
	URL       string
	Secret    string   // signs every request (HMAC-SHA256); kept as is, as signing needs it
	Events    []string // the event types it wants; "*" for all
	CreatedBy string
	CreatedAt time.Time
}

// WebhookDelivery is one event on its way to one webhook, kept until it is
// delivered or given up, so that a restart loses none.
type WebhookDelivery struct {
	ID        string // the delivery's own id
	Webhook   string // the endpoint's id
	EventID   string // the event's id, the same for every endpoint
	Event     string // its type, such as "message.created"
	Payload   string // the JSON body to send
	Attempts  int    // failed attempts so far
	NextAt    time.Time
	LastError string
	CreatedAt time.Time
}

// Room is a named room or a direct conversation.
type Room struct {
	Name      string // normalised key (see protocol.NormaliseRoom); primary key
	Kind      RoomKind
	Private   bool // members only; always true for KindDirect
	Owner     string
	Topic     string
	CreatedAt time.Time
	LastSeq   int64 // sequence of the newest event in the room's log; 0 when empty
	// Locked rooms take messages only from their owner and admins.
	Locked bool
	// Archived rooms take no messages at all; they can still be read.
	Archived bool
}

// Member is one user's membership of a room.
type Member struct {
	Room     string
	UserID   string
	Role     Role
	JoinedAt time.Time
	ReadSeq  int64 // the read marker: every event up to and including it is read
}

// Reaction is one emoji on a message and the users who added it, in the order
// they reacted.
type Reaction struct {
	Emoji string
	Users []string
}

// Message is a chat or private message in its current state: edits,
// deletion and reactions are applied.
type Message struct {
	ID         string // assigned by the store; unique across rooms; sorts by creation
	Room       string
	Seq        int64 // the room sequence assigned when the message was created
	Sender     string
	SenderName string
	Guest      bool   // sender was a guest
	ClientID   string // the sender's idempotency key; "" when none was given
	Text       string
	CreatedAt  time.Time
	EditedAt   time.Time // zero when never edited
	Deleted    bool      // text is "" once deleted
	Reactions  []Reaction
}

// Event is one entry of a room's log. Every event takes the room's next
// sequence number, so the log is gap-free and strictly increasing; a client
// that saw sequence N recovers by reading the events after N. Message is the
// message's state right after the event.
type Event struct {
	Room    string
	Seq     int64
	Kind    EventKind
	Actor   string // who caused the event
	Emoji   string // for EventReaction
	Added   bool   // for EventReaction: added (true) or removed (false)
	At      time.Time
	Message Message
}

// NewMessage is what Append needs; the store fills in the rest.
type NewMessage struct {
	Room       string
	Sender     string
	SenderName string
	Guest      bool
	ClientID   string
	Text       string
}

// HistoryQuery pages through a room's messages by sequence number.
// With Before > 0, messages with Seq < Before, newest first.
// With After >= 0 and Forward, messages with Seq > After, oldest first.
// With neither, the newest Limit messages, newest first.
type HistoryQuery struct {
	Before  int64
	After   int64
	Forward bool
	Limit   int // 1..1000; values outside are clamped
}

// Session is a sign-in: a refresh token's hash and its life.
type Session struct {
	ID        string
	UserID    string
	TokenHash string // SHA-256 hex of the refresh token
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Unread is one room's unread state for a user.
type Unread struct {
	Room    string
	Kind    RoomKind
	LastSeq int64
	ReadSeq int64
	Count   int64 // messages (EventMessage events by others) after ReadSeq
}

// AsyncAppender is implemented by stores that can take an append without
// the caller waiting for its commit. A caller that would otherwise park a
// goroutine per message until its group commit (the hub, for every chat
// message) hands the store a callback instead, and the store runs the
// callbacks of a whole batch one after another once it has committed: one
// wake-up per batch rather than one per message.
type AsyncAppender interface {
	// AppendAsync queues msg exactly as Append would store it and returns
	// without waiting for the commit (it may wait while the store's queue
	// is full). done is then called exactly once with what Append would
	// have returned, after the commit, on a goroutine of the store's. The
	// done calls of appends queued one after another by one goroutine run
	// in that order, one at a time. done must not block and must not call
	// the store: the store's next completions wait for it. When msg cannot
	// be queued (the store is closed, or ctx ended first) done is called
	// with the error before AppendAsync returns. Close returns only once
	// the done of every append queued before it has run.
	AppendAsync(ctx context.Context, msg NewMessage, done func(ev Event, dup bool, err error))
}

// CommitObserver hears of every transaction in which a store's writer
// commits a batch of writes. Batch sizes and commit times are what tell an
// operator that the disk, not the server, is what is slow.
type CommitObserver interface {
	// Committed reports a batch of writes writes whose commit took d (for
	// SQLite from the commit's start until its WAL write is flushed to
	// disk; for PostgreSQL the batched chat appends' whole transaction);
	// err is set when the commit or its flush failed. It runs on the
	// store's writer (or SQLite's WAL syncer) after each batch, so it must
	// be quick (a histogram update) and must not call the store.
	Committed(writes int, d time.Duration, err error)
}

// CheckpointObserver is implemented by a CommitObserver that also wants to
// hear of the checkpoints of a store that has them: SQLite copies its WAL
// back into the database file and syncs it, and those writes compete with
// the commits' syncs on the disk. byWriter is true for a checkpoint the
// store's writer ran itself to let the WAL start over, holding up every
// durable write meanwhile, and false for one run beside it. Like
// Committed, it must be quick and must not call the store.
type CheckpointObserver interface {
	Checkpointed(byWriter bool, d time.Duration, err error)
}

// Observable is implemented by stores that report their commits (and,
// to an observer that is also a CheckpointObserver, their checkpoints).
type Observable interface {
	// ObserveCommits makes o hear every commit from now on; nil stops it.
	ObserveCommits(o CommitObserver)
}

// WriteProber is implemented by stores that can check that a write still
// commits, without changing anything a user sees. /readyz probes with it
// once writes have been failing, to tell when the store can store again
// while no user is sending (a load balancer sends none to a node it has
// taken out).
type WriteProber interface {
	// ProbeWrite commits a write of no consequence the way every write
	// commits (durably, through the store's writer); an error says that
	// writes fail now.
	ProbeWrite(ctx context.Context) error
}

// Store is Parley's durable state. All methods are safe for concurrent use.
// A method that returns without error has committed its change durably
// (on SQLite, committed and its WAL flushed to disk; committed on
// PostgreSQL), so an acknowledgement sent after it survives a crash.
type Store interface {
	// Append stores a new message and returns its EventMessage event with the
	// room's next sequence number, assigned in the same transaction. The room
	// must exist (ErrNotFound otherwise). When msg.ClientID is non-empty and the
	// same sender already stored a message with that ClientID in this room, the
	// existing event is returned with dup true and nothing is written.
	// Implementations may batch concurrent Appends into one transaction
	// (group commit); each caller still returns only after its batch commits.
	Append(ctx context.Context, msg NewMessage) (ev Event, dup bool, err error)
	// Edit replaces the text of a message sent by actor (ErrForbidden
	// otherwise; ErrNotFound if missing or deleted) and logs an EventEdit.
	Edit(ctx context.Context, room, messageID, actor, text string) (Event, error)
	// Delete clears a message. The sender may delete their own message; when
	// moderator is true (the caller checked the actor's role) anyone's.
	Delete(ctx context.Context, room, messageID, actor string, moderator bool) (Event, error)
	// React adds (add=true) or removes a user's emoji on a message and logs an
	// EventReaction. Adding twice or removing an absent reaction still logs
	// nothing and returns the current state with Seq 0.
	React(ctx context.Context, room, messageID, user, emoji string, add bool) (Event, error)
	// Events returns the room's log entries with Seq > after, oldest first, at
	// most limit of them.
	Events(ctx context.Context, room string, after int64, limit int) ([]Event, error)
	// History returns messages (current state, deleted ones included with
	// empty text) as described by HistoryQuery.
	History(ctx context.Context, room string, q HistoryQuery) ([]Message, error)
	// Message returns one message by id.
	Message(ctx context.Context, room, id string) (Message, error)

	// CreateRoom creates a room; ErrConflict if the name exists. The owner, if
	// set, becomes a member with RoleOwner in the same transaction.
	CreateRoom(ctx context.Context, r Room) (Room, error)
	// EnsureDirect returns the direct conversation between two users,
	// creating it (private, both members) on first use.
	EnsureDirect(ctx context.Context, userA, userB string) (Room, error)
	// Room returns a room with its LastSeq.
	Room(ctx context.Context, name string) (Room, error)
	// UpdateRoom changes a room's topic, privacy, lock and archive state.
	UpdateRoom(ctx context.Context, r Room) (Room, error)
	// DeleteRoom deletes a room with its members, messages, log and
	// sanctions; ErrNotFound if there is no such room.
	DeleteRoom(ctx context.Context, name string) error
	// OwnedRooms counts the named rooms (not conversations) userID owns.
	OwnedRooms(ctx context.Context, userID string) (int, error)
	// Sanction bans or mutes a user in a room, replacing a sanction of the
	// same kind; a ban also ends the user's membership, in the same
	// transaction. ErrNotFound if the room does not exist.
	Sanction(ctx context.Context, s Sanction) error
	// Unsanction lifts a user's sanction of kind in room; ErrNotFound if
	// none is in force.
	Unsanction(ctx context.Context, room, userID string, kind SanctionKind) error
	// Sanctions lists the sanctions in force in room, for userID only when
	// it is not "", oldest first.
	Sanctions(ctx context.Context, room, userID string) ([]Sanction, error)
	// Rooms lists public rooms and every room userID is a member of, by name.
	Rooms(ctx context.Context, userID string) ([]Room, error)
	// ListRooms lists every named room, private ones included, by name in
	// byte order; direct conversations are left out. It reads them all at
	// once: it is for administrators, not for requests.
	ListRooms(ctx context.Context) ([]Room, error)
	// AddMember adds or re-roles a member; adding an existing member keeps
	// their read marker.
	AddMember(ctx context.Context, room, userID string, role Role) error
	// RemoveMember removes a member; ErrNotFound if they were not one.
	RemoveMember(ctx context.Context, room, userID string) error
	// Member returns one membership; ErrNotFound if userID is not a member.
	Member(ctx context.Context, room, userID string) (Member, error)
	// Members lists a room's members by user id.
	Members(ctx context.Context, room string) ([]Member, error)
	// MarkRead moves userID's read marker in room forward to seq (never
	// back, never past LastSeq) and returns the marker now in force.
	MarkRead(ctx context.Context, room, userID string, seq int64) (int64, error)
	// Unread returns, for every room userID is a member of, its unread state.
	Unread(ctx context.Context, userID string) ([]Unread, error)

	// CreateUser stores an account; ErrConflict if the id or the username
	// (case-insensitively) is taken, and a *LookalikeError (wrapping
	// ErrLookalike) if the username is not taken but looks like one that
	// is, by UsernameSkeleton; a deleted account's name stays taken. The
	// check and the insert are atomic: of two look-alikes created at once,
	// on any number of nodes, one is refused.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns an account by id.
	User(ctx context.Context, id string) (User, error)
	// UserByName returns an account by username, case-insensitively.
	UserByName(ctx context.Context, username string) (User, error)
	// SetAdmin gives an account the server admin flag or takes it away;
	// ErrNotFound if there is no such account.
	SetAdmin(ctx context.Context, userID string, admin bool) error
	// SetDisabled disables an account (it may not sign in, and every one
	// of its sessions ends in the same transaction; it returns how many
	// live ones) or enables it again; ErrNotFound if there is no such
	// account.
	SetDisabled(ctx context.Context, userID string, disabled bool) (signedOut int, err error)
	// Users lists every account, oldest first (by CreatedAt, then ID). It
	// reads them all at once: it is for administrators, not for requests.
	Users(ctx context.Context) ([]User, error)
	// SetPasswordHash replaces an account's password hash and, in the same
	// transaction, deletes every session of the account but keepSession
	// ("" for none), so that no other sign-in made before outlives the
	// change; it returns how many of those sessions were live (unexpired).
	// ErrNotFound if there is no such account.
	SetPasswordHash(ctx context.Context, userID, hash, keepSession string) (signedOut int, err error)
	// SetDisplayName changes an account's display name; ErrNotFound if
	// there is no such account.
	SetDisplayName(ctx context.Context, userID, name string) error
	// DeleteUser deletes an account with its sessions, memberships,
	// subscriptions, notifications and sanctions, in one transaction; the
	// account's row stays, named DeletedUserName, so its username stays
	// taken, and matches no look-up. Its messages stay as they were sent.
	// Rooms it owned stay, without an owner. It returns how many live sessions ended;
	// ErrNotFound if there is no such account.
	DeleteUser(ctx context.Context, userID string) (signedOut int, err error)

	// AddAudit appends an entry to the audit log.
	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit reads the audit log as q asks.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// SeeExternalUser records that an external user authenticated now,
	// with this display name: it creates them (FirstSeen and LastSeen now)
	// or updates their name and LastSeen.
	SeeExternalUser(ctx context.Context, id, name string) error
	// ExternalUser returns an external user recorded by SeeExternalUser;
	// ErrNotFound if the id was never seen.
	ExternalUser(ctx context.Context, id string) (ExternalUser, error)

	// Subscribe subscribes userID to notifications on topics matching
	// pattern; subscribing twice is no error.
	Subscribe(ctx context.Context, userID, pattern string) error
	// Unsubscribe ends a subscription; ErrNotFound if there was none.
	Unsubscribe(ctx context.Context, userID, pattern string) error
	// Subscriptions lists userID's patterns, sorted.
	Subscriptions(ctx context.Context, userID string) ([]string, error)
	// Subscribers lists, sorted and each once, the users subscribed to any
	// of patterns (the patterns matching a topic: notify.Matching).
	Subscribers(ctx context.Context, patterns []string) ([]string, error)
	// AllUsers lists the id of every account and every external user seen,
	// sorted: the recipients of a notification to everyone.
	AllUsers(ctx context.Context) ([]string, error)
	// CreateNotification stores n once and an unread copy of its state for
	// each of recipients (distinct user ids), in one transaction.
	CreateNotification(ctx context.Context, n Notification, recipients []string) error
	// Notifications returns userID's notifications as q asks.
	Notifications(ctx context.Context, userID string, q NotificationQuery) ([]UserNotification, error)
	// UnreadNotifications counts userID's unread notifications.
	UnreadNotifications(ctx context.Context, userID string) (int, error)
	// MarkNotificationsRead marks userID's notifications with the given
	// ids read (ids that are not theirs, or already read, change nothing),
	// or all of them when all is true, and returns how many it changed.
	MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) (int, error)

	// CreateWebhook stores an endpoint; ErrConflict if its id is taken.
	CreateWebhook(ctx context.Context, w Webhook) error
	// Webhooks lists every endpoint, oldest first.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes an endpoint and every delivery still waiting
	// for it; ErrNotFound if there is no such endpoint.
	DeleteWebhook(ctx context.Context, id string) error
	// EnqueueWebhookDeliveries stores deliveries, in one transaction.
	EnqueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error
	// DueWebhookDeliveries returns up to limit deliveries for the endpoint
	// webhook whose NextAt is not after now, soonest first. (Per endpoint,
	// so that one endpoint's backlog never hides another's.)
	DueWebhookDeliveries(ctx context.Context, webhook string, now time.Time, limit int) ([]WebhookDelivery, error)
	// ClaimWebhookDeliveries takes up to limit deliveries for the
	// endpoint webhook that are due at now, soonest first, and moves
	// their NextAt to until in the same statement, so that no other
	// sender (another node of a cluster) takes them meanwhile; one whose
	// sender dies is due again at until. They are returned by id, with
	// NextAt until.
	ClaimWebhookDeliveries(ctx context.Context, webhook string, now, until time.Time, limit int) ([]WebhookDelivery, error)
	// FinishWebhookDelivery forgets a delivery: delivered, or given up.
	// A missing one is no error.
	FinishWebhookDelivery(ctx context.Context, id string) error
	// RetryWebhookDelivery records a failed attempt and when to try next;
	// ErrNotFound if the delivery is gone (its endpoint was deleted).
	RetryWebhookDelivery(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error

	// CreateAPIKey stores a key; ErrConflict if its id or hash is taken.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKey returns a key by id, revoked or not; ErrNotFound if none.
	APIKey(ctx context.Context, id string) (APIKey, error)
	// APIKeys lists every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey stops a key working from now on; ErrNotFound if there
	// is no such key. Revoking a revoked key keeps its first RevokedAt.
	RevokeAPIKey(ctx context.Context, id string) error
	// TouchAPIKey records that the key was used at the given time.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// CreateSession stores a sign-in session.
	CreateSession(ctx context.Context, s Session) error
	// SessionByTokenHash finds a live (unexpired) session.
	SessionByTokenHash(ctx context.Context, hash string) (Session, error)
	// SessionByID finds a live session by id (access tokens carry it, so
	// signing out revokes them).
	SessionByID(ctx context.Context, id string) (Session, error)
	// RotateSession replaces a session's refresh token hash and expiry.
	RotateSession(ctx context.Context, id, newHash string, expires time.Time) error
	// DeleteSession revokes a session; deleting a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error

	// Ping checks that the backend answers; /readyz uses it.
	Ping(ctx context.Context) error
	// Close waits for in-flight writes and releases the backend.
	Close() error
}

// DirectRoomName is the room key of the conversation between two users: the
// same whichever way round they are given.
func DirectRoomName(userA, userB string) string {
	if userB < userA {
		userA, userB = userB, userA
	}
	return "@" + userA + "+" + userB
}

// DirectPeer returns the other user of the direct conversation key (built by
// DirectRoomName) that user belongs to, or "" if user is not one of its two.
func DirectPeer(key, user string) string {
	inner := strings.TrimPrefix(key, "@")
	if rest, ok := strings.CutPrefix(inner, user+"+"); ok {
		return rest
	}
	if rest, ok := strings.CutSuffix(inner, "+"+user); ok {
		return rest
	}
	return ""
}
