package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// openBatch is the writer's transaction while it gathers requests: each
// request runs as it arrives, and the batch commits once the disk has
// flushed the one before (see loop).
type openBatch struct {
	tx   *writeTx
	reqs []*writeReq
	errs []error // each request's outcome, by index
	// savepoints is set once a request has failed: the transaction was
	// started again with every request inside a savepoint of its own.
	savepoints bool
	// broken is the failure of the transaction as a whole; every request
	// of the batch fails with it.
	broken error
}

// loop is the writer goroutine: it runs until Close closes reqs and every
// request sent before that has been answered.
//
// It runs requests as they arrive, in a transaction it commits as soon as
// the syncer has flushed the previous commit; while the disk flushes, the
// next batch's statements run. A batch is therefore as long as a flush,
// as with a commit that waited for its own fsync, but the requests that
// arrive during the flush are done by the time it ends instead of
// starting then. At most maxBatch requests wait in one transaction.
func (s *Store) loop() {
	defer close(s.loopDone)
	defer s.completer.Close()
	var b *openBatch
	closing := false
	for {
		if b != nil && (closing || s.sync.idle()) {
			s.commitBatch(b)
			b = nil
			s.restartWAL()
			continue
		}
		if closing {
			break
		}
		if b != nil && len(b.reqs) >= maxBatch {
			<-s.sync.flushed
			continue
		}
		var flushed <-chan struct{}
		if b != nil {
			flushed = s.sync.flushed
		}
		select {
		case req, ok := <-s.reqs:
			if !ok {
				closing = true
				continue
			}
			b = s.add(b, req)
			// Whatever is already waiting joins now, so a burst of
			// requests that finds the disk idle still commits together.
			// Only this goroutine receives, so what len counts is there.
			for len(s.reqs) > 0 && len(b.reqs) < maxBatch {
				b = s.add(b, <-s.reqs)
			}
		case <-flushed:
		}
	}
	// The syncer answers what it holds before the completer closes.
	s.syncStopErr = s.sync.stop()
}

// add runs r in the open batch, opening one if there is none.
func (s *Store) add(b *openBatch, r *writeReq) *openBatch {
	if b == nil {
		b = &openBatch{}
		s.begin(b)
	}
	b.reqs = append(b.reqs, r)
	b.errs = append(b.errs, nil)
	s.run(b, len(b.reqs)-1)
	return b
}

// run runs request i of b as the batch stands: not at all if the batch is
// broken or the caller has gone, inside a savepoint once a request of the
// batch has failed, and otherwise bare.
func (s *Store) run(b *openBatch, i int) {
	r := b.reqs[i]
	switch {
	case b.broken != nil:
		b.errs[i] = b.broken
	case r.ctx.Err() != nil:
		b.errs[i] = r.ctx.Err() // the caller has gone; do not write for them
	case b.savepoints:
		s.runSaved(b, i)
	default:
		// Requests almost never fail, so they first run without a
		// savepoint each (two statements fewer per request). Only if one
		// fails does the transaction start again with savepoints, so that
		// the failure undoes that request alone.
		if err := r.fn(context.Background(), b.tx); err != nil {
			s.redo(b)
		}
	}
}

// begin starts b's transaction; if it cannot, b is broken.
func (s *Store) begin(b *openBatch) {
	// The batch runs to completion whatever its callers do: a caller that
	// gives up has not undone its write, and others share the transaction.
	ctx := context.Background()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		s.abandon(b, fmt.Errorf("sqlite: begin batch: %w", err))
		return
	}
	b.tx = &writeTx{Tx: sqlTx, stmts: s.stmts, seqs: s.seqs}
	if err := s.seqs.begin(ctx, b.tx); err != nil {
		s.abandon(b, fmt.Errorf("sqlite: begin batch: %w", err))
	}
}

// redo rolls b back and runs its requests again, each in its own
// savepoint, as every later request of the batch will be.
func (s *Store) redo(b *openBatch) {
	b.tx.Rollback()
	b.tx = nil
	s.seqs.reset() // the counters the transaction took go with it
	b.savepoints = true
	s.begin(b)
	for i := range b.reqs {
		s.run(b, i)
	}
}

// runSaved runs request i of b inside a savepoint, which is rolled back if
// the request fails.
func (s *Store) runSaved(b *openBatch, i int) {
	ctx := context.Background()
	if _, err := b.tx.ExecContext(ctx, sqlSavepoint); err != nil {
		s.abandon(b, fmt.Errorf("sqlite: savepoint: %w", err))
		return
	}
	if b.errs[i] = b.reqs[i].fn(ctx, b.tx); b.errs[i] != nil {
		if _, err := b.tx.ExecContext(ctx, sqlRollbackTo); err != nil {
			// The transaction is in an unknown state: abandon it all.
			s.abandon(b, fmt.Errorf("sqlite: rollback to savepoint: %w", err))
			return
		}
		// This request's numbers went with its savepoint; the counters
		// are read again from the log as the earlier requests left it.
		s.seqs.reset()
	}
	if _, err := b.tx.ExecContext(ctx, sqlRelease); err != nil {
		s.abandon(b, fmt.Errorf("sqlite: release savepoint: %w", err))
	}
}

// abandon rolls b's whole transaction back and fails every request of it
// that has not failed on its own, now and later.
func (s *Store) abandon(b *openBatch, err error) {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
	s.seqs.reset()
	b.broken = err
	for i := range b.errs {
		if b.errs[i] == nil {
			b.errs[i] = err
		}
	}
}

// commitTx commits a batch's transaction; a variable so that tests can
// hold a commit back and see that nothing is answered meanwhile.
var commitTx = (*sql.Tx).Commit

// quietBatch is the largest batch whose flush the writer makes itself
// when no request is waiting. A batch holds about what arrived during the
// flush before it, so a small one says few requests will arrive during
// this one either: the writer would mostly wait for the disk, and flushing
// itself spares the answers a goroutine switch (0.02–0.06 cores at 1 msg/s
// in the chat benchmark). A big one says many will: the writer runs them
// while the syncer flushes. The queue being empty alone says little, as
// the writer has just taken everything in it.
const quietBatch = 4

// commitBatch commits b and has its requests answered once the commit is
// on disk: by the syncer, so that the writer can go on with the requests
// arriving, or, when the server is quiet (see quietBatch), by the writer
// itself.
func (s *Store) commitBatch(b *openBatch) {
	it := syncItem{batch: b.reqs, errs: b.errs}
	defer func() {
		if len(b.reqs) <= quietBatch && len(s.reqs) == 0 && s.sync.idle() {
			s.sync.finishNow(it)
			return
		}
		s.sync.hand(it)
	}()
	if b.broken != nil {
		return
	}
	// The number comes before the commit: see walSyncer.numbered.
	it.num, it.start = s.sync.number(), time.Now()
	if err := commitTx(b.tx.Tx); err != nil {
		s.commits.Committed(len(b.reqs), time.Since(it.start), err)
		s.abandon(b, fmt.Errorf("sqlite: commit batch of %d: %w", len(b.reqs), err))
		s.logger.Error("sqlite: commit failed", "batch", len(b.reqs), "err", err)
		return
	}
	it.committed = true
	s.ck.committed()
}
