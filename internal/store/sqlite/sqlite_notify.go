package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// recipientChunk is how many recipients one INSERT writes: two variables
// each, far below SQLite's limit of 32,766.
const recipientChunk = 500

// Subscribe subscribes a user to a pattern; see store.Store.
func (s *Store) Subscribe(ctx context.Context, userID, pattern string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (user_id, pattern, created_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, userID, pattern, msgstate.Millis(store.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: subscribe %q to %q: %w", userID, pattern, err)
	}
	return nil
}

// Unsubscribe ends a subscription; see store.Store.
func (s *Store) Unsubscribe(ctx context.Context, userID, pattern string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE user_id = ? AND pattern = ?`, userID, pattern)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: unsubscribe %q from %q: %w", userID, pattern, err)
	}
	return nil
}

// Subscriptions lists a user's patterns; see store.Store.
func (s *Store) Subscriptions(ctx context.Context, userID string) ([]string, error) {
	out, err := s.column(ctx, `SELECT pattern FROM subscriptions WHERE user_id = ? ORDER BY pattern`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscriptions of %q: %w", userID, err)
	}
	return out, nil
}

// Subscribers lists the users subscribed to any of patterns; see
// store.Store.
func (s *Store) Subscribers(ctx context.Context, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	args := make([]any, len(patterns))
	for i, p := range patterns {
		args[i] = p
	}
	q := `SELECT DISTINCT user_id FROM subscriptions WHERE pattern IN (?` + strings.Repeat(", ?", len(patterns)-1) + `) ORDER BY user_id`
	out, err := s.column(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscribers: %w", err)
	}
	return out, nil
}

// AllUsers lists every account and external user; see store.Store.
func (s *Store) AllUsers(ctx context.Context) ([]string, error) {
	out, err := s.column(ctx, `SELECT id FROM users WHERE deleted = 0 UNION SELECT id FROM external_users ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: all users: %w", err)
	}
	return out, nil
}

// column runs a read that yields one string column.
func (s *Store) column(ctx context.Context, query string, args ...any) ([]string, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.settle(ctx, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.settle(ctx, nil)
}

// CreateNotification stores a notification and its recipients; see
// store.Store.
func (s *Store) CreateNotification(ctx context.Context, n store.Notification, recipients []string) error {
	created := store.Timestamp(n.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, topic, title, body, data, link, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, n.Topic, n.Title, n.Body, n.Data, n.Link, msgstate.Millis(created), n.CreatedBy)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		for start := 0; start < len(recipients); start += recipientChunk {
			chunk := recipients[start:min(start+recipientChunk, len(recipients))]
			args := make([]any, 0, 2*len(chunk))
			for _, u := range chunk {
				args = append(args, u, n.ID)
			}
			q := `INSERT INTO notification_recipients (user_id, notification_id) VALUES (?, ?)` +
				strings.Repeat(", (?, ?)", len(chunk)-1)
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create notification %q for %d: %w", n.ID, len(recipients), err)
	}
	return nil
}

// Notifications returns a user's notifications; see store.Store.
func (s *Store) Notifications(ctx context.Context, userID string, q store.NotificationQuery) ([]store.UserNotification, error) {
	out, err := s.notifications(ctx, userID, q)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: notifications of %q: %w", userID, err)
	}
	return out, nil
}

func (s *Store) notifications(ctx context.Context, userID string, q store.NotificationQuery) ([]store.UserNotification, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	query := `SELECT n.id, n.topic, n.title, n.body, n.data, n.link, n.created_at, n.created_by, r.read_at
		FROM notification_recipients r JOIN notifications n ON n.id = r.notification_id
		WHERE r.user_id = ?`
	args := []any{userID}
	if q.Before != "" {
		query += ` AND r.notification_id < ?`
		args = append(args, q.Before)
	}
	if q.Unread {
		query += ` AND r.read_at = 0`
	}
	query += ` ORDER BY r.notification_id DESC LIMIT ?`
	args = append(args, store.ClampLimit(q.Limit))
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.UserNotification
	for rows.Next() {
		var un store.UserNotification
		var created, read int64
		if err := rows.Scan(&un.ID, &un.Topic, &un.Title, &un.Body, &un.Data, &un.Link, &created, &un.CreatedBy, &read); err != nil {
			return nil, err
		}
		un.CreatedAt, un.ReadAt = msgstate.FromMillis(created), msgstate.FromMillis(read)
		out = append(out, un)
	}
	return out, rows.Err()
}

// UnreadNotifications counts a user's unread notifications; see
// store.Store.
func (s *Store) UnreadNotifications(ctx context.Context, userID string) (int, error) {
	db, err := s.reader()
	if err != nil {
		return 0, err
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM notification_recipients WHERE user_id = ? AND read_at = 0`, userID).Scan(&n)
	if err = s.settle(ctx, err); err != nil {
		return 0, fmt.Errorf("sqlite: unread notifications of %q: %w", userID, err)
	}
	return n, nil
}

// MarkNotificationsRead marks notifications read; see store.Store.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) (int, error) {
	var changed int64
	now := msgstate.Millis(store.Now())
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var res sql.Result
		var err error
		switch {
		case all:
			res, err = tx.ExecContext(ctx, `UPDATE notification_recipients SET read_at = ? WHERE user_id = ? AND read_at = 0`, now, userID)
		case len(ids) == 0:
			return nil
		default:
			args := []any{now, userID}
			for _, id := range ids {
				args = append(args, id)
			}
			res, err = tx.ExecContext(ctx, `UPDATE notification_recipients SET read_at = ?
				WHERE user_id = ? AND read_at = 0 AND notification_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
		}
		if err != nil {
			return err
		}
		changed, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: mark notifications of %q read: %w", userID, err)
	}
	return int(changed), nil
}
