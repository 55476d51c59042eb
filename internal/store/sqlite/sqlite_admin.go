package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Users lists every account, oldest first; see store.Store.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	users, err := s.users(ctx)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return users, nil
}

func (s *Store) users(ctx context.Context) ([]store.User, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, userSelect+` ORDER BY created_at, id`)
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
	live, err := s.updateUser(ctx, userID, keepSession, `UPDATE users SET password_hash = ? WHERE id = ? AND deleted = 0`, hash, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: set the password hash of %q: %w", userID, err)
	}
	return live, nil
}

// SetDisabled disables or enables an account; see store.Store.
func (s *Store) SetDisabled(ctx context.Context, userID string, disabled bool) (int, error) {
	keep := noSignOut
	if disabled {
		keep = ""
	}
	live, err := s.updateUser(ctx, userID, keep, `UPDATE users SET disabled = ? WHERE id = ? AND deleted = 0`, boolInt(disabled), userID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: set %q disabled %v: %w", userID, disabled, err)
	}
	return live, nil
}

// noSignOut, as updateUser's keepSession, ends no session.
const noSignOut = "\x00keep all"

// updateUser runs update, which must change the account userID, and ends
// its sessions but keepSession (every one for "", none for noSignOut) in
// the same transaction, returning how many of them were live.
func (s *Store) updateUser(ctx context.Context, userID, keepSession string, update string, args ...any) (int, error) {
	var live int
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, update, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
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
// them were live.
func endSessions(ctx context.Context, tx *writeTx, userID, keep string) (int, error) {
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND id <> ? AND expires_at > ?`,
		userID, keep, time.Now().UnixMilli()).Scan(&live); err != nil {
		return 0, err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep)
	return live, err
}

// SetDisplayName changes an account's display name; see store.Store.
func (s *Store) SetDisplayName(ctx context.Context, userID, name string) error {
	_, err := s.updateUser(ctx, userID, noSignOut, `UPDATE users SET display_name = ? WHERE id = ? AND deleted = 0`, name, userID)
	if err != nil {
		return fmt.Errorf("sqlite: set the display name of %q: %w", userID, err)
	}
	return nil
}

// DeleteUser deletes an account, leaving a row that keeps its username
// taken; see store.Store.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	var live int
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET deleted = 1, disabled = 1, admin = 0, password_hash = '',
			display_name = ? WHERE id = ? AND deleted = 0`, store.DeletedUserName, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		if live, err = endSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM members WHERE user_id = ?`,
			`DELETE FROM subscriptions WHERE user_id = ?`,
			`DELETE FROM notification_recipients WHERE user_id = ?`,
			`DELETE FROM sanctions WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete user %q: %w", userID, err)
	}
	return live, nil
}
