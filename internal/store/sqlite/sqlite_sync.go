package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/store/internal/groupcommit"
)

// syncQueue is the room in the syncer's queue. The writer hands it a batch
// only once it has answered the last (or when the store closes), so it
// seldom holds more than one.
const syncQueue = 64

// walSyncer makes committed batches durable and then answers them.
//
// The writer commits with synchronous=NORMAL: a commit writes its pages to
// the WAL but does not wait for the disk. It hands the batch here, and the
// syncer flushes the WAL (fdatasync) and only then answers the batch's
// callers, in commit order, so no write is acknowledged before it is on
// disk, as with synchronous=FULL. The difference is who waits: with FULL
// the writer itself sat through every flush (in a runtime trace of the
// chat benchmark it was in system calls 38 % of the time) while requests
// queued behind it; now it runs the requests that arrive during the flush
// and commits them the moment the flush ends (see Store.loop). When the
// server is quiet (see quietBatch), the writer flushes and answers a commit
// itself (finishNow), sparing the answers a goroutine switch.
//
// A commit is visible to readers before its flush, so reads wait for it
// (settled): nothing a read returns can be lost to a crash of the machine.
// Checkpoints still sync the WAL before copying it into the database file,
// and SQLite still syncs the WAL's header when the WAL starts over, so a
// WAL whose unsynced tail is lost is recovered up to its last flushed
// commit.
type walSyncer struct {
	path     string   // the WAL file
	file     *os.File // path, opened at the first flush; used by whoever flushes (the syncer, or the writer while the syncer is idle)
	in       chan syncItem
	done     chan struct{} // closed when loop returns
	answer   func(batch []*writeReq, errs []error)
	observed *groupcommit.Observed
	report   func(err error) // told once, of the flush that failed

	// numbered counts the batches that have tried to commit; synced, how
	// many of them are settled (durable, or failed to commit). A batch
	// takes its number before its commit, so a read that sees a commit
	// reads a number at least as high afterwards.
	numbered atomic.Uint64
	synced   atomic.Uint64

	mu       sync.Mutex
	progress chan struct{} // closed and replaced whenever synced grows or err is set
	err      error         // the failed flush; sticky

	// handed counts the batches the writer has handed over (only the
	// writer touches it); answered, how many of them the syncer has
	// answered. flushed gets a signal after each group it answers.
	handed   uint64
	answered atomic.Uint64
	flushed  chan struct{}
}

// syncItem is a batch on its way from the writer to the syncer.
type syncItem struct {
	batch     []*writeReq
	errs      []error
	num       uint64    // the batch's number, 0 if it never tried to commit
	committed bool      // its commit succeeded: it has pages to flush
	start     time.Time // when its commit began
}

func newWALSyncer(path string, observed *groupcommit.Observed, answer func([]*writeReq, []error), report func(error)) *walSyncer {
	w := &walSyncer{path: path + "-wal", in: make(chan syncItem, syncQueue), done: make(chan struct{}),
		answer: answer, observed: observed, report: report, progress: make(chan struct{}), flushed: make(chan struct{}, 1)}
	go w.loop()
	return w
}

// number gives the batch about to commit its number.
func (w *walSyncer) number() uint64 { return w.numbered.Add(1) }

// hand passes a finished batch on; the writer calls it once per batch, in
// order.
func (w *walSyncer) hand(it syncItem) {
	w.handed++
	w.in <- it
}

// idle reports whether every batch handed over has been answered: the
// disk has nothing of the writer's left to flush. Only the writer calls
// it.
func (w *walSyncer) idle() bool { return w.answered.Load() == w.handed }

// stop answers what has been handed and ends the loop. Only the writer
// calls it, once, after its last hand.
func (w *walSyncer) stop() error {
	close(w.in)
	<-w.done
	if w.file != nil {
		return w.file.Close()
	}
	return nil
}

func (w *walSyncer) loop() {
	defer close(w.done)
	var answered uint64
	items := make([]syncItem, 0, syncQueue)
	for it := range w.in {
		items = groupcommit.Fill(append(items[:0], it), w.in, syncQueue)
		w.finish(items)
		answered += uint64(len(items))
		clear(items) // drop references to answered requests
		w.answered.Store(answered)
		select {
		case w.flushed <- struct{}{}:
		default: // a signal is waiting already
		}
	}
}

