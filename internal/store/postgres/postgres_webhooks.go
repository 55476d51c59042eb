package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// CreateWebhook stores an endpoint; see store.Store.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook) error {
	created := store.Timestamp(w.CreatedAt)
	if created.IsZero() {
		created = store.Now()
	}
	events := w.Events
	if events == nil {
		events = []string{}
	}
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO webhooks (id, url, secret, events, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, w.ID, w.URL, w.Secret, events, w.CreatedBy, created)
		if isUnique(err) {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: create webhook %q: %w", w.ID, s.check(err))
	}
	return nil
}

// Webhooks lists every endpoint; see store.Store.
func (s *Store) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	db, err := s.db()
	if err != nil {
		return nil, fmt.Errorf("postgres: webhooks: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT id, url, secret, events, created_by, created_at FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: webhooks: %w", s.check(err))
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		var w store.Webhook
		if err := rows.Scan(&w.ID, &w.URL, &w.Secret, &w.Events, &w.CreatedBy, &w.CreatedAt); err != nil {
			return nil, fmt.Errorf("postgres: webhooks: %w", s.check(err))
		}
		if len(w.Events) == 0 {
			w.Events = nil
		}
		w.CreatedAt = utc(w.CreatedAt)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: webhooks: %w", s.check(err))
	}
	return out, nil
}

// DeleteWebhook removes an endpoint and its deliveries; see store.Store.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id) // deliveries cascade
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete webhook %q: %w", id, err)
	}
	return nil
}

// EnqueueWebhookDeliveries stores deliveries; see store.Store.
func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, d := range ds {
			created := store.Timestamp(d.CreatedAt)
			if created.IsZero() {
				created = store.Now()
			}
			b.Queue(`INSERT INTO webhook_deliveries (id, webhook, event_id, event, payload, attempts, next_at, last_error, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, d.ID, d.Webhook, d.EventID, d.Event, d.Payload, d.Attempts,
				store.Timestamp(d.NextAt), d.LastError, created)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: enqueue %d webhook deliveries: %w", len(ds), err)
	}
	return nil
}

// DueWebhookDeliveries returns the deliveries due; see store.Store.
func (s *Store) DueWebhookDeliveries(ctx context.Context, webhook string, now time.Time, limit int) ([]store.WebhookDelivery, error) {
	db, err := s.db()
	if err != nil {
		return nil, fmt.Errorf("postgres: due webhook deliveries: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT id, webhook, event_id, event, payload, attempts, next_at, last_error, created_at
		FROM webhook_deliveries WHERE webhook = $1 AND next_at <= $2 ORDER BY next_at, id COLLATE "C" LIMIT $3`,
		webhook, store.Timestamp(now), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due webhook deliveries: %w", s.check(err))
	}
	defer rows.Close()
	var out []store.WebhookDelivery
	for rows.Next() {
		var d store.WebhookDelivery
		if err := rows.Scan(&d.ID, &d.Webhook, &d.EventID, &d.Event, &d.Payload, &d.Attempts, &d.NextAt, &d.LastError, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("postgres: due webhook deliveries: %w", s.check(err))
		}
		d.NextAt, d.CreatedAt = utc(d.NextAt), utc(d.CreatedAt)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: due webhook deliveries: %w", s.check(err))
	}
	return out, nil
}

// FinishWebhookDelivery forgets a delivery; see store.Store.
func (s *Store) FinishWebhookDelivery(ctx context.Context, id string) error {
	db, err := s.db()
	if err == nil {
		_, err = db.Exec(ctx, `DELETE FROM webhook_deliveries WHERE id = $1`, id)
	}
	if err != nil {
		return fmt.Errorf("postgres: finish webhook delivery %q: %w", id, s.check(err))
	}
	return nil
}

// RetryWebhookDelivery records a failed attempt; see store.Store.
func (s *Store) RetryWebhookDelivery(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	db, err := s.db()
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = db.Exec(ctx, `UPDATE webhook_deliveries SET attempts = $2, next_at = $3, last_error = $4 WHERE id = $1`,
			id, attempts, store.Timestamp(next), lastErr)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: retry webhook delivery %q: %w", id, s.check(err))
	}
	return nil
}
