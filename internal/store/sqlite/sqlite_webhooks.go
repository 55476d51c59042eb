package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// CreateWebhook stores an endpoint; see store.Store.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook) error {
	created := store.Timestamp(w.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, url, secret, events, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, w.ID, w.URL, w.Secret, strings.Join(w.Events, ","), w.CreatedBy, msgstate.Millis(created))
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create webhook %q: %w", w.ID, err)
	}
	return nil
}

// Webhooks lists every endpoint; see store.Store.
func (s *Store) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	out, err := s.webhooks(ctx)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: webhooks: %w", err)
	}
	return out, nil
}

func (s *Store) webhooks(ctx context.Context) ([]store.Webhook, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, url, secret, events, created_by, created_at FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var w store.Webhook
		var events string
		var created int64
		if err := rows.Scan(&w.ID, &w.URL, &w.Secret, &events, &w.CreatedBy, &created); err != nil {
			return nil, err
		}
		if events != "" {
			w.Events = strings.Split(events, ",")
		}
		w.CreatedAt = msgstate.FromMillis(created)
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes an endpoint and its deliveries; see store.Store.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete webhook %q: %w", id, err)
	}
	return nil
}

// EnqueueWebhookDeliveries stores deliveries; see store.Store.
func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		for _, d := range ds {
			created := store.Timestamp(d.CreatedAt)
			if created.IsZero() {
				created = store.Now()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
				(id, webhook, event_id, event, payload, attempts, next_at, last_error, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Webhook, d.EventID, d.Event, d.Payload, d.Attempts,
				msgstate.Millis(store.Timestamp(d.NextAt)), d.LastError, msgstate.Millis(created)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: enqueue %d webhook deliveries: %w", len(ds), err)
	}
	return nil
}

// DueWebhookDeliveries returns the deliveries due; see store.Store.
func (s *Store) DueWebhookDeliveries(ctx context.Context, webhook string, now time.Time, limit int) ([]store.WebhookDelivery, error) {
	out, err := s.dueDeliveries(ctx, webhook, now, limit)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: due webhook deliveries: %w", err)
	}
	return out, nil
}

func (s *Store) dueDeliveries(ctx context.Context, webhook string, now time.Time, limit int) ([]store.WebhookDelivery, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, webhook, event_id, event, payload, attempts, next_at, last_error, created_at
		FROM webhook_deliveries WHERE webhook = ? AND next_at <= ? ORDER BY next_at, id LIMIT ?`,
		webhook, msgstate.Millis(store.Timestamp(now)), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		var d store.WebhookDelivery
		var next, created int64
		if err := rows.Scan(&d.ID, &d.Webhook, &d.EventID, &d.Event, &d.Payload, &d.Attempts, &next, &d.LastError, &created); err != nil {
			return nil, err
		}
		d.NextAt, d.CreatedAt = msgstate.FromMillis(next), msgstate.FromMillis(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishWebhookDelivery forgets a delivery; see store.Store.
func (s *Store) FinishWebhookDelivery(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish webhook delivery %q: %w", id, err)
	}
	return nil
}

// RetryWebhookDelivery records a failed attempt; see store.Store.
func (s *Store) RetryWebhookDelivery(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?`,
			attempts, msgstate.Millis(store.Timestamp(next)), lastErr, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry webhook delivery %q: %w", id, err)
	}
	return nil
}
