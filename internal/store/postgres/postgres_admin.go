package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// Users lists every account, oldest first; see store.Store.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	users, err := s.users(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", s.check(err))
	}
	return users, nil
}

func (s *Store) users(ctx context.Context) ([]store.User, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, userSelect+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// SetPasswordHash replaces an account's password hash and ends its
// sessions in the same transaction; see store.Store.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash, keepSession string) (int, error) {
	live, err := s.updateUser(ctx, userID, keepSession, `UPDATE users SET password_hash = $2 WHERE id = $1 AND NOT deleted`, userID, hash)
	if err != nil {
		return 0, fmt.Errorf("postgres: set the password hash of %q: %w", userID, err)
	}
	return live, nil
}

// SetDisabled disables or enables an account; see store.Store.
func (s *Store) SetDisabled(ctx context.Context, userID string, disabled bool) (int, error) {
	keep := noSignOut
	if disabled {
		keep = ""
	}
	live, err := s.updateUser(ctx, userID, keep, `UPDATE users SET disabled = $2 WHERE id = $1 AND NOT deleted`, userID, disabled)
	if err != nil {
		return 0, fmt.Errorf("postgres: set %q disabled %v: %w", userID, disabled, err)
	}
	return live, nil
}

// noSignOut, as updateUser's keepSession, ends no session.
const noSignOut = "\x00keep all"

// updateUser runs update, which must change the account userID (its $1),
// and ends its sessions but keepSession (every one for "", none for
// noSignOut) in the same transaction, returning how many of them were
// live.
func (s *Store) updateUser(ctx context.Context, userID, keepSession string, update string, args ...any) (int, error) {
	var live int
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, update, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if keepSession == noSignOut {
			return nil
		}
		live, err = endSessions(ctx, tx, userID, keepSession)
		return err
	})
	return live, err
}

// endSessions deletes userID's sessions but keep and returns how many of
// them were live. Expiry is compared with this node's clock, as everywhere
// else.
func endSessions(ctx context.Context, tx pgx.Tx, userID, keep string) (int, error) {
	var live int
	err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM sessions WHERE user_id = $1 AND id <> $3 RETURNING expires_at)
		SELECT count(*) FROM gone WHERE expires_at > $2`, userID, time.Now(), keep).Scan(&live)
	return live, err
}

// SetDisplayName changes an account's display name; see store.Store.
func (s *Store) SetDisplayName(ctx context.Context, userID, name string) error {
	_, err := s.updateUser(ctx, userID, noSignOut, `UPDATE users SET display_name = $2 WHERE id = $1 AND NOT deleted`, userID, name)
	if err != nil {
		return fmt.Errorf("postgres: set the display name of %q: %w", userID, err)
	}
	return nil
}

// DeleteUser deletes an account, leaving a row that keeps its username
// taken; see store.Store.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	var live int
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET deleted = true, disabled = true, admin = false, password_hash = '',
			display_name = $2 WHERE id = $1 AND NOT deleted`, userID, store.DeletedUserName)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if live, err = endSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM members WHERE user_id = $1`,
			`DELETE FROM subscriptions WHERE user_id = $1`,
			`DELETE FROM notification_recipients WHERE user_id = $1`,
			`DELETE FROM sanctions WHERE user_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete user %q: %w", userID, err)
	}
	return live, nil
}
