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
	undo  []seqUndo        // changes since the batch began, for rolling back one request

	dataVersion int64
	known       bool // dataVersion has been read once
}

type seqUndo struct {
	room    string
	prev    int64
	had     bool // cur held room before the change
	wasDirt bool // room was dirty before the change
}

func newSeqCounters() *seqCounters {
	return &seqCounters{cur: make(map[string]int64), dirty: make(map[string]bool)}
}

// begin starts a batch: it forgets every counter if another connection has
// committed since the last batch.
func (c *seqCounters) begin(ctx context.Context, tx *writeTx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, sqlDataVersion).Scan(&v); err != nil {
		return fmt.Errorf("read data_version: %w", err)
	}
	if !c.known || v != c.dataVersion {
		c.reset()
	}
	c.dataVersion, c.known = v, true
	c.undo = c.undo[:0]
	return nil
}

// reset forgets every counter; the next use reads them from the database.
// It is what a rolled-back batch does, since the batch's counters never
// reached the file.
func (c *seqCounters) reset() {
	clear(c.cur)
	clear(c.dirty)
	c.undo = c.undo[:0]
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
	c.set(room, seq+1, ok)
	return seq + 1, nil
}

// giveBack returns the number next just took, when the write it was for
// turned out to be a retry of one already stored.
func (c *seqCounters) giveBack(room string) {
	c.set(room, c.cur[room]-1, true)
}

func (c *seqCounters) set(room string, seq int64, had bool) {
	c.undo = append(c.undo, seqUndo{room: room, prev: c.cur[room], had: had, wasDirt: c.dirty[room]})
	c.cur[room] = seq
	c.dirty[room] = true
}

// mark and rollback undo the counters a single request took when its
// savepoint is rolled back.
func (c *seqCounters) mark() int { return len(c.undo) }

func (c *seqCounters) rollback(mark int) {
	for i := len(c.undo) - 1; i >= mark; i-- {
		u := c.undo[i]
		if u.had {
			c.cur[u.room] = u.prev
		} else {
			delete(c.cur, u.room)
		}
		if u.wasDirt {
			c.dirty[u.room] = true
		} else {
			delete(c.dirty, u.room)
		}
	}
	c.undo = c.undo[:mark]
}

// flush writes the pending counters to rooms.last_seq. The batch calls it
// before committing, and so must a request that reads last_seq.
func (c *seqCounters) flush(ctx context.Context, tx *writeTx) error {
	for room := range c.dirty {
		if _, err := tx.ExecContext(ctx, sqlSetLastSeq, c.cur[room], room); err != nil {
			return fmt.Errorf("write sequence of room %q: %w", room, err)
		}
		// If the request flushing is rolled back to its savepoint, so is
		// this UPDATE, and the room must be dirty again.
		c.undo = append(c.undo, seqUndo{room: room, prev: c.cur[room], had: true, wasDirt: true})
		delete(c.dirty, room)
	}
	return nil
}
