package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// OtherConnections counts a user's connections on the other nodes; see
// store.Presence.
func (s *Store) OtherConnections(ctx context.Context, node, userID string) (int, error) {
	var n int
	db, err := s.db()
	if err == nil {
		err = db.QueryRow(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = $1 AND node <> $2`,
			userID, node).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: connections of %q on other nodes: %w", userID, s.check(err))
	}
	return n, nil
}

// PresenceNodes lists the rows of a user in a room; see store.Presence.
func (s *Store) PresenceNodes(ctx context.Context, room, userID string) ([]store.PresenceRow, error) {
	db, err := s.db()
	if err != nil {
		return nil, fmt.Errorf("postgres: presence of %q in %q: %w", userID, room, err)
	}
	rows, err := db.Query(ctx, `SELECT node, stale FROM presence WHERE room = $1 AND user_id = $2`, room, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: presence of %q in %q: %w", userID, room, s.check(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PresenceRow, error) {
		var r store.PresenceRow
		err := row.Scan(&r.Node, &r.Stale)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: presence of %q in %q: %w", userID, room, s.check(err))
	}
	return out, nil
}

// WriteNodeState sets a node's rows; see store.Presence. Every part is
// one statement over arrays, sent together in one batch: a flush of
// thousands of changes costs the same few round trips as one. Rows that
// already hold the value are left alone, so a full rewrite of an
// unchanged node writes nothing.
func (s *Store) WriteNodeState(ctx context.Context, node string, conns []store.NodeConns, presence []store.NodePresence, full bool) error {
	var setUsers, dropUsers []string
	var setConns []int32
	for _, c := range conns {
		if c.Conns > 0 {
			setUsers, setConns = append(setUsers, c.User), append(setConns, int32(c.Conns))
		} else {
			dropUsers = append(dropUsers, c.User)
		}
	}
	var inRooms, inUsers, inNames, outRooms, outUsers []string
	var inGuests []bool
	for _, p := range presence {
		if p.In {
			inRooms, inUsers = append(inRooms, p.Room), append(inUsers, p.User.ID)
			inNames, inGuests = append(inNames, p.User.Name), append(inGuests, p.User.Guest)
		} else {
			outRooms, outUsers = append(outRooms, p.Room), append(outUsers, p.User.ID)
		}
	}
	b := &pgx.Batch{}
	// Presence before connections, the order in which ReapNodes and
	// NodeStarted lock a node's rows, so that a reap racing a write waits
	// rather than deadlocks.
	if len(inRooms) > 0 {
		b.Queue(`INSERT INTO presence (room, user_id, node, name, guest, stale)
			SELECT r, u, $1, n, g, false FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[]) AS t(r, u, n, g)
			ON CONFLICT (room, user_id, node) DO UPDATE SET name = excluded.name, guest = excluded.guest, stale = false
			WHERE (presence.name, presence.guest, presence.stale) IS DISTINCT FROM (excluded.name, excluded.guest, false)`,
			node, inRooms, inUsers, inNames, inGuests)
	}
	if len(outRooms) > 0 {
		b.Queue(`DELETE FROM presence p USING unnest($2::text[], $3::text[]) AS t(r, u)
			WHERE p.node = $1 AND p.room = t.r AND p.user_id = t.u`, node, outRooms, outUsers)
	}
	if full {
		b.Queue(`DELETE FROM presence p WHERE p.node = $1 AND NOT p.stale AND NOT EXISTS
			(SELECT 1 FROM unnest($2::text[], $3::text[]) AS t(r, u) WHERE t.r = p.room AND t.u = p.user_id)`,
			node, append([]string{}, inRooms...), append([]string{}, inUsers...))
	}
	if len(setUsers) > 0 {
		b.Queue(`INSERT INTO connections (user_id, node, conns) SELECT u, $1, n FROM unnest($2::text[], $3::int[]) AS t(u, n)
			ON CONFLICT (user_id, node) DO UPDATE SET conns = excluded.conns WHERE connections.conns <> excluded.conns`,
			node, setUsers, setConns)
	}
	if len(dropUsers) > 0 {
		b.Queue(`DELETE FROM connections WHERE node = $1 AND user_id = ANY($2)`, node, dropUsers)
	}
	if full {
		b.Queue(`DELETE FROM connections WHERE node = $1 AND NOT (user_id = ANY($2))`, node, append([]string{}, setUsers...))
	}
	if b.Len() == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("postgres: write the rows of node %q: %w", node, err)
	}
	return nil
}
