package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

var _ store.Presence = (*Store)(nil)

// NodeStarted registers a node; see store.Presence.
func (s *Store) NodeStarted(ctx context.Context, node string, now time.Time) error {
	at := msgstate.Millis(store.Timestamp(now))
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
				[]any{node, at, at}},
			{`UPDATE presence SET stale = 1 WHERE node = ?`, []any{node}},
			{`DELETE FROM connections WHERE node = ?`, []any{node}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: start node %q: %w", node, err)
	}
	return nil
}

// NodeAlive records a heartbeat; see store.Presence.
func (s *Store) NodeAlive(ctx context.Context, node string, now time.Time) error {
	at := msgstate.Millis(store.Timestamp(now))
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, node, at, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: heartbeat of node %q: %w", node, err)
	}
	return nil
}

// ReapNodes removes the nodes that stopped sending heartbeats; see
// store.Presence.
func (s *Store) ReapNodes(ctx context.Context, deadline time.Time) ([]store.PresenceGone, error) {
	var gone []store.PresenceGone
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM nodes WHERE heartbeat_at < ?`, msgstate.Millis(store.Timestamp(deadline)))
		if err != nil {
			return err
		}
		var dead []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			dead = append(dead, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(dead) == 0 {
			return err
		}
		gone, err = removeNodes(ctx, tx, dead)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reap nodes: %w", err)
	}
	return gone, nil
}

// removeNodes deletes nodes with their rows and returns who is gone.
func removeNodes(ctx context.Context, tx *writeTx, nodes []string) ([]store.PresenceGone, error) {
	var gone []store.PresenceGone
	for _, node := range nodes {
		g, err := dropPresence(ctx, tx, `node = ?`, node)
		if err != nil {
			return nil, err
		}
		gone = append(gone, g...)
		for _, q := range []string{`DELETE FROM connections WHERE node = ?`, `DELETE FROM nodes WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, node); err != nil {
				return nil, err
			}
		}
	}
	return gone, nil
}

// dropPresence deletes the presence rows where cond holds and returns the
// users those rows were the last of in their rooms.
func dropPresence(ctx context.Context, tx *writeTx, cond string, args ...any) ([]store.PresenceGone, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM presence WHERE `+cond+` RETURNING room, user_id, name, guest`, args...)
	if err != nil {
		return nil, err
	}
	var removed []store.PresenceGone
	for rows.Next() {
		var g store.PresenceGone
		var guest int
		if err := rows.Scan(&g.Room, &g.User.ID, &g.User.Name, &guest); err != nil {
			rows.Close()
			return nil, err
		}
		g.User.Guest = guest != 0
		removed = append(removed, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(removed, func(a, b store.PresenceGone) int {
		return cmp.Or(strings.Compare(a.Room, b.Room), strings.Compare(a.User.ID, b.User.ID))
	})
	var gone []store.PresenceGone
	for i, g := range removed {
		if i > 0 && removed[i-1].Room == g.Room && removed[i-1].User.ID == g.User.ID {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM presence WHERE room = ? AND user_id = ?`, g.Room, g.User.ID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			gone = append(gone, g)
		}
	}
	return gone, nil
}

// DropStale removes a node's unconfirmed rows; see store.Presence.
func (s *Store) DropStale(ctx context.Context, node string) ([]store.PresenceGone, error) {
	var gone []store.PresenceGone
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var err error
		gone, err = dropPresence(ctx, tx, `node = ? AND stale = 1`, node)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: drop stale presence of node %q: %w", node, err)
	}
	return gone, nil
}

// JoinPresence records a user in a room through a node; see
// store.Presence.
func (s *Store) JoinPresence(ctx context.Context, room, node string, u store.PresenceUser) (bool, error) {
	var first bool
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM presence WHERE room = ? AND user_id = ?`, room, u.ID).Scan(&n); err != nil {
			return err
		}
		first = n == 0
		_, err := tx.ExecContext(ctx, `INSERT INTO presence (room, user_id, node, name, guest, stale) VALUES (?, ?, ?, ?, ?, 0)
			ON CONFLICT (room, user_id, node) DO UPDATE SET name = excluded.name, guest = excluded.guest, stale = 0`,
			room, u.ID, node, u.Name, boolInt(u.Guest))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: presence of %q in %q: %w", u.ID, room, err)
	}
	return first, nil
}

// LeavePresence removes a user from a room through a node; see
// store.Presence.
func (s *Store) LeavePresence(ctx context.Context, room, node, userID string) (bool, error) {
	var last bool
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM presence WHERE room = ? AND user_id = ? AND node = ?`, room, userID, node); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM presence WHERE room = ? AND user_id = ?`, room, userID).Scan(&n)
		last = n == 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: presence of %q in %q: %w", userID, room, err)
	}
	return last, nil
}

// RoomPresence lists who is in a room; see store.Presence.
func (s *Store) RoomPresence(ctx context.Context, room string, limit int) ([]store.PresenceUser, int, error) {
	users, total, err := s.roomPresence(ctx, room, limit)
	if err = s.settle(ctx, err); err != nil {
		return nil, 0, fmt.Errorf("sqlite: presence in %q: %w", room, err)
	}
	return users, total, nil
}

func (s *Store) roomPresence(ctx context.Context, room string, limit int) ([]store.PresenceUser, int, error) {
	db, err := s.reader()
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT user_id) FROM presence WHERE room = ?`, room).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.QueryContext(ctx, `SELECT user_id, max(name), max(guest) FROM presence WHERE room = ?
		GROUP BY user_id ORDER BY user_id LIMIT ?`, room, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	users := make([]store.PresenceUser, 0, min(limit, total))
	for rows.Next() {
		var u store.PresenceUser
		var guest int
		if err := rows.Scan(&u.ID, &u.Name, &guest); err != nil {
			return nil, 0, err
		}
		u.Guest = guest != 0
		users = append(users, u)
	}
	return users, total, rows.Err()
}

// AddConnection counts a connection; see store.Presence.
func (s *Store) AddConnection(ctx context.Context, node, userID string, max int) (int, bool, error) {
	var before int
	var ok bool
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = ?`, userID).Scan(&before); err != nil {
			return err
		}
		if max > 0 && before >= max {
			return nil
		}
		ok = true
		_, err := tx.ExecContext(ctx, `INSERT INTO connections (user_id, node, conns) VALUES (?, ?, 1)
			ON CONFLICT (user_id, node) DO UPDATE SET conns = conns + 1`, userID, node)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: count a connection of %q: %w", userID, err)
	}
	return before, ok, nil
}

// RemoveConnection counts a connection less; see store.Presence.
func (s *Store) RemoveConnection(ctx context.Context, node, userID string) (int, error) {
	var left int
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE connections SET conns = conns - 1 WHERE user_id = ? AND node = ?`, userID, node); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE user_id = ? AND node = ? AND conns <= 0`, userID, node); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = ?`, userID).Scan(&left)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: count a connection of %q less: %w", userID, err)
	}
	return left, nil
}

// Connections returns a user's connections; see store.Presence.
func (s *Store) Connections(ctx context.Context, userID string) (int, error) {
	var n int
	db, err := s.reader()
	if err == nil {
		err = db.QueryRowContext(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = ?`, userID).Scan(&n)
	}
	if err = s.settle(ctx, err); err != nil {
		return 0, fmt.Errorf("sqlite: connections of %q: %w", userID, err)
	}
	return n, nil
}
