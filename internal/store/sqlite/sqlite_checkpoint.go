package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointSpacing is the least time between two background checkpoints.
// Each checkpoint copies every page changed since the last one into the
// database file and fsyncs it, so spacing them lets a page that many
// batches touch (a busy room's index leaf) be copied once rather than once
// per batch; it also bounds the WAL to what the writer commits in this
// time (a few MiB at ten thousand messages a second).
const checkpointSpacing = 200 * time.Millisecond

// checkpointer copies the WAL back into the database file on its own
// connection and goroutine. SQLite's automatic checkpoint would run inside
// the writer's commit, holding up every caller waiting for that batch; a
// PASSIVE checkpoint on another connection runs while the writer goes on
// appending, and once it has copied everything the writer starts the WAL
// over at its next batch.
type checkpointer struct {
	db     *sql.DB
	kick   chan struct{} // the writer committed; buffered, so kicks merge
	quit   chan struct{} // closed by stop
	done   chan struct{} // closed when loop returns
	report func(err error)
}

func newCheckpointer(db *sql.DB, report func(error)) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), report: report}
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL has grown. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// stop ends the loop once the checkpoint under way (if any) is done and
// closes the checkpointer's connection. The store's Close runs a final
// checkpoint itself, on the writer.
func (c *checkpointer) stop() error {
	close(c.quit)
	<-c.done
	return c.db.Close()
}

func (c *checkpointer) loop() {
	defer close(c.done)
	var last time.Time
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		if wait := checkpointSpacing - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.quit:
				t.Stop()
				return
			}
		}
		last = time.Now()
		if err := checkpoint(context.Background(), c.db, "PASSIVE"); err != nil {
			c.report(err)
		}
	}
}

// checkpoint runs a checkpoint of the given mode on db. SQLite reports a
// checkpoint that could not finish because of readers or the writer as busy
// rather than as an error; that is normal for PASSIVE and not reported.
func checkpoint(ctx context.Context, db *sql.DB, mode string) error {
	var busy, logFrames, copied int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &copied); err != nil {
		return fmt.Errorf("sqlite: checkpoint (%s): %w", mode, err)
	}
	return nil
}
