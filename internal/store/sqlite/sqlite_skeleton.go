package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/parley-chat/parley/internal/store/internal/skeleton"
)

// backfillSkeletons gives every account stored without a username skeleton
// its skeleton, in the migration's transaction (which holds the write
// lock, so nothing is created meanwhile). Accounts that look like an older
// one keep none and are logged at every start, for an operator to rename
// or delete; new look-alikes of either are still refused. See
// skeleton.Plan.
func backfillSkeletons(ctx context.Context, tx *sql.Tx, logger *slog.Logger) error {
	// The common case, nothing to do, costs one indexed look-up.
	var missing bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username_skeleton IS NULL)`).Scan(&missing); err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	if !missing {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, username, coalesce(username_skeleton, '') FROM users
		ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	var all []skeleton.Row
	for rows.Next() {
		var r skeleton.Row
		if err := rows.Scan(&r.ID, &r.Username, &r.Skeleton); err != nil {
			rows.Close()
			return fmt.Errorf("backfill username skeletons: %w", err)
		}
		all = append(all, r)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	assign, collisions := skeleton.Plan(all)
	update, err := tx.PrepareContext(ctx, `UPDATE users SET username_skeleton = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	defer update.Close()
	for id, sk := range assign {
		if _, err := update.ExecContext(ctx, sk, id); err != nil {
			return fmt.Errorf("backfill username skeletons: %w", err)
		}
	}
	if len(assign) > 0 {
		logger.Info("sqlite: stored username skeletons for look-alike checks", "accounts", len(assign))
	}
	for _, c := range collisions {
		logger.Warn("sqlite: two accounts have look-alike usernames; both stay, new look-alikes are refused",
			"user", c.ID, "username", c.Username, "looks_like", c.Holder)
	}
	return nil
}
