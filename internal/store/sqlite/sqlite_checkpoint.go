package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/store/internal/groupcommit"
)

// checkpointSpacing is the least time between two background checkpoints.
// Each checkpoint copies every page changed since the last one into the
// database file and fsyncs it, so spacing them lets a page that many
// batches touch (a busy room's index leaf) be copied once rather than once
// per batch. A variable, as walRestartFrames is, so that tests can make it
// small.
var checkpointSpacing = 200 * time.Millisecond

// walRestartFrames is how long the WAL may grow, in pages, before the
// writer makes sure it starts over (see checkpointer.restart): 64 MiB of
// 4 KiB pages, the size the WAL file is cut back to when it does. It can
// exceed this by what the writer commits between two checkpoints.
var walRestartFrames = 16384

// walRestartFramesAtLink and checkpointSpacingAtLink, when set at link
// time (go build -ldflags "-X <this package>.walRestartFramesAtLink=64"),
// replace walRestartFrames and checkpointSpacing (in milliseconds) in a
// built binary. The power-loss test of cmd/parley builds one whose WAL
// starts over and is checkpointed many times a second, so that its power
// cuts land in both; release builds leave them empty.
var walRestartFramesAtLink, checkpointSpacingAtLink string

func init() {
	if n, err := strconv.Atoi(walRestartFramesAtLink); err == nil && n > 0 {
		walRestartFrames = n
	}
	if ms, err := strconv.Atoi(checkpointSpacingAtLink); err == nil && ms > 0 {
		checkpointSpacing = time.Duration(ms) * time.Millisecond
	}
}

// checkpointer copies the WAL back into the database file on its own
// connection and goroutine. SQLite's automatic checkpoint would run inside
// the writer's commit, holding up every caller waiting for that batch; a
// PASSIVE checkpoint on another connection runs while the writer goes on
// appending.
//
// SQLite starts the WAL over only when a write transaction begins with
// every frame already copied. While the writer commits batch after batch
// without a pause, a checkpoint running beside it never ends with nothing
// left to copy, so the WAL would grow with everything written (gigabytes
// in a minute of the chat benchmark, and slower reads as it grows). Once it
// is past walRestartFrames the checkpointer stops and sets restart; the
// writer then copies the few frames left itself, between two batches (see
// Store.restartWAL), and its next batch starts the WAL over.
type checkpointer struct {
	db       *sql.DB
	observed *groupcommit.Observed // the store's, which hears of each checkpoint
	file     *os.File              // the database file, for syncCopied
	synced   int                   // the WAL's copied length at the last syncCopied
	kick     chan struct{}         // the writer committed; buffered, so kicks merge
	quit     chan struct{}         // closed by stop
	done     chan struct{}         // closed when loop returns
	report   func(err error)
	restart  atomic.Bool // the WAL is long: the writer is to finish the checkpoint

	// checkpointSpacing and walRestartFrames when the store opened.
	spacing       time.Duration
	restartFrames int
}

func newCheckpointer(db *sql.DB, file *os.File, observed *groupcommit.Observed, report func(error)) *checkpointer {
	c := &checkpointer{db: db, file: file, observed: observed, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), report: report,
		spacing: checkpointSpacing, restartFrames: walRestartFrames}
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
	return errors.Join(c.db.Close(), c.file.Close())
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
		if wait := c.spacing - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.quit:
				t.Stop()
				return
			}
		}
		if c.restart.Load() {
			continue // the writer is finishing this one
		}
		last = time.Now()
		err := c.pass()
		if err != nil {
			c.report(err)
		}
		c.observed.Checkpointed(false, time.Since(last), err)
	}
}

// pass runs one background checkpoint: a PASSIVE one, the catch-up passes
// when the WAL is long (and then the request for the writer to finish it),
// and the sync of the database file.
func (c *checkpointer) pass() error {
	frames, copied, err := checkpoint(context.Background(), c.db, "PASSIVE")
	if err != nil {
		return err
	}
	long := frames >= c.restartFrames
	if long {
		copied, err = c.catchUp(frames, copied)
	}
	err = errors.Join(err, c.syncCopied(copied))
	if long {
		c.restart.Store(true)
	}
	return err
}

// syncFile makes what was written to f durable; a variable so that a test
// can see when the checkpointer calls it.
var syncFile = syncData

// syncCopied syncs the database file if a checkpoint has copied pages into
// it since the last sync. SQLite syncs the file only when a checkpoint
// copies the WAL to its end, which under steady writes the background
// checkpoints rarely do: the writer has committed more by then. The pages
// they copy then stay dirty in the page cache until the checkpoint that
// starts the WAL over — run by the writer, with every durable write waiting
// — or one that happens to catch up writes them all at once, 2–4 MB in the
// chat benchmark, and the WAL's own syncs queue behind that burst on the
// disk. Syncing after every background checkpoint writes the same pages
// in portions of one checkpoint's worth instead.
func (c *checkpointer) syncCopied(copied int) error {
	if copied == c.synced {
		return nil // nothing copied (copied starts again from 0 when the WAL does)
	}
	if err := syncFile(c.file); err != nil {
		return fmt.Errorf("sqlite: sync database file after checkpoint: %w", err)
	}
	c.synced = copied
	return nil
}

// catchUpPasses bounds the extra checkpoints run before the writer is
// asked to finish one (see catchUp); catchUpFrames is the tail short
// enough to leave to it.
const (
	catchUpPasses = 4
	catchUpFrames = 256
)

// catchUp runs further checkpoints back to back, each copying what the
// writer committed during the one before, until that tail is short. The
// writer's own checkpoint (Store.restartWAL) holds up every durable write
// for as long as it takes to copy what is left, so it should find little:
// one background pass at the chat benchmark's 10,000 messages a second
// left it 5–17 ms of copying and syncing, one to three times a second.
// It returns how much of the WAL is copied after the last pass.
func (c *checkpointer) catchUp(frames, copied int) (int, error) {
	for range catchUpPasses {
		next, done, err := checkpoint(context.Background(), c.db, "PASSIVE")
		if err != nil {
			return copied, err
		}
		grew := next - frames
		frames, copied = next, done
		if grew < catchUpFrames {
			break
		}
	}
	return copied, nil
}

// checkpoint runs a checkpoint of the given mode on db and returns the
// WAL's length and how much of it is now copied into the database file, in
// pages. SQLite reports a checkpoint that could not finish because of
// readers or the writer as busy rather than as an error; that is normal for
// PASSIVE and not reported.
func checkpoint(ctx context.Context, db *sql.DB, mode string) (frames, copied int, err error) {
	var busy int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint (%s): %w", mode, err)
	}
	return frames, copied, nil
}

// restartWAL runs on the writer goroutine between batches when the
// checkpointer has asked for it: a PASSIVE checkpoint on the writer's own
// connection copies what the background ones left (they ran up to the last
// batch or so), and with nothing left to copy the next batch starts the WAL
// over. If a reader holds old frames, it tries again after the next batch.
func (s *Store) restartWAL() {
	if !s.ck.restart.Load() {
		return
	}
	start := time.Now()
	frames, copied, err := checkpoint(context.Background(), s.w, "PASSIVE")
	s.commits.Checkpointed(true, time.Since(start), err)
	if err != nil {
		// Hand back to the checkpointer, which retries at its own pace
		// rather than after every batch.
		s.ck.restart.Store(false)
		s.ck.report(err)
		return
	}
	if copied == frames {
		s.ck.restart.Store(false)
	}
}
