package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/groupcommit"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// maxAppendBatch bounds the appends one batch transaction carries.
const maxAppendBatch = 1024

// appendReq is one AppendAsync on its way through the batcher; ev, dup and
// err are its outcome, set by the batcher and read by the completer.
type appendReq struct {
	ctx  context.Context
	msg  store.NewMessage
	done func(store.Event, bool, error)

	ev  store.Event
	dup bool
	err error
}

// AppendAsync implements store.AsyncAppender. Appends from every
// connection of this node are gathered by one goroutine and stored
// together, a batch at a time, in one transaction of two round trips
// whatever its size (see storeBatch): one transaction and commit per
// message, six round trips each, held a node at about 2,800 chat messages
// a second. done runs on the completer once the batch has committed.
func (s *Store) AppendAsync(ctx context.Context, msg store.NewMessage, done func(store.Event, bool, error)) {
	r := &appendReq{ctx: ctx, msg: msg, done: done}
	s.amu.RLock()
	if s.closed.Load() {
		s.amu.RUnlock()
		done(store.Event{}, false, fmt.Errorf("postgres: append to room %q: %w", msg.Room, store.ErrClosed))
		return
	}
	select {
	case s.appends <- r:
		s.amu.RUnlock()
	case <-ctx.Done():
		s.amu.RUnlock()
		done(store.Event{}, false, fmt.Errorf("postgres: append to room %q: %w", msg.Room, ctx.Err()))
	}
}

// batchAppends is the batcher goroutine: it takes what is queued, stores
// it as one batch and hands the batch to the completer, until Close closes
// appends and the last batch is done.
func (s *Store) batchAppends() {
	defer close(s.batcherDone)
	defer s.completer.Close()
	for r := range s.appends {
		batch := groupcommit.Fill([]*appendReq{r}, s.appends, maxAppendBatch)
		s.runAppends(batch)
		s.completer.Hand(batch)
	}
}

// finish tells the request's caller its outcome; the completer calls it.
func (r *appendReq) finish() { r.done(r.ev, r.dup, r.err) }

// runAppends stores batch in one transaction. If that fails as a whole —
// a request the batch's checks did not foresee (text PostgreSQL refuses,
// say) or a lost connection — each request is run on its own, as Append
// would run it, so that one bad request fails alone.
func (s *Store) runAppends(batch []*appendReq) {
	live := make([]*appendReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("postgres: append to room %q: %w", r.msg.Room, err)
			continue // the caller has gone; do not write for them
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	start := time.Now()
	err := s.storeBatch(context.Background(), live)
	s.commits.Committed(len(live), time.Since(start), err)
	if err == nil {
		return
	}
	if s.closed.Load() && len(live) > 1 {
		s.logger.Debug("postgres: append batch failed while closing", "batch", len(live), "err", err)
	} else if len(live) > 1 {
		s.logger.Warn("postgres: append batch failed; storing its messages one by one", "batch", len(live), "err", err)
	}
	for _, r := range live {
		r.ev, r.dup, r.err = s.Append(r.ctx, r.msg)
	}
}

// clientKey identifies an idempotent send.
type clientKey struct{ room, sender, clientID string }

// storeBatch stores the appends of reqs in one transaction, setting each
// one's outcome, with the same results as Append for each in turn, in two
// round trips:
//
//  1. begin; lock the batch's rooms, in name order so that two nodes'
//     batches never wait for each other in a cycle, and read their
//     counters; find the sends already stored under the batch's client ids
//     (the rooms are locked, so none can be stored meanwhile);
//  2. number the rest in order (an append to a room that does not exist
//     fails with ErrNotFound; a repeat of a client id is a duplicate of the
//     send stored before it) and write them, their log events and the
//     rooms' new counters, and commit.
//
// A duplicate of a send from an earlier batch reads that send's event in
// a round trip of its own, which retries alone need.
func (s *Store) storeBatch(ctx context.Context, reqs []*appendReq) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Best effort: a connection left inside a transaction is
			// dropped by Release rather than reused.
			_, _ = conn.Exec(ctx, "ROLLBACK")
		}
		conn.Release()
	}()

	names := make([]string, 0, len(reqs))
	var rs, ss, cs []string
	for _, r := range reqs {
		names = append(names, r.msg.Room)
		if r.msg.ClientID != "" {
			rs, ss, cs = append(rs, r.msg.Room), append(ss, r.msg.Sender), append(cs, r.msg.ClientID)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	last := make(map[string]int64, len(names))
	stored := make(map[clientKey]int64)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(`SELECT name, last_seq FROM rooms WHERE name = ANY($1) ORDER BY name FOR UPDATE`, names).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var name string
			var seq int64
			if err := rows.Scan(&name, &seq); err != nil {
				return fmt.Errorf("lock rooms: %w", err)
			}
			last[name] = seq
		}
		return rows.Err()
	})
	if len(rs) > 0 {
		// "client_id <> ''" lets the planner use the partial unique index
		// on (room, sender, client_id).
		b.Queue(`SELECT m.room, m.sender, m.client_id, m.seq
			FROM messages m JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(room, sender, client_id)
			ON m.room = k.room AND m.sender = k.sender AND m.client_id = k.client_id
			WHERE m.client_id <> ''`, rs, ss, cs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k clientKey
				var seq int64
				if err := rows.Scan(&k.room, &k.sender, &k.clientID, &seq); err != nil {
					return fmt.Errorf("look up client ids: %w", err)
				}
				stored[k] = seq
			}
			return rows.Err()
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("lock rooms and look up client ids: %w", err)
	}

	var w batchWrite
	first := make(map[clientKey]*appendReq) // the new send each client id in the batch stored
	for _, r := range reqs {
		m := r.msg
		start, ok := last[m.Room]
		if !ok {
			r.err = fmt.Errorf("postgres: append to room %q: next sequence: %w", m.Room, store.ErrNotFound)
			continue
		}
		key := clientKey{m.Room, m.Sender, m.ClientID}
		if m.ClientID != "" {
			if seq, ok := stored[key]; ok {
				ev, err := eventAt(ctx, conn, m.Room, seq)
				if err != nil {
					return fmt.Errorf("read the event of client id %q: %w", m.ClientID, err)
				}
				r.ev, r.dup = ev, true
				continue
			}
			if f, ok := first[key]; ok {
				r.ev, r.dup = f.ev, true
				continue
			}
			first[key] = r
		}
		last[m.Room] = start + 1
		r.ev = store.CreationEvent(store.StoredMessage(m, start+1))
		if err := w.add(r.ev); err != nil {
			return err
		}
	}
	for _, name := range names {
		if seq, ok := last[name]; ok {
			w.counterRooms = append(w.counterRooms, name)
			w.lastSeqs = append(w.lastSeqs, seq)
		}
	}
	return w.send(ctx, conn)
}

