package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// DeleteRoom deletes a room and, through the schema's cascades, its
// members, messages, log and sanctions; see store.Store.
func (s *Store) DeleteRoom(ctx context.Context, name string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		// A room made again under this name starts its sequence afresh.
		delete(tx.seqs.cur, name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete room %q: %w", name, err)
	}
	return nil
}

// OwnedRooms counts the named rooms userID owns; see store.Store.
func (s *Store) OwnedRooms(ctx context.Context, userID string) (int, error) {
	var n int
	db, err := s.reader()
	if err == nil {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM rooms WHERE owner = ? AND kind = 'room'`, userID).Scan(&n)
	}
	if err = s.settle(ctx, err); err != nil {
		return 0, fmt.Errorf("sqlite: rooms owned by %q: %w", userID, err)
	}
	return n, nil
}

// Sanction bans or mutes a user in a room; see store.Store.
func (s *Store) Sanction(ctx context.Context, sn store.Sanction) error {
	at := store.Timestamp(sn.CreatedAt)
	if at.IsZero() {
		at = store.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sanctions (room, user_id, kind, reason, by_user, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (room, user_id, kind) DO UPDATE SET reason = excluded.reason,
			by_user = excluded.by_user, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			sn.Room, sn.UserID, string(sn.Kind), sn.Reason, sn.By, msgstate.Millis(at), msgstate.Millis(store.Timestamp(sn.ExpiresAt)))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil || sn.Kind != store.SanctionBan {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM members WHERE room = ? AND user_id = ?`, sn.Room, sn.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s %q in room %q: %w", sn.Kind, sn.UserID, sn.Room, err)
	}
	return nil
}

// Unsanction lifts a sanction in force; see store.Store. An expired one is
// removed too, but reported as store.ErrNotFound.
func (s *Store) Unsanction(ctx context.Context, room, userID string, kind store.SanctionKind) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var expires int64
		err := tx.QueryRowContext(ctx, `DELETE FROM sanctions WHERE room = ? AND user_id = ? AND kind = ? RETURNING expires_at`,
			room, userID, string(kind)).Scan(&expires)
		if err != nil {
			return notFound(err)
		}
		if expires != 0 && expires <= msgstate.Millis(store.Now()) {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: lift the %s of %q in room %q: %w", kind, userID, room, err)
	}
	return nil
}

// Sanctions lists the sanctions in force in a room; see store.Store.
func (s *Store) Sanctions(ctx context.Context, room, userID string) ([]store.Sanction, error) {
	out, err := s.sanctions(ctx, room, userID)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: sanctions in room %q: %w", room, err)
	}
	return out, nil
}

func (s *Store) sanctions(ctx context.Context, room, userID string) ([]store.Sanction, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT room, user_id, kind, reason, by_user, created_at, expires_at FROM sanctions
		WHERE room = ? AND (? = '' OR user_id = ?) AND (expires_at = 0 OR expires_at > ?)
		ORDER BY created_at, user_id, kind`, room, userID, userID, msgstate.Millis(store.Now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Sanction
	for rows.Next() {
		var sn store.Sanction
		var kind string
		var created, expires int64
		if err := rows.Scan(&sn.Room, &sn.UserID, &kind, &sn.Reason, &sn.By, &created, &expires); err != nil {
			return nil, err
		}
		sn.Kind, sn.CreatedAt = store.SanctionKind(kind), msgstate.FromMillis(created)
		if expires != 0 {
			sn.ExpiresAt = msgstate.FromMillis(expires)
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// AddAudit appends an entry to the audit log; see store.Store.
func (s *Store) AddAudit(ctx context.Context, e store.AuditEntry) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, actor_name, action, room, target, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, msgstate.Millis(store.Timestamp(e.At)), e.Actor, e.ActorName,
			e.Action, e.Room, e.Target, e.Detail)
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit reads the audit log, newest first; see store.Store.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	out, err := s.audit(ctx, q)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: audit log: %w", err)
	}
	return out, nil
}

func (s *Store) audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, at, actor, actor_name, action, room, target, detail FROM audit_log
		WHERE (? = '' OR id < ?) AND (? = '' OR action = ?) AND (? = '' OR room = ?) AND (? = '' OR actor = ?)
		ORDER BY id DESC LIMIT ?`, q.Before, q.Before, q.Action, q.Action, q.Room, q.Room, q.Actor, q.Actor,
		store.ClampLimit(q.Limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorName, &e.Action, &e.Room, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = msgstate.FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
