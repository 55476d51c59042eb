package store

import (
	"context"
	"time"
)

// PresenceUser is a user as presence shows them.
type PresenceUser struct {
	ID    string
	Name  string
	Guest bool
}

// PresenceGone is a user no node has in a room any more, found by a reap.
type PresenceGone struct {
	Room string
	User PresenceUser
}

// PresenceRow is one node's row of a user in a room, as PresenceNodes
// lists them.
type PresenceRow struct {
	Node string
	// Stale marks a row an earlier run of Node left that no join has
	// confirmed yet (see NodeStarted).
	Stale bool
}

// NodeConns is how many connections a user has on one node.
type NodeConns struct {
	User  string
	Conns int // 0: none, the row goes
}

// NodePresence says whether a user is in a room through one node.
type NodePresence struct {
	Room string
	User PresenceUser
	In   bool // false: the row goes
}

// Presence is the record a cluster's nodes share of who is in which room
// through which node, and how many connections each user has on each: it
// makes presence and the per-user connection limit hold across nodes. A
// node writes only its own rows; a node that stops sending heartbeats is
// reaped by any other. Every method is safe for concurrent use.
type Presence interface {
	// NodeStarted registers node, alive at now. Its presence rows from an
	// earlier run (the same node id) are kept but marked stale, so that
	// users who come back soon cause no leave and join; its connection
	// rows are dropped, as those connections are gone.
	NodeStarted(ctx context.Context, node string, now time.Time) error
	// NodeAlive records node's heartbeat at now.
	NodeAlive(ctx context.Context, node string, now time.Time) error
	// ReapNodes removes every node whose last heartbeat is before deadline,
	// with its rows, and returns the users now in a room through no node.
	// Nodes reaping at once never report the same user twice.
	ReapNodes(ctx context.Context, deadline time.Time) ([]PresenceGone, error)
	// DropStale removes node's stale presence rows (those not confirmed
	// since NodeStarted) and returns the users now in a room through no
	// node.
	DropStale(ctx context.Context, node string) ([]PresenceGone, error)

	// JoinPresence, LeavePresence, AddConnection and RemoveConnection
	// change one row each in a transaction; the hub writes through
	// WriteNodeState instead, in batches (a transaction per connection
	// overran PostgreSQL in connection storms), and they remain for
	// tools and tests.

	// JoinPresence records user in room through node (confirming a stale
	// row); first reports whether no row had the user in the room before.
	JoinPresence(ctx context.Context, room, node string, user PresenceUser) (first bool, err error)
	// LeavePresence removes user from room through node; last reports
	// whether no row has the user in the room now.
	LeavePresence(ctx context.Context, room, node, userID string) (last bool, err error)
	// RoomPresence lists up to limit users in room (each once, by id) and
	// how many there are in all.
	RoomPresence(ctx context.Context, room string, limit int) ([]PresenceUser, int, error)

	// AddConnection counts one more connection of userID on node, unless
	// the user already has max in all (0: no limit); it returns their
	// total across nodes before it, and whether it was counted.
	AddConnection(ctx context.Context, node, userID string, max int) (before int, ok bool, err error)
	// RemoveConnection counts one connection less and returns the user's
	// total left across nodes.
	RemoveConnection(ctx context.Context, node, userID string) (left int, err error)
	// Connections returns userID's connections across nodes.
	Connections(ctx context.Context, userID string) (int, error)

	// OtherConnections returns userID's connections on nodes other than
	// node: with node's own count, kept in memory, it checks the limit
	// in one read.
	OtherConnections(ctx context.Context, node, userID string) (int, error)
	// PresenceNodes lists the rows that have userID in room, one per node.
	PresenceNodes(ctx context.Context, room, userID string) ([]PresenceRow, error)
	// WriteNodeState sets node's rows to what conns and presence say, in
	// one transaction: each is an absolute value, not a change, so that
	// writing it again or late is harmless. With full, they are all of
	// node's rows: its other connection rows and its other confirmed
	// presence rows go (stale ones stay for DropStale).
	WriteNodeState(ctx context.Context, node string, conns []NodeConns, presence []NodePresence, full bool) error
}
