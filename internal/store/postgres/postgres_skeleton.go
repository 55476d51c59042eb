package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store/internal/skeleton"
)

// skeletonIndex is the unique index on users.username_skeleton (migration
// 0009); a unique_violation naming it is a look-alike username.
const skeletonIndex = "users_username_skeleton"

// backfillSkeletons gives every account stored without a username skeleton
// its skeleton, in the migration's transaction (whose advisory lock keeps
// other nodes out). Accounts that look like an older one keep none and are
// logged at every start, for an operator to rename or delete; new
// look-alikes of either are still refused. See skeleton.Plan.
func backfillSkeletons(ctx context.Context, tx pgx.Tx, logger *slog.Logger) error {
	// The common case, nothing to do, costs one indexed look-up.
	var missing bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username_skeleton IS NULL)`).Scan(&missing); err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	if !missing {
		return nil
	}
	rows, _ := tx.Query(ctx, `SELECT id, username, coalesce(username_skeleton, '') FROM users ORDER BY created_at, id`)
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (skeleton.Row, error) {
		var r skeleton.Row
		err := row.Scan(&r.ID, &r.Username, &r.Skeleton)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("backfill username skeletons: %w", err)
	}
	assign, collisions := skeleton.Plan(all)
	if len(assign) > 0 {
		ids := make([]string, 0, len(assign))
		sks := make([]string, 0, len(assign))
		for id, sk := range assign {
			ids, sks = append(ids, id), append(sks, sk)
		}
		// One statement for any number of accounts.
		if _, err := tx.Exec(ctx, `UPDATE users SET username_skeleton = v.sk
			FROM unnest($1::text[], $2::text[]) AS v(id, sk) WHERE users.id = v.id`, ids, sks); err != nil {
			return fmt.Errorf("backfill username skeletons: %w", err)
		}
		logger.Info("postgres: stored username skeletons for look-alike checks", "accounts", len(assign))
	}
	for _, c := range collisions {
		logger.Warn("postgres: two accounts have look-alike usernames; both stay, new look-alikes are refused",
			"user", c.ID, "username", c.Username, "looks_like", c.Holder)
	}
	return nil
}
