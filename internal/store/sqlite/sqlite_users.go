package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// CreateUser stores an account; see store.Store. A taken id or username
// (case-insensitively) is store.ErrConflict, a username that looks like a
// taken one a *store.LookalikeError; a zero CreatedAt means now. The
// single writer makes the checks and the insert one step; the unique index
// on the skeleton is the backstop.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.CreatedAt = store.Timestamp(u.CreatedAt)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = store.Now()
	}
	key, sk := store.UsernameKey(u.Username), store.UsernameSkeleton(u.Username)
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var existing string
		err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE username_key = ?`, key).Scan(&existing)
		if err == nil {
			return store.ErrConflict
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT username FROM users WHERE username_skeleton = ?`, sk).Scan(&existing)
		if err == nil {
			return &store.LookalikeError{Username: u.Username, Existing: existing}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users
			(id, username, username_key, username_skeleton, display_name, password_hash, admin, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, key, sk, u.DisplayName, u.PasswordHash,
			boolInt(u.Admin), msgstate.Millis(u.CreatedAt))
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: create user %q: %w", u.Username, err)
	}
	return u, nil
}

const userSelect = `SELECT id, username, display_name, password_hash, admin, created_at, disabled FROM users WHERE deleted = 0`

// scanUser reads a row of userSelect.
func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var admin, disabled int
	var created int64
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &admin, &created, &disabled); err != nil {
		return store.User{}, err
	}
	u.Admin, u.Disabled, u.CreatedAt = admin != 0, disabled != 0, msgstate.FromMillis(created)
	return u, nil
}

func (s *Store) user(ctx context.Context, where string, arg string) (store.User, error) {
	db, err := s.reader()
	if err != nil {
		return store.User{}, err
	}
	u, err := scanUser(db.QueryRowContext(ctx, userSelect+` AND `+where, arg))
	if err = s.settle(ctx, notFound(err)); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// User returns an account by id; see store.Store.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	u, err := s.user(ctx, `id = ?`, id)
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: user %q: %w", id, err)
	}
	return u, nil
}

// UserByName returns an account by username, case-insensitively; see
// store.Store.
func (s *Store) UserByName(ctx context.Context, username string) (store.User, error) {
	u, err := s.user(ctx, `username_key = ?`, store.UsernameKey(username))
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: user named %q: %w", username, err)
	}
	return u, nil
}

// SetAdmin sets an account's admin flag; see store.Store.
func (s *Store) SetAdmin(ctx context.Context, userID string, admin bool) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET admin = ? WHERE id = ? AND deleted = 0`, boolInt(admin), userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: set admin of %q: %w", userID, err)
	}
	return nil
}

// SeeExternalUser records an external user's sign-in; see store.Store.
func (s *Store) SeeExternalUser(ctx context.Context, id, name string) error {
	now := msgstate.Millis(store.Now())
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO external_users (id, name, first_seen, last_seen)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`,
			id, name, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: see external user %q: %w", id, err)
	}
	return nil
}

// ExternalUser returns a recorded external user; see store.Store.
func (s *Store) ExternalUser(ctx context.Context, id string) (store.ExternalUser, error) {
	db, err := s.reader()
	if err != nil {
		return store.ExternalUser{}, err
	}
	u := store.ExternalUser{ID: id}
	var first, last int64
	err = db.QueryRowContext(ctx, `SELECT name, first_seen, last_seen FROM external_users WHERE id = ?`, id).
		Scan(&u.Name, &first, &last)
	if err = s.settle(ctx, notFound(err)); err != nil {
		return store.ExternalUser{}, fmt.Errorf("sqlite: external user %q: %w", id, err)
	}
	u.FirstSeen, u.LastSeen = msgstate.FromMillis(first), msgstate.FromMillis(last)
	return u, nil
}

// CreateSession stores a sign-in session; see store.Store. A taken id or
// token hash is store.ErrConflict; a zero CreatedAt means now.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	created := store.Timestamp(sess.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, sess.ID, sess.UserID, sess.TokenHash,
			msgstate.Millis(created), msgstate.Millis(store.Timestamp(sess.ExpiresAt)))
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session %q: %w", sess.ID, err)
	}
	return nil
}

func (s *Store) session(ctx context.Context, where, arg string) (store.Session, error) {
	db, err := s.reader()
	if err != nil {
		return store.Session{}, err
	}
	var sess store.Session
	var created, expires int64
	err = db.QueryRowContext(ctx, `SELECT id, user_id, token_hash, created_at, expires_at FROM sessions
		WHERE `+where+` AND expires_at > ?`, arg, time.Now().UnixMilli()).
		Scan(&sess.ID, &sess.UserID, &sess.TokenHash, &created, &expires)
	if err = s.settle(ctx, notFound(err)); err != nil {
		return store.Session{}, err
	}
	sess.CreatedAt, sess.ExpiresAt = msgstate.FromMillis(created), msgstate.FromMillis(expires)
	return sess, nil
}

// SessionByTokenHash finds a live session by its refresh token's hash; see
// store.Store. An expired session is store.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string) (store.Session, error) {
	sess, err := s.session(ctx, `token_hash = ?`, hash)
	if err != nil {
		// The hash is a credential: keep it out of error text and logs.
		return store.Session{}, fmt.Errorf("sqlite: session by token hash: %w", err)
	}
	return sess, nil
}

// SessionByID finds a live session by id; see store.Store.
func (s *Store) SessionByID(ctx context.Context, id string) (store.Session, error) {
	sess, err := s.session(ctx, `id = ?`, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: session %q: %w", id, err)
	}
	return sess, nil
}

// RotateSession replaces a live session's token hash and expiry; see
// store.Store. A missing or expired session is store.ErrNotFound.
func (s *Store) RotateSession(ctx context.Context, id, newHash string, expires time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET token_hash = ?, expires_at = ?
			WHERE id = ? AND expires_at > ?`,
			newHash, msgstate.Millis(store.Timestamp(expires)), id, time.Now().UnixMilli())
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate session %q: %w", id, err)
	}
	return nil
}

// DeleteSession revokes a session; see store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session %q: %w", id, err)
	}
	return nil
}
