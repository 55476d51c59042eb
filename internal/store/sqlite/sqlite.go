package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/groupcommit"
)

// maxBatch caps how many writes share one transaction. Larger batches
// cost fewer pages per write: a busy room's index pages are written once
// per batch however many of its messages the batch holds, and with
// thousands of senders waiting on their acks the writer's throughput, not
// the length of one batch, sets their latency. 4,096 appends take about
// half a second on the 2-core test machine; readers never wait for them
// (WAL), only later writes do.
const maxBatch = 4096

// Store is the SQLite store.Store. Create it with Open; it is safe for
// concurrent use.
type Store struct {
	w      *sql.DB              // the single writer connection; used only by loop (and Open's migrations)
	stmts  map[string]*sql.Stmt // hotStatements, prepared on w
	r      *readDB              // read-only pool, its statements prepared once
	ck     *checkpointer        // copies the WAL into the database file, on its own connection
	sync   *walSyncer           // flushes committed batches to disk and then answers them
	seqs   *seqCounters         // rooms' sequence counters; only loop uses them
	logger *slog.Logger

	reqs     chan *writeReq
	loopDone chan struct{}
	commits  groupcommit.Observed // hears of every batch's commit
	// completer runs each batch's asynchronous outcomes' callbacks, in
	// commit order; loop closes it when it exits.
	completer *groupcommit.Completer[completion]

	// mu orders submissions against Close: write holds it shared while it
	// hands a request to loop, Close holds it exclusively to close reqs, so
	// no request is ever sent on a closed channel or left unanswered.
	mu     sync.RWMutex
	closed atomic.Bool

	syncStopErr error // from stopping the syncer; set by loop before loopDone closes
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.AsyncAppender = (*Store)(nil)
	_ store.Observable    = (*Store)(nil)
	_ store.WriteProber   = (*Store)(nil)
)

// writeReq is one caller's write, run by loop inside the batch transaction.
// Its outcome goes to done, for a caller waiting on it, or else to then.
type writeReq struct {
	ctx  context.Context // the caller's; checked before fn runs
	fn   func(ctx context.Context, tx *writeTx) error
	done chan error // buffered, receives fn's outcome after the commit
	// then, for a request made by AppendAsync, is called with fn's outcome
	// on the completer goroutine after the commit.
	then func(error)
}

// completion is an asynchronous request's outcome on its way to the
// completer.
type completion struct {
	then func(error)
	err  error
}

func (c completion) run() { c.then(c.err) }

