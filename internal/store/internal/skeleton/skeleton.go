// Package skeleton plans the backfill of username skeletons (see
// store.UsernameSkeleton) for accounts stored before the column existed.
// SQL cannot compute a skeleton, so each backend reads its accounts, asks
// Plan which rows get which skeleton and writes the answer in the same
// transaction as its migrations.
package skeleton

import "github.com/parley-chat/parley/internal/store"

// Row is one stored account as the backfill sees it. Rows are given oldest
// first (created_at, then id), so the oldest of two look-alikes keeps its
// skeleton.
type Row struct {
	ID       string
	Username string
	Skeleton string // "" when not computed yet (NULL in the database)
}

// Collision is an account stored before skeletons existed whose name looks
// like an older account's. Both stay; the newer one keeps no skeleton (the
// unique index allows any number of NULLs), and new names that look like
// either are refused because the older one holds the skeleton.
type Collision struct {
	ID, Username string // the newer account, left without a skeleton
	Holder       string // the username of the older account holding it
	Skeleton     string
}

// Plan returns the skeleton to store for each row that has none (by id)
// and the rows that must stay without one. A row whose skeleton is already
// stored is never changed, so running Plan again after its answer was
// stored finds only the collisions again: the backfill is idempotent.
func Plan(rows []Row) (assign map[string]string, collisions []Collision) {
	holder := make(map[string]string, len(rows)) // skeleton → username
	for _, r := range rows {
		if r.Skeleton != "" {
			holder[r.Skeleton] = r.Username
		}
	}
	assign = map[string]string{}
	for _, r := range rows {
		if r.Skeleton != "" {
			continue
		}
		sk := store.UsernameSkeleton(r.Username)
		if h, taken := holder[sk]; taken {
			collisions = append(collisions, Collision{ID: r.ID, Username: r.Username, Holder: h, Skeleton: sk})
			continue
		}
		holder[sk] = r.Username
		assign[r.ID] = sk
	}
	return assign, collisions
}