// batchWrite holds a batch's new messages and log events column by
// column, for one multi-row insert each.
type batchWrite struct {
	ids, rooms, senders, names, clientIDs, texts, snaps []string
	seqs                                                []int64
	guests                                              []bool
	at                                                  []time.Time
	// the batch's rooms and their counters after it
	counterRooms []string
	lastSeqs     []int64
}

func (w *batchWrite) add(ev store.Event) error {
	m := ev.Message
	snap, err := msgstate.Encode(m)
	if err != nil {
		return err
	}
	w.ids = append(w.ids, m.ID)
	w.rooms = append(w.rooms, m.Room)
	w.seqs = append(w.seqs, m.Seq)
	w.senders = append(w.senders, m.Sender)
	w.names = append(w.names, m.SenderName)
	w.guests = append(w.guests, m.Guest)
	w.clientIDs = append(w.clientIDs, m.ClientID)
	w.texts = append(w.texts, m.Text)
	w.at = append(w.at, m.CreatedAt)
	w.snaps = append(w.snaps, string(snap))
	return nil
}

// send writes the messages, their log events and the rooms' counters and
// commits, in one round trip.
func (w *batchWrite) send(ctx context.Context, conn *pgxpool.Conn) error {
	b := &pgx.Batch{}
	if len(w.ids) > 0 {
		b.Queue(`INSERT INTO messages (id, room, seq, sender, sender_name, guest, client_id, text, created_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::timestamptz[])`,
			w.ids, w.rooms, w.seqs, w.senders, w.names, w.guests, w.clientIDs, w.texts, w.at)
		b.Queue(`INSERT INTO events (room, seq, kind, actor, emoji, added, at, message_id, message)
			SELECT room, seq, $7, actor, '', false, at, message_id, message
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[]) AS e(room, seq, actor, at, message_id, message)`,
			w.rooms, w.seqs, w.senders, w.at, w.ids, w.snaps, string(store.EventMessage))
		b.Queue(`UPDATE rooms SET last_seq = v.seq FROM unnest($1::text[], $2::bigint[]) AS v(name, seq) WHERE rooms.name = v.name`,
			w.counterRooms, w.lastSeqs)
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write a batch of %d messages: %w", len(w.ids), err)
	}
	return nil
}
