package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

var _ store.Presence = (*Store)(nil)

// NodeStarted registers a node; see store.Presence.
func (s *Store) NodeStarted(ctx context.Context, node string, now time.Time) error {
	at := store.Timestamp(now)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
			ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`, node, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE presence SET stale = true WHERE node = $1`, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM connections WHERE node = $1`, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: start node %q: %w", node, err)
	}
	return nil
}

// NodeAlive records a heartbeat; see store.Presence.
func (s *Store) NodeAlive(ctx context.Context, node string, now time.Time) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, node, store.Timestamp(now))
	}
	if err != nil {
		return fmt.Errorf("postgres: heartbeat of node %q: %w", node, s.check(err))
	}
	return nil
}

// ReapNodes removes the nodes that stopped sending heartbeats; see
// store.Presence. The nodes are locked with SKIP LOCKED, so nodes reaping
// at once split them rather than report a user twice.
func (s *Store) ReapNodes(ctx context.Context, deadline time.Time) ([]store.PresenceGone, error) {
	var gone []store.PresenceGone
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM nodes WHERE heartbeat_at < $1 FOR UPDATE SKIP LOCKED`, store.Timestamp(deadline))
		if err != nil {
			return err
		}
		dead, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(dead) == 0 {
			return err
		}
		gone, err = removeNodes(ctx, tx, dead)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reap nodes: %w", err)
	}
	return gone, nil
}

// removeNodes deletes nodes with their rows and returns who is gone.
func removeNodes(ctx context.Context, tx pgx.Tx, nodes []string) ([]store.PresenceGone, error) {
	gone, err := dropPresence(ctx, tx, `node = ANY($1)`, nodes)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE node = ANY($1)`, nodes); err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `DELETE FROM nodes WHERE id = ANY($1)`, nodes)
	return gone, err
}

// dropPresence deletes the presence rows where cond ($1) holds and returns
// the users those rows were the last of in their rooms. (The check is a
// second statement: a statement's WITH parts all see the table as it was
// before any of them ran.)
func dropPresence(ctx context.Context, tx pgx.Tx, cond string, arg any) ([]store.PresenceGone, error) {
	rows, err := tx.Query(ctx, `DELETE FROM presence WHERE `+cond+` RETURNING room, user_id, name, guest`, arg)
	if err != nil {
		return nil, err
	}
	removed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PresenceGone, error) {
		var g store.PresenceGone
		err := row.Scan(&g.Room, &g.User.ID, &g.User.Name, &g.User.Guest)
		return g, err
	})
	if err != nil || len(removed) == 0 {
		return nil, err
	}
	byKey := make(map[[2]string]store.PresenceGone, len(removed))
	rooms, users := make([]string, 0, len(removed)), make([]string, 0, len(removed))
	for _, g := range removed {
		k := [2]string{g.Room, g.User.ID}
		if _, dup := byKey[k]; !dup {
			byKey[k] = g
			rooms, users = append(rooms, g.Room), append(users, g.User.ID)
		}
	}
	rows, err = tx.Query(ctx, `SELECT r.room, r.user_id FROM unnest($1::text[], $2::text[]) AS r(room, user_id)
		WHERE NOT EXISTS (SELECT 1 FROM presence p WHERE p.room = r.room AND p.user_id = r.user_id)
		ORDER BY r.room COLLATE "C", r.user_id COLLATE "C"`, rooms, users)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PresenceGone, error) {
		var k [2]string
		if err := row.Scan(&k[0], &k[1]); err != nil {
			return store.PresenceGone{}, err
		}
		return byKey[k], nil
	})
}

// DropStale removes a node's unconfirmed rows; see store.Presence.
func (s *Store) DropStale(ctx context.Context, node string) ([]store.PresenceGone, error) {
	var gone []store.PresenceGone
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		gone, err = dropPresence(ctx, tx, `node = $1 AND stale`, node)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: drop stale presence of node %q: %w", node, err)
	}
	return gone, nil
}

// JoinPresence records a user in a room through a node; see
// store.Presence.
func (s *Store) JoinPresence(ctx context.Context, room, node string, u store.PresenceUser) (bool, error) {
	var first bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM presence WHERE room = $1 AND user_id = $2)`,
			room, u.ID).Scan(&first); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO presence (room, user_id, node, name, guest, stale) VALUES ($1, $2, $3, $4, $5, false)
			ON CONFLICT (room, user_id, node) DO UPDATE SET name = excluded.name, guest = excluded.guest, stale = false`,
			room, u.ID, node, u.Name, u.Guest)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: presence of %q in %q: %w", u.ID, room, err)
	}
	return first, nil
}

// LeavePresence removes a user from a room through a node; see
// store.Presence.
func (s *Store) LeavePresence(ctx context.Context, room, node, userID string) (bool, error) {
	var last bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM presence WHERE room = $1 AND user_id = $2 AND node = $3`, room, userID, node); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM presence WHERE room = $1 AND user_id = $2)`, room, userID).Scan(&last)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: presence of %q in %q: %w", userID, room, err)
	}
	return last, nil
}

// RoomPresence lists who is in a room; see store.Presence.
func (s *Store) RoomPresence(ctx context.Context, room string, limit int) ([]store.PresenceUser, int, error) {
	db, err := s.db()
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: presence in %q: %w", room, err)
	}
	var total int
	if err := db.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM presence WHERE room = $1`, room).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres: presence in %q: %w", room, s.check(err))
	}
	rows, err := db.Query(ctx, `SELECT user_id, max(name), bool_or(guest) FROM presence WHERE room = $1
		GROUP BY user_id ORDER BY user_id COLLATE "C" LIMIT $2`, room, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: presence in %q: %w", room, s.check(err))
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PresenceUser, error) {
		var u store.PresenceUser
		err := row.Scan(&u.ID, &u.Name, &u.Guest)
		return u, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: presence in %q: %w", room, s.check(err))
	}
	if users == nil {
		users = []store.PresenceUser{}
	}
	return users, total, nil
}

// AddConnection counts a connection; see store.Presence. The user's rows
// are locked first, so two nodes adding at once cannot both pass the
// limit.
func (s *Store) AddConnection(ctx context.Context, node, userID string, max int) (int, bool, error) {
	var before int
	var ok bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		// An advisory lock on the user serialises counting, rows or not.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, userID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = $1`, userID).Scan(&before); err != nil {
			return err
		}
		if max > 0 && before >= max {
			return nil
		}
		ok = true
		_, err := tx.Exec(ctx, `INSERT INTO connections (user_id, node, conns) VALUES ($1, $2, 1)
			ON CONFLICT (user_id, node) DO UPDATE SET conns = connections.conns + 1`, userID, node)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("postgres: count a connection of %q: %w", userID, err)
	}
	return before, ok, nil
}

// RemoveConnection counts a connection less; see store.Presence.
func (s *Store) RemoveConnection(ctx context.Context, node, userID string) (int, error) {
	var left int
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE connections SET conns = conns - 1 WHERE user_id = $1 AND node = $2`, userID, node); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE user_id = $1 AND node = $2 AND conns <= 0`, userID, node); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = $1`, userID).Scan(&left)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: count a connection of %q less: %w", userID, err)
	}
	return left, nil
}

// Connections returns a user's connections; see store.Presence.
func (s *Store) Connections(ctx context.Context, userID string) (int, error) {
	var n int
	db, err := s.db()
	if err == nil {
		err = db.QueryRow(ctx, `SELECT coalesce(sum(conns), 0) FROM connections WHERE user_id = $1`, userID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: connections of %q: %w", userID, s.check(err))
	}
	return n, nil
}
