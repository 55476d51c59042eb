package sqlite

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/internal/store"
)

// OtherConnections counts a user's connections on the other nodes; see
// store.Presence.
func (s *Store) OtherConnections(ctx context.Context, node, userID string) (int, error) {
	var n int
	db, err := s.reader()
	if err == nil {
		err = db.QueryRowContext(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = ? AND node <> ?`,
			userID, node).Scan(&n)
	}
	if err = s.settle(ctx, err); err != nil {
		return 0, fmt.Errorf("sqlite: connections of %q on other nodes: %w", userID, err)
	}
	return n, nil
}

// PresenceNodes lists the rows of a user in a room; see store.Presence.
func (s *Store) PresenceNodes(ctx context.Context, room, userID string) ([]store.PresenceRow, error) {
	out, err := s.presenceNodes(ctx, room, userID)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: presence of %q in %q: %w", userID, room, err)
	}
	return out, nil
}

func (s *Store) presenceNodes(ctx context.Context, room, userID string) ([]store.PresenceRow, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT node, stale FROM presence WHERE room = ? AND user_id = ?`, room, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PresenceRow
	for rows.Next() {
		var r store.PresenceRow
		var stale int
		if err := rows.Scan(&r.Node, &stale); err != nil {
			return nil, err
		}
		r.Stale = stale != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteNodeState sets a node's rows; see store.Presence. SQLite writes
// in-process, so one transaction of row statements is the batch.
func (s *Store) WriteNodeState(ctx context.Context, node string, conns []store.NodeConns, presence []store.NodePresence, full bool) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if full {
			// Everything listed is written below; what is not listed goes.
			if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE node = ?`, node); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM presence WHERE node = ? AND stale = 0`, node); err != nil {
				return err
			}
		}
		for _, c := range conns {
			var err error
			if c.Conns > 0 {
				_, err = tx.ExecContext(ctx, `INSERT INTO connections (user_id, node, conns) VALUES (?, ?, ?)
					ON CONFLICT (user_id, node) DO UPDATE SET conns = excluded.conns`, c.User, node, c.Conns)
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM connections WHERE user_id = ? AND node = ?`, c.User, node)
			}
			if err != nil {
				return err
			}
		}
		for _, p := range presence {
			var err error
			if p.In {
				_, err = tx.ExecContext(ctx, `INSERT INTO presence (room, user_id, node, name, guest, stale) VALUES (?, ?, ?, ?, ?, 0)
					ON CONFLICT (room, user_id, node) DO UPDATE SET name = excluded.name, guest = excluded.guest, stale = 0`,
					p.Room, p.User.ID, node, p.User.Name, boolInt(p.User.Guest))
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM presence WHERE room = ? AND user_id = ? AND node = ?`, p.Room, p.User.ID, node)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: write the rows of node %q: %w", node, err)
	}
	return nil
}
