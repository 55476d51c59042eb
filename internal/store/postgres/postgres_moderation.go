package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// DeleteRoom deletes a room and, through the schema's cascades, its
// members, messages, log and sanctions; see store.Store.
func (s *Store) DeleteRoom(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM rooms WHERE name = $1`, name)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete room %q: %w", name, err)
	}
	return nil
}

// OwnedRooms counts the named rooms userID owns; see store.Store.
func (s *Store) OwnedRooms(ctx context.Context, userID string) (int, error) {
	var n int
	db, err := s.db()
	if err == nil {
		err = db.QueryRow(ctx, `SELECT count(*) FROM rooms WHERE owner = $1 AND kind = 'room'`, userID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: rooms owned by %q: %w", userID, s.check(err))
	}
	return n, nil
}

// nullTime is t for a nullable column: NULL when zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = store.Timestamp(t)
	return &t
}

// Sanction bans or mutes a user in a room; see store.Store.
func (s *Store) Sanction(ctx context.Context, sn store.Sanction) error {
	at := store.Timestamp(sn.CreatedAt)
	if at.IsZero() {
		at = store.Now()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sanctions (room, user_id, kind, reason, by_user, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (room, user_id, kind) DO UPDATE SET reason = excluded.reason,
			by_user = excluded.by_user, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			sn.Room, sn.UserID, string(sn.Kind), sn.Reason, sn.By, at, nullTime(sn.ExpiresAt))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil || sn.Kind != store.SanctionBan {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM members WHERE room = $1 AND user_id = $2`, sn.Room, sn.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: %s %q in room %q: %w", sn.Kind, sn.UserID, sn.Room, err)
	}
	return nil
}

// Unsanction lifts a sanction in force; see store.Store. An expired one is
// removed too, but reported as store.ErrNotFound.
func (s *Store) Unsanction(ctx context.Context, room, userID string, kind store.SanctionKind) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		var expires *time.Time
		err := tx.QueryRow(ctx, `DELETE FROM sanctions WHERE room = $1 AND user_id = $2 AND kind = $3 RETURNING expires_at`,
			room, userID, string(kind)).Scan(&expires)
		if err != nil {
			return notFound(err)
		}
		if expires != nil && !store.Now().Before(*expires) {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: lift the %s of %q in room %q: %w", kind, userID, room, err)
	}
	return nil
}

// Sanctions lists the sanctions in force in a room; see store.Store.
func (s *Store) Sanctions(ctx context.Context, room, userID string) ([]store.Sanction, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		rows, err = db.Query(ctx, `SELECT room, user_id, kind, reason, by_user, created_at, expires_at FROM sanctions
			WHERE room = $1 AND ($2 = '' OR user_id = $2) AND (expires_at IS NULL OR expires_at > $3)
			ORDER BY created_at, user_id COLLATE "C", kind`, room, userID, store.Now())
		if err == nil {
			var out []store.Sanction
			if out, err = collect(rows, scanSanction); err == nil {
				return out, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: sanctions in room %q: %w", room, s.check(err))
}

func scanSanction(row pgx.Row) (store.Sanction, error) {
	var sn store.Sanction
	var kind string
	var expires *time.Time
	if err := row.Scan(&sn.Room, &sn.UserID, &kind, &sn.Reason, &sn.By, &sn.CreatedAt, &expires); err != nil {
		return store.Sanction{}, err
	}
	sn.Kind, sn.CreatedAt = store.SanctionKind(kind), utc(sn.CreatedAt)
	if expires != nil {
		sn.ExpiresAt = utc(*expires)
	}
	return sn, nil
}

// AddAudit appends an entry to the audit log; see store.Store.
func (s *Store) AddAudit(ctx context.Context, e store.AuditEntry) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO audit_log (id, at, actor, actor_name, action, room, target, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, store.Timestamp(e.At), e.Actor, e.ActorName,
			e.Action, e.Room, e.Target, e.Detail)
		if isUnique(err) {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: audit %s: %w", e.Action, s.check(err))
	}
	return nil
}

// Audit reads the audit log, newest first; see store.Store.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		rows, err = db.Query(ctx, `SELECT id, at, actor, actor_name, action, room, target, detail FROM audit_log
			WHERE ($1 = '' OR id < $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR room = $3) AND ($4 = '' OR actor = $4)
			ORDER BY id DESC LIMIT $5`, q.Before, q.Action, q.Room, q.Actor, store.ClampLimit(q.Limit))
		if err == nil {
			var out []store.AuditEntry
			if out, err = collect(rows, scanAudit); err == nil {
				return out, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: audit log: %w", s.check(err))
}

func scanAudit(row pgx.Row) (store.AuditEntry, error) {
	var e store.AuditEntry
	if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.ActorName, &e.Action, &e.Room, &e.Target, &e.Detail); err != nil {
		return store.AuditEntry{}, err
	}
	e.At = utc(e.At)
	return e, nil
}