// finishNow flushes and answers it on the writer's own goroutine. The
// writer does so when nothing else waits for it, where a hand-over to the
// syncer would only add a goroutine switch to the answer's way; only the
// writer calls it, and only while the syncer is idle.
func (w *walSyncer) finishNow(it syncItem) { w.finish([]syncItem{it}) }

// finish flushes the WAL once for items (if any committed) and answers
// them in order.
func (w *walSyncer) finish(items []syncItem) {
	var last uint64
	flush := false
	for _, it := range items {
		last = max(last, it.num)
		flush = flush || it.committed
	}
	var err error
	if flush {
		err = w.flush()
	}
	for _, it := range items {
		if !it.committed {
			w.answer(it.batch, it.errs)
			continue
		}
		if err != nil {
			for i := range it.errs {
				if it.errs[i] == nil {
					it.errs[i] = err
				}
			}
		}
		w.observed.Committed(len(it.batch), time.Since(it.start), err)
		w.answer(it.batch, it.errs)
	}
	if last > 0 && w.failed() == nil {
		w.advance(last)
	}
}

// flush makes everything written to the WAL so far durable. After one
// failure it fails for good: once a flush has failed, the kernel may have
// dropped the unwritten pages and a later flush that succeeds proves
// nothing about them, so the store refuses writes until it is reopened
// (SQLite then recovers the WAL up to its last flushed commit).
func (w *walSyncer) flush() error {
	if err := w.failed(); err != nil {
		return err
	}
	err := w.syncWAL()
	if err != nil {
		err = fmt.Errorf("sqlite: flush the WAL %s: %w", w.path, err)
		w.mu.Lock()
		w.err = err
		w.wakeLocked()
		w.mu.Unlock()
		w.report(err)
	}
	return err
}

// syncWAL flushes the WAL file. The file is opened once, but checked each
// time against the path: SQLite deletes the WAL when its last connection
// closes and makes a new one on the next write, and a flush of the old
// file would protect nothing.
func (w *walSyncer) syncWAL() error {
	if w.file != nil {
		held, err1 := w.file.Stat()
		now, err2 := os.Stat(w.path)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if !os.SameFile(held, now) {
			w.file.Close()
			w.file = nil
		}
	}
	if w.file == nil {
		f, err := os.Open(w.path)
		if err != nil {
			return err
		}
		w.file = f
	}
	return syncWAL(w.file)
}

// settle ends a read: it waits until everything the read's queries could
// have seen is on disk (see walSyncer.settled) and returns err, the read's
// own outcome, unless the wait fails. Every read through the read pool
// ends with it, whatever it found: a room or a message not found is an
// answer about the same data.
func (s *Store) settle(ctx context.Context, err error) error {
	if werr := s.sync.settled(ctx); werr != nil {
		return werr
	}
	return err
}

// syncWAL flushes the WAL file; a variable so that tests can hold a flush
// back or fail it.
var syncWAL = syncData

// advance records that every batch up to num is settled.
func (w *walSyncer) advance(num uint64) {
	w.synced.Store(num)
	w.mu.Lock()
	w.wakeLocked()
	w.mu.Unlock()
}

// wakeLocked wakes the reads waiting in settled; w.mu is held.
func (w *walSyncer) wakeLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
}

// failed returns the error of the flush that failed, if one did.
func (w *walSyncer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// settled waits until every batch that had begun to commit when it was
// called is durable. A read calls it after its queries, so that what it
// returns is on disk even though SQLite showed it before the flush.
// It returns at once when nothing is waiting for a flush, which is always
// the case when the store is idle.
func (w *walSyncer) settled(ctx context.Context) error {
	target := w.numbered.Load()
	if w.synced.Load() >= target {
		return nil // the usual case: no read takes the lock while none waits
	}
	for {
		w.mu.Lock()
		progress, err := w.progress, w.err
		w.mu.Unlock()
		if w.synced.Load() >= target {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
