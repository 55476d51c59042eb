package sqlite

import (
	"context"
	"fmt"
)

// The statements behind the counters, prepared on the writer (see
// hotStatements).
const (
	sqlDataVersion = `PRAGMA data_version`
	sqlLastSeq     = `SELECT last_seq FROM rooms WHERE name = ?`
	sqlSetLastSeq  = `UPDATE rooms SET last_seq = ? WHERE name = ?`
)

// seqCounters keeps rooms' sequence counters in memory for the writer, so
// an append takes its number without a statement, and each room's
// rooms.last_seq is written once per batch instead of once per event.
// Only the writer goroutine touches it.
//
// The cache is only as good as the knowledge that no one else wrote the
// file: every batch first reads PRAGMA data_version, which changes when
// another connection (another process on the same file, say) has
// committed, and starts the cache afresh if it has. Rooms' counters are
// read from rooms.last_seq on first use.
type seqCounters struct {
	cur   map[string]int64 // room -> last sequence taken, committed or pending
	dirty map[string]bool  // rooms whose cur is not yet in rooms.last_seq

	dataVersion int64 // as of the last batch; -1 before the first
}

func newSeqCounters() *seqCounters {
	return &seqCounters{cur: make(map[string]int64), dirty: make(map[string]bool), dataVersion: -1}
}

// begin starts a batch: it forgets every counter if another connection has
// committed since the last batch.
func (c *seqCounters) begin(ctx context.Context, tx *writeTx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, sqlDataVersion).Scan(&v); err != nil {
		return fmt.Errorf("read data_version: %w", err)
	}
	if v != c.dataVersion {
		c.reset()
	}
	c.dataVersion = v
	return nil
}

// reset forgets every counter; the next use reads them from the database.
// It is what a rolled-back batch, or a request rolled back to its
// savepoint, does: what the counters held beyond rooms.last_seq never
// reached the file.
func (c *seqCounters) reset() {
	clear(c.cur)
	clear(c.dirty)
}

// next takes room's next sequence number. A missing room is
// store.ErrNotFound.
func (c *seqCounters) next(ctx context.Context, tx *writeTx, room string) (int64, error) {
	seq, ok := c.cur[room]
	if !ok {
		if err := tx.QueryRowContext(ctx, sqlLastSeq, room).Scan(&seq); err != nil {
			return 0, fmt.Errorf("next sequence: %w", notFound(err))
		}
	}
	c.cur[room] = seq + 1
	c.dirty[room] = true
	return seq + 1, nil
}

// giveBack returns the number next just took, when the write it was for
// turned out to be a retry of one already stored.
func (c *seqCounters) giveBack(room string) {
	c.cur[room]--
	c.dirty[room] = true
}

// flush writes the pending counters to rooms.last_seq. The batch calls it
// before committing and, when it runs with savepoints, at the end of every
// request that succeeded, so that a later request rolled back to its
// savepoint can start the counters afresh from the file; writeTx calls it
// before any statement that could read last_seq.
func (c *seqCounters) flush(ctx context.Context, tx *writeTx) error {
	for room := range c.dirty {
		if _, err := tx.ExecContext(ctx, sqlSetLastSeq, c.cur[room], room); err != nil {
			return fmt.Errorf("write sequence of room %q: %w", room, err)
		}
		delete(c.dirty, room)
	}
	return nil
}
