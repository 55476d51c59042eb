package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// Subscribe subscribes a user to a pattern; see store.Store.
func (s *Store) Subscribe(ctx context.Context, userID, pattern string) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO subscriptions (user_id, pattern, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, userID, pattern, store.Now())
	}
	if err != nil {
		return fmt.Errorf("postgres: subscribe %q to %q: %w", userID, pattern, s.check(err))
	}
	return nil
}

// Unsubscribe ends a subscription; see store.Store.
func (s *Store) Unsubscribe(ctx context.Context, userID, pattern string) error {
	db, err := s.db()
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = db.Exec(ctx, `DELETE FROM subscriptions WHERE user_id = $1 AND pattern = $2`, userID, pattern)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: unsubscribe %q from %q: %w", userID, pattern, s.check(err))
	}
	return nil
}

// Subscriptions lists a user's patterns; see store.Store.
func (s *Store) Subscriptions(ctx context.Context, userID string) ([]string, error) {
	out, err := s.column(ctx, `SELECT pattern FROM subscriptions WHERE user_id = $1 ORDER BY pattern COLLATE "C"`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: subscriptions of %q: %w", userID, err)
	}
	return out, nil
}

// Subscribers lists the users subscribed to any of patterns; see
// store.Store.
func (s *Store) Subscribers(ctx context.Context, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	out, err := s.column(ctx, `SELECT DISTINCT user_id COLLATE "C" FROM subscriptions WHERE pattern = ANY($1) ORDER BY 1`, patterns)
	if err != nil {
		return nil, fmt.Errorf("postgres: subscribers: %w", err)
	}
	return out, nil
}

// AllUsers lists every account and external user; see store.Store.
func (s *Store) AllUsers(ctx context.Context) ([]string, error) {
	out, err := s.column(ctx, `SELECT id COLLATE "C" FROM users WHERE NOT deleted UNION SELECT id FROM external_users ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("postgres: all users: %w", err)
	}
	return out, nil
}

// column runs a read that yields one text column.
func (s *Store) column(ctx context.Context, query string, args ...any) ([]string, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, s.check(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.check(err)
		}
		out = append(out, v)
	}
	return out, s.check(rows.Err())
}

// CreateNotification stores a notification and its recipients; see
// store.Store.
func (s *Store) CreateNotification(ctx context.Context, n store.Notification, recipients []string) error {
	created := store.Timestamp(n.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notifications (id, topic, title, body, data, link, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, n.ID, n.Topic, n.Title, n.Body, n.Data, n.Link, created, n.CreatedBy)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil || len(recipients) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO notification_recipients (user_id, notification_id)
			SELECT u, $2 FROM unnest($1::text[]) AS u`, recipients, n.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create notification %q for %d: %w", n.ID, len(recipients), s.check(err))
	}
	return nil
}

// Notifications returns a user's notifications; see store.Store.
func (s *Store) Notifications(ctx context.Context, userID string, q store.NotificationQuery) ([]store.UserNotification, error) {
	db, err := s.db()
	if err != nil {
		return nil, fmt.Errorf("postgres: notifications of %q: %w", userID, err)
	}
	rows, err := db.Query(ctx, `SELECT n.id, n.topic, n.title, n.body, n.data, n.link, n.created_at, n.created_by, r.read_at
		FROM notification_recipients r JOIN notifications n ON n.id = r.notification_id
		WHERE r.user_id = $1 AND ($2 = '' OR r.notification_id < $2 COLLATE "C") AND (NOT $3 OR r.read_at IS NULL)
		ORDER BY r.notification_id COLLATE "C" DESC LIMIT $4`, userID, q.Before, q.Unread, store.ClampLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: notifications of %q: %w", userID, s.check(err))
	}
	defer rows.Close()
	var out []store.UserNotification
	for rows.Next() {
		var un store.UserNotification
		var read *time.Time
		if err := rows.Scan(&un.ID, &un.Topic, &un.Title, &un.Body, &un.Data, &un.Link, &un.CreatedAt, &un.CreatedBy, &read); err != nil {
			return nil, fmt.Errorf("postgres: notifications of %q: %w", userID, s.check(err))
		}
		un.CreatedAt = utc(un.CreatedAt)
		if read != nil {
			un.ReadAt = utc(*read)
		}
		out = append(out, un)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: notifications of %q: %w", userID, s.check(err))
	}
	return out, nil
}

// UnreadNotifications counts a user's unread notifications; see
// store.Store.
func (s *Store) UnreadNotifications(ctx context.Context, userID string) (int, error) {
	db, err := s.db()
	var n int
	if err == nil {
		err = db.QueryRow(ctx, `SELECT count(*) FROM notification_recipients WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: unread notifications of %q: %w", userID, s.check(err))
	}
	return n, nil
}

// MarkNotificationsRead marks notifications read; see store.Store.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) (int, error) {
	if !all && len(ids) == 0 {
		return 0, nil
	}
	db, err := s.db()
	var changed int64
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = db.Exec(ctx, `UPDATE notification_recipients SET read_at = $2
			WHERE user_id = $1 AND read_at IS NULL AND ($3 OR notification_id = ANY($4))`, userID, store.Now(), all, ids)
		if err == nil {
			changed = tag.RowsAffected()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: mark notifications of %q read: %w", userID, s.check(err))
	}
	return int(changed), nil
}
