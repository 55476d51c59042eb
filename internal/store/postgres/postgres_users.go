package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley/internal/store"
)

// CreateUser stores an account; see store.Store. A taken id or username
// (case-insensitively) is store.ErrConflict, a username that looks like a
// taken one a *store.LookalikeError; a zero CreatedAt means now. The unique
// index on the skeleton decides, so two nodes creating look-alikes at once
// cannot both succeed.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.CreatedAt = store.Timestamp(u.CreatedAt)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = store.Now()
	}
	key, sk := store.UsernameKey(u.Username), store.UsernameSkeleton(u.Username)
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO users
			(id, username, username_key, username_skeleton, display_name, password_hash, admin, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.ID, u.Username, key, sk, u.DisplayName, u.PasswordHash, u.Admin, u.CreatedAt)
		if isUnique(err) {
			err = uniqueUser(ctx, db, err, u.Username, key, sk)
		}
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: create user %q: %w", u.Username, s.check(err))
	}
	return u, nil
}

// uniqueUser says which rule a refused insert of an account broke: a taken
// username or id (store.ErrConflict), or a look-alike (*store.LookalikeError).
// PostgreSQL names only the first index that failed, so a look-alike
// report is checked against the username too: the same name is a
// conflict, not a look-alike.
func uniqueUser(ctx context.Context, db querier, err error, username, key, sk string) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.ConstraintName != skeletonIndex {
		return store.ErrConflict
	}
	var existing, existingKey string
	qerr := db.QueryRow(ctx, `SELECT username, username_key FROM users WHERE username_skeleton = $1`, sk).Scan(&existing, &existingKey)
	switch {
	case qerr != nil:
		// Accounts are never removed (a deleted one keeps its row), so
		// the holder is there: this is a database fault.
		return fmt.Errorf("find the username %q looks like: %w", username, qerr)
	case existingKey == key:
		return store.ErrConflict
	}
	return &store.LookalikeError{Username: username, Existing: existing}
}

const userSelect = `SELECT id, username, display_name, password_hash, admin, created_at, disabled FROM users WHERE deleted = false`

// scanUser reads a row of userSelect.
func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.CreatedAt, &u.Disabled); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = utc(u.CreatedAt)
	return u, nil
}

func (s *Store) user(ctx context.Context, where, arg string) (store.User, error) {
	db, err := s.db()
	if err != nil {
		return store.User{}, err
	}
	u, err := scanUser(db.QueryRow(ctx, userSelect+` AND `+where, arg))
	if err != nil {
		return store.User{}, s.check(notFound(err))
	}
	return u, nil
}

// User returns an account by id; see store.Store.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	u, err := s.user(ctx, `id = $1`, id)
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: user %q: %w", id, err)
	}
	return u, nil
}

// UserByName returns an account by username, case-insensitively; see
// store.Store.
func (s *Store) UserByName(ctx context.Context, username string) (store.User, error) {
	u, err := s.user(ctx, `username_key = $1`, store.UsernameKey(username))
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: user named %q: %w", username, err)
	}
	return u, nil
}

// SetAdmin sets an account's admin flag; see store.Store.
func (s *Store) SetAdmin(ctx context.Context, userID string, admin bool) error {
	db, err := s.db()
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = db.Exec(ctx, `UPDATE users SET admin = $2 WHERE id = $1 AND NOT deleted`, userID, admin)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: set admin of %q: %w", userID, s.check(err))
	}
	return nil
}

// SeeExternalUser records an external user's sign-in; see store.Store.
func (s *Store) SeeExternalUser(ctx context.Context, id, name string) error {
	db, err := s.db()
	if err == nil {
		now := store.Now()
		_, err = db.Exec(ctx, `INSERT INTO external_users (id, name, first_seen, last_seen)
			VALUES ($1, $2, $3, $3)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`, id, name, now)
	}
	if err != nil {
		return fmt.Errorf("postgres: see external user %q: %w", id, s.check(err))
	}
	return nil
}

// ExternalUser returns a recorded external user; see store.Store.
func (s *Store) ExternalUser(ctx context.Context, id string) (store.ExternalUser, error) {
	db, err := s.db()
	u := store.ExternalUser{ID: id}
	if err == nil {
		err = db.QueryRow(ctx, `SELECT name, first_seen, last_seen FROM external_users WHERE id = $1`, id).
			Scan(&u.Name, &u.FirstSeen, &u.LastSeen)
		err = notFound(err)
	}
	if err != nil {
		return store.ExternalUser{}, fmt.Errorf("postgres: external user %q: %w", id, s.check(err))
	}
	u.FirstSeen, u.LastSeen = utc(u.FirstSeen), utc(u.LastSeen)
	return u, nil
}

// CreateSession stores a sign-in session; see store.Store. A taken id or
// token hash is store.ErrConflict; a zero CreatedAt means now.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	created := store.Timestamp(sess.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, sess.ID, sess.UserID, sess.TokenHash, created, store.Timestamp(sess.ExpiresAt))
		if isUnique(err) {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: create session %q: %w", sess.ID, s.check(err))
	}
	return nil
}

func (s *Store) session(ctx context.Context, where, arg string) (store.Session, error) {
	db, err := s.db()
	if err != nil {
		return store.Session{}, err
	}
	var sess store.Session
	// Expiry is compared with this node's clock, as SQLite does, not the
	// database's now(), so both backends agree on what "expired" means.
	err = db.QueryRow(ctx, `SELECT id, user_id, token_hash, created_at, expires_at FROM sessions
		WHERE `+where+` AND expires_at > $2`, arg, time.Now()).
		Scan(&sess.ID, &sess.UserID, &sess.TokenHash, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return store.Session{}, s.check(notFound(err))
	}
	sess.CreatedAt, sess.ExpiresAt = utc(sess.CreatedAt), utc(sess.ExpiresAt)
	return sess, nil
}

// SessionByTokenHash finds a live session by its refresh token's hash; see
// store.Store. An expired session is store.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string) (store.Session, error) {
	sess, err := s.session(ctx, `token_hash = $1`, hash)
	if err != nil {
		// The hash is a credential: keep it out of error text and logs.
		return store.Session{}, fmt.Errorf("postgres: session by token hash: %w", err)
	}
	return sess, nil
}

// SessionByID finds a live session by id; see store.Store.
func (s *Store) SessionByID(ctx context.Context, id string) (store.Session, error) {
	sess, err := s.session(ctx, `id = $1`, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: session %q: %w", id, err)
	}
	return sess, nil
}

// RotateSession replaces a live session's token hash and expiry; see
// store.Store. A missing or expired session is store.ErrNotFound.
func (s *Store) RotateSession(ctx context.Context, id, newHash string, expires time.Time) error {
	db, err := s.db()
	if err == nil {
		tag, e := db.Exec(ctx, `UPDATE sessions SET token_hash = $1, expires_at = $2 WHERE id = $3 AND expires_at > $4`,
			newHash, store.Timestamp(expires), id, time.Now())
		switch err = e; {
		case isUnique(err):
			err = store.ErrConflict
		case err == nil && tag.RowsAffected() == 0:
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: rotate session %q: %w", id, s.check(err))
	}
	return nil
}

// DeleteSession revokes a session; see store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete session %q: %w", id, s.check(err))
	}
	return nil
}