// dsn builds the connection string for path. All pragmas live here so the
// connection's behaviour can be read in one place.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	// Wait up to 5 s for a lock instead of failing with SQLITE_BUSY at once;
	// readers may meet a brief lock while the WAL is checkpointed.
	q.Add("_pragma", "busy_timeout(5000)")
	// WAL: readers see the last commit and never block the writer, nor it
	// them. It is persistent in the file; setting it on every connection is
	// harmless and makes a fresh file WAL before anything is written.
	q.Add("_pragma", "journal_mode(WAL)")
	// Enforce REFERENCES clauses (SQLite's default is off).
	q.Add("_pragma", "foreign_keys(1)")

	if readOnly {
		// Reader connections refuse writes, so a bug cannot bypass the
		// batching writer and its ordering.
		q.Add("_pragma", "query_only(1)")
		// Readers never commit; FULL or NORMAL, a checkpoint syncs the WAL
		// before copying it and the database file after.
		q.Add("_pragma", "synchronous(FULL)")
	} else {
		// NORMAL: a commit writes the WAL but does not wait for the disk.
		// The store's syncer flushes the WAL before any caller hears of
		// the commit (see walSyncer), so an acknowledged write survives
		// power loss as with FULL, while the writer runs the next batch
		// during the flush.
		q.Add("_pragma", "synchronous(NORMAL)")
		// The writer takes the write lock when a batch begins rather than
		// on its first write, so a batch never fails half-way with BUSY.
		q.Set("_txlock", "immediate")
		// The writer touches index pages all over the file when many rooms
		// are busy. A 64 MiB page cache (the default is 2 MiB) and reading
		// through a memory map keep it from making a read system call per
		// page: each system call may cost the writer its turn on a CPU while
		// thousands of connections wait for their acks, and the single
		// writer is what every durable message queues behind.
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", "mmap_size(268435456)")
		// The writer never checkpoints: the checkpointer goroutine does,
		// on its own connection (see checkpointer), so copying the WAL
		// into the database file and its fsync happen beside the writer
		// instead of inside a commit that thousands of acks wait for.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// When a checkpoint lets the WAL start over, cut the file back to
		// this size rather than keep the largest it has ever been.
		q.Add("_pragma", "journal_size_limit(67108864)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path, migrates it to
// the schema this binary knows and starts the writer goroutine; Close stops
// it. A file migrated by a newer binary fails with store.ErrSchemaTooNew.
func Open(ctx context.Context, path string, logger *slog.Logger) (_ *Store, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// undo holds what Open has opened so far; if it fails, it closes them,
	// newest first (the writer's statements before the writer).
	var undo []func() error
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	undo = append(undo, w.Close)
	// One writer connection: SQLite allows one writer at a time anyway, and
	// a single connection lets loop batch without lock contention.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, logger); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	stmts, err := prepareHot(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	undo = append(undo, func() error { return closeStmts(stmts) })
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	undo = append(undo, r.Close)
	// Reads are CPU-bound in-process work; a few connections per core keep
	// cores busy while one waits on the page cache.
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	// A query-only connection may checkpoint: copying the WAL into the
	// file changes no row.
	ckDB, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	undo = append(undo, ckDB.Close)
	ckDB.SetMaxOpenConns(1)
	ckDB.SetMaxIdleConns(1)
	ckDB.SetConnMaxLifetime(0)
	ckDB.SetConnMaxIdleTime(0)
	// The checkpointer syncs the database file itself (see syncCopied).
	dbFile, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	undo = append(undo, dbFile.Close)
	s := &Store{
		w: w, stmts: stmts, r: newReadDB(r), logger: logger,
		reqs:     make(chan *writeReq, maxBatch),
		loopDone: make(chan struct{}),
		seqs:     newSeqCounters(),

		completer: groupcommit.NewCompleter(completion.run),
	}
	undo = append(undo, func() error { s.completer.Close(); return nil })
	s.sync = newWALSyncer(path, &s.commits, s.answer, func(err error) {
		logger.Error("sqlite: the WAL could not be flushed to disk; writes and reads fail until Parley restarts", "err", err)
	})
	undo = append(undo, s.sync.stop)
	// The migrations committed without a flush (the writer's connection
	// is NORMAL); make them durable before the first request.
	if err := s.sync.flush(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.ck = newCheckpointer(ckDB, dbFile, &s.commits, func(err error) { logger.Warn("sqlite: background checkpoint failed", "err", err) })
	go s.loop()
	return s, nil
}

// Close stops accepting writes, lets the writer goroutine finish every write
// already handed to it, waits for it to exit and closes the database. Calls
// made after Close return store.ErrClosed. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	close(s.reqs)
	s.mu.Unlock()
	<-s.loopDone
	ckCloseErr := s.ck.stop()
	// Leave the file whole: everything in the WAL copied into the database
	// and the WAL emptied, so a copy of parley.db alone is complete.
	_, _, ckErr := checkpoint(context.Background(), s.w, "TRUNCATE")
	return errors.Join(ckErr, ckCloseErr, s.syncStopErr, closeStmts(s.stmts), s.r.Close(), s.w.Close())
}

// ObserveCommits implements store.Observable: o hears of each batch's
// commit, which takes the WAL write and its fsync, and, if it is a
// store.CheckpointObserver, of each checkpoint.
func (s *Store) ObserveCommits(o store.CommitObserver) { s.commits.Set(o) }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.sync.failed(); err != nil {
		return err
	}
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// write hands fn to the writer goroutine and waits until its batch commits.
// fn runs inside a savepoint: when it returns an error only its own changes
// are rolled back and the rest of the batch still commits. fn must not keep
// tx. If ctx ends first write returns ctx's error, and the write may or may
// not have been committed (as with any database call).
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *writeTx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		return err
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit hands req to the writer goroutine, waiting while its queue is
// full; requests submitted one after another by one goroutine run (and are
// answered) in that order.
func (s *Store) submit(ctx context.Context, req *writeReq) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.sync.failed(); err != nil {
		return fmt.Errorf("%w; restart Parley to recover the database", err)
	}
	select {
	case s.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answer hands each request of a finished batch its outcome: waiting
// callers at once, asynchronous ones in one hand-over to the completer.
func (s *Store) answer(batch []*writeReq, errs []error) {
	var later []completion
	for i, r := range batch {
		if r.then != nil {
			later = append(later, completion{then: r.then, err: errs[i]})
			continue
		}
		r.done <- errs[i]
	}
	s.completer.Hand(later)
}

// reader returns the read pool, or store.ErrClosed after Close.
func (s *Store) reader() (*readDB, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	return s.r, nil
}

// querier is what both the read pool and a write transaction offer, so
// loading helpers serve both paths.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// isConstraint reports whether err is a SQLite UNIQUE or PRIMARY KEY
// violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a SQLite FOREIGN KEY violation, which
// here means the referenced room does not exist.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// notFound turns sql.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// boolInt is how SQLite stores booleans.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
