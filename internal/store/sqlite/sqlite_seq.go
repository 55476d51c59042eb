package sqlite

import (
	"context"
	"fmt"
)

// lastSeqOf is the SQL for the last sequence number of the room that the
// SQL expression room names: the highest seq in its log, 0 for an empty
// one. A message's number is in its messages row and every other event's
// in events (see migration 0003); both tables' (room, seq) indexes answer
// max(seq) with one look-up.
func lastSeqOf(room string) string {
	return `max(coalesce((SELECT max(seq) FROM messages WHERE room = ` + room + `), 0),
		coalesce((SELECT max(seq) FROM events WHERE room = ` + room + `), 0))`
}

// The statements behind the counters, prepared on the writer (see
// hotStatements).
const sqlDataVersion = `PRAGMA data_version`

var sqlLastSeq = `SELECT ` + lastSeqOf("rooms.name") + ` FROM rooms WHERE name = ?`

// seqCounters keeps rooms' sequence counters in memory for the writer, so
// an append takes its number without a statement. A counter is read from
// the room's log on first use; it needs no writing back, as the number
// lives in the row of the event that took it.
// Only the writer goroutine touches it.
//
// The cache is only as good as the knowledge that no one else wrote the
// file: every batch first reads PRAGMA data_version, which changes when
// another connection (another process on the same file, say) has
// committed, and starts the cache afresh if it has.
type seqCounters struct {
	cur map[string]int64 // room -> last sequence taken, committed or pending

	dataVersion int64 // as of the last batch; -1 before the first
}

func newSeqCounters() *seqCounters {
	return &seqCounters{cur: make(map[string]int64), dataVersion: -1}
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

// reset forgets every counter; the next use reads them from the log as the
// transaction sees it. It is what a rolled-back batch, or a request rolled
// back to its savepoint, does: the numbers it took went with it.
func (c *seqCounters) reset() {
	clear(c.cur)
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
	return seq + 1, nil
}

// giveBack returns the number next just took, when the write it was for
// turned out to be a retry of one already stored.
func (c *seqCounters) giveBack(room string) {
	c.cur[room]--
}
