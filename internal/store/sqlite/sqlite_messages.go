package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// The statements of the message write path, prepared once on the writer
// connection (see writeTx): the insert every Append runs (parsing it for
// every message cost over half the writer's CPU time), the look-up of a
// retried send, and the log-event insert of edits, deletions, reactions
// and logCreation.
const (
	// The "client_id <> ''" term lets SQLite use the partial unique index
	// on (client_id, room, sender); without it the planner cannot tell that
	// the bound id is not empty and scans the room's messages.
	sqlClientID = `SELECT seq FROM messages WHERE room = ? AND sender = ? AND client_id = ? AND client_id <> ''`
	// logged = 0: the row stands for the message's creation event in the
	// room's log until the message first changes (see logCreation).
	sqlInsertMessage = `INSERT INTO messages (id, room, seq, sender, sender_name, guest, client_id, text, created_at, logged)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (client_id, room, sender) WHERE client_id <> '' DO NOTHING`
	sqlInsertEvent = `INSERT INTO events (room, seq, kind, actor, emoji, added, at, message_id, message)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// Append stores msg with the room's next sequence number; see store.Store.
func (s *Store) Append(ctx context.Context, msg store.NewMessage) (store.Event, bool, error) {
	// ev and dup are locals, not named results: if ctx ends first, write
	// returns while the writer may still set them, and a return statement
	// must not write them at the same time.
	var ev store.Event
	var dup bool
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		var err error
		ev, dup, err = appendTx(ctx, tx, msg)
		return err
	})
	if err != nil {
		return store.Event{}, false, fmt.Errorf("sqlite: append to room %q: %w", msg.Room, err)
	}
	return ev, dup, nil
}

// AppendAsync implements store.AsyncAppender: the append joins the
// writer's next batch like any other, and done runs on the completer once
// that batch has committed.
func (s *Store) AppendAsync(ctx context.Context, msg store.NewMessage, done func(store.Event, bool, error)) {
	var ev store.Event
	var dup bool
	req := &writeReq{ctx: ctx,
		fn: func(ctx context.Context, tx *writeTx) error {
			var err error
			ev, dup, err = appendTx(ctx, tx, msg)
			return err
		},
		then: func(err error) {
			if err != nil {
				done(store.Event{}, false, fmt.Errorf("sqlite: append to room %q: %w", msg.Room, err))
				return
			}
			done(ev, dup, nil)
		},
	}
	if err := s.submit(ctx, req); err != nil {
		req.then(err)
	}
}

func appendTx(ctx context.Context, tx *writeTx, msg store.NewMessage) (store.Event, bool, error) {
	seq, err := nextSeq(ctx, tx, msg.Room)
	if err != nil {
		return store.Event{}, false, err
	}
	m := store.StoredMessage(msg, seq)
	// A retried send is caught by the unique (client_id, room, sender)
	// index rather than by a look-up before every insert: retries are rare,
	// and the look-up was one of the four statements of every append.
	res, err := tx.ExecContext(ctx, sqlInsertMessage,
		m.ID, m.Room, m.Seq, m.Sender, m.SenderName, boolInt(m.Guest), m.ClientID, m.Text,
		msgstate.Millis(m.CreatedAt))
	if err != nil {
		return store.Event{}, false, fmt.Errorf("insert message: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Event{}, false, fmt.Errorf("insert message: %w", err)
	} else if n == 0 {
		return duplicateTx(ctx, tx, msg)
	}
	// No row in events: the message's row is its log entry (see
	// logCreation), which saves the writer an index page per busy room.
	return store.CreationEvent(m), false, nil
}

// logCreation writes m's creation event into events if its messages row
// still stands for it, and must run before the message first changes: from
// then on the row no longer shows the message as it was created. m is the
// message as loaded before the change, which for a row that still stands
// for its creation is the message as created (no edit, deletion or
// reaction has been made to it).
func logCreation(ctx context.Context, tx *writeTx, m store.Message) error {
	res, err := tx.ExecContext(ctx, `UPDATE messages SET logged = 1 WHERE id = ? AND logged = 0`, m.ID)
	if err != nil {
		return fmt.Errorf("log the creation of message %s: %w", m.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("log the creation of message %s: %w", m.ID, err)
	} else if n == 0 {
		return nil // logged already
	}
	return insertEvent(ctx, tx, store.CreationEvent(m))
}

// duplicateTx answers a retried send: it gives back the sequence number the
// attempt took (keeping the log gap-free) and returns the stored message's
// event.
func duplicateTx(ctx context.Context, tx *writeTx, msg store.NewMessage) (store.Event, bool, error) {
	tx.seqs.giveBack(msg.Room)
	var seq int64
	if err := tx.QueryRowContext(ctx, sqlClientID, msg.Room, msg.Sender, msg.ClientID).Scan(&seq); err != nil {
		return store.Event{}, false, fmt.Errorf("find the retried message: %w", err)
	}
	ev, err := eventAt(ctx, tx, msg.Room, seq)
	return ev, true, err
}

// nextSeq takes the room's next sequence number. It is rolled back with the
// request if the write fails, which keeps the log gap-free.
func nextSeq(ctx context.Context, tx *writeTx, room string) (int64, error) {
	return tx.seqs.next(ctx, tx, room)
}

// insertEvent appends ev, with its message snapshot, to the room's log.
func insertEvent(ctx context.Context, tx *writeTx, ev store.Event) error {
	snap, err := msgstate.Encode(ev.Message)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, sqlInsertEvent,
		ev.Room, ev.Seq, string(ev.Kind), ev.Actor, ev.Emoji, boolInt(ev.Added),
		msgstate.Millis(ev.At), ev.Message.ID, string(snap)); err != nil {
		return fmt.Errorf("insert event %d: %w", ev.Seq, err)
	}
	return nil
}

// eventAt reads one log entry.
func eventAt(ctx context.Context, q querier, room string, seq int64) (store.Event, error) {
	evs, err := eventsAfter(ctx, q, room, seq-1, 1)
	if err != nil {
		return store.Event{}, err
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return store.Event{}, store.ErrNotFound
	}
	return evs[0], nil
}

// sqlEventsAfter reads a room's log after a sequence number (?2), in order,
// at most ?3 entries: the rows of events, and the creation events that are
// still messages rows (logged = 0, see logCreation). Each side is limited
// before the two are merged, so a long log is never read whole to return a
// page. The message column is NULL for the second kind, whose snapshot is
// the message's own columns.
const sqlEventsAfter = `SELECT * FROM (
		SELECT seq, kind, actor, emoji, added, at, message, '', '', 0, '', ''
		FROM events WHERE room = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3)
	UNION ALL
	SELECT * FROM (
		SELECT seq, 'message', sender, '', 0, created_at, NULL, id, sender_name, guest, client_id, text
		FROM messages WHERE room = ?1 AND seq > ?2 AND logged = 0 ORDER BY seq LIMIT ?3)
	ORDER BY seq LIMIT ?3`

// eventsAfter reads up to limit entries of room's log after sequence
// number after.
func eventsAfter(ctx context.Context, q querier, room string, after int64, limit int) ([]store.Event, error) {
	rows, err := q.QueryContext(ctx, sqlEventsAfter, room, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		ev := store.Event{Room: room}
		var kind string
		var snap sql.NullString
		var added, guest int
		var at int64
		var m store.Message
		if err := rows.Scan(&ev.Seq, &kind, &ev.Actor, &ev.Emoji, &added, &at, &snap,
			&m.ID, &m.SenderName, &guest, &m.ClientID, &m.Text); err != nil {
			return nil, err
		}
		if !snap.Valid { // a message that never changed: its row is the event
			m.Room, m.Seq, m.Sender, m.Guest, m.CreatedAt = room, ev.Seq, ev.Actor, guest != 0, msgstate.FromMillis(at)
			evs = append(evs, store.CreationEvent(m))
			continue
		}
		ev.Kind, ev.Added, ev.At = store.EventKind(kind), added != 0, msgstate.FromMillis(at)
		if ev.Message, err = msgstate.Decode([]byte(snap.String)); err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// Edit replaces the text of actor's own message; see store.Store.
func (s *Store) Edit(ctx context.Context, room, messageID, actor, text string) (store.Event, error) {
	var ev store.Event
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		m, err := loadLive(ctx, tx, room, messageID)
		if err != nil {
			return err
		}
		if m.Sender != actor {
			return store.ErrForbidden
		}
		seq, err := nextSeq(ctx, tx, room)
		if err != nil {
			return err
		}
		if err := logCreation(ctx, tx, m); err != nil {
			return err
		}
		m.Text, m.EditedAt = text, store.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, edited_at = ? WHERE id = ?`,
			m.Text, msgstate.Millis(m.EditedAt), m.ID); err != nil {
			return fmt.Errorf("update message: %w", err)
		}
		ev = store.Event{Room: room, Seq: seq, Kind: store.EventEdit, Actor: actor, At: m.EditedAt, Message: m}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("sqlite: edit message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

// Delete clears a message; see store.Store. Deleting a message that is
// already deleted returns store.ErrNotFound, as Edit does.
func (s *Store) Delete(ctx context.Context, room, messageID, actor string, moderator bool) (store.Event, error) {
	var ev store.Event
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		m, err := loadLive(ctx, tx, room, messageID)
		if err != nil {
			return err
		}
		if m.Sender != actor && !moderator {
			return store.ErrForbidden
		}
		seq, err := nextSeq(ctx, tx, room)
		if err != nil {
			return err
		}
		if err := logCreation(ctx, tx, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = '', deleted = 1 WHERE id = ?`, m.ID); err != nil {
			return fmt.Errorf("update message: %w", err)
		}
		m.Text, m.Deleted = "", true
		ev = store.Event{Room: room, Seq: seq, Kind: store.EventDelete, Actor: actor, At: store.Now(), Message: m}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("sqlite: delete message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

// React adds or removes user's emoji on a message; see store.Store.
func (s *Store) React(ctx context.Context, room, messageID, user, emoji string, add bool) (store.Event, error) {
	var ev store.Event
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		m, err := loadLive(ctx, tx, room, messageID)
		if err != nil {
			return err
		}
		ev = store.Event{Room: room, Kind: store.EventReaction, Actor: user, Emoji: emoji, Added: add, At: store.Now(), Message: m}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?`,
			m.ID, emoji, user).Scan(&n); err != nil {
			return fmt.Errorf("read reaction: %w", err)
		}
		if (n > 0) == add {
			return nil // nothing changes: log nothing, Seq stays 0
		}
		if ev.Seq, err = nextSeq(ctx, tx, room); err != nil {
			return err
		}
		if err := logCreation(ctx, tx, m); err != nil {
			return err
		}
		if add {
			_, err = tx.ExecContext(ctx, `INSERT INTO reactions (message_id, emoji, user_id, ord) VALUES (?, ?, ?, ?)`,
				m.ID, emoji, user, ev.Seq)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?`,
				m.ID, emoji, user)
		}
		if err != nil {
			return fmt.Errorf("write reaction: %w", err)
		}
		if ev.Message, err = loadMessage(ctx, tx, room, messageID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("sqlite: react to message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

// loadLive is loadMessage for changing a message: a deleted message counts
// as missing.
func loadLive(ctx context.Context, q querier, room, id string) (store.Message, error) {
	m, err := loadMessage(ctx, q, room, id)
	if err == nil && m.Deleted {
		return store.Message{}, store.ErrNotFound
	}
	return m, err
}

const messageSelect = `SELECT id, room, seq, sender, sender_name, guest, client_id, text, created_at, edited_at, deleted FROM messages`

// loadMessage reads a message's current state, reactions included.
func loadMessage(ctx context.Context, q querier, room, id string) (store.Message, error) {
	rows, err := q.QueryContext(ctx, messageSelect+` WHERE id = ? AND room = ?`, id, room)
	if err != nil {
		return store.Message{}, fmt.Errorf("read message: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return store.Message{}, fmt.Errorf("read message: %w", err)
	}
	if len(ms) == 0 {
		return store.Message{}, store.ErrNotFound
	}
	if err := addReactions(ctx, q, ms, `message_id = ?`, id); err != nil {
		return store.Message{}, err
	}
	return ms[0], nil
}

func scanMessages(rows *sql.Rows) ([]store.Message, error) {
	defer rows.Close()
	var ms []store.Message
	for rows.Next() {
		var m store.Message
		var guest, deleted int
		var created, edited int64
		if err := rows.Scan(&m.ID, &m.Room, &m.Seq, &m.Sender, &m.SenderName, &guest, &m.ClientID,
			&m.Text, &created, &edited, &deleted); err != nil {
			return nil, err
		}
		m.Guest, m.Deleted = guest != 0, deleted != 0
		m.CreatedAt, m.EditedAt = msgstate.FromMillis(created), msgstate.FromMillis(edited)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// addReactions fills in the reactions of ms, reading the reaction rows that
// match where (a condition on the reactions table that covers every message
// in ms) in one query.
func addReactions(ctx context.Context, q querier, ms []store.Message, where string, args ...any) error {
	if len(ms) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx,
		`SELECT message_id, emoji, user_id FROM reactions WHERE `+where+` ORDER BY ord`, args...)
	if err != nil {
		return fmt.Errorf("read reactions: %w", err)
	}
	defer rows.Close()
	var rs []msgstate.ReactionRow
	for rows.Next() {
		var r msgstate.ReactionRow
		if err := rows.Scan(&r.MessageID, &r.Emoji, &r.User); err != nil {
			return fmt.Errorf("read reactions: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read reactions: %w", err)
	}
	byID := msgstate.Group(rs)
	for i := range ms {
		ms[i].Reactions = byID[ms[i].ID]
	}
	return nil
}

// Events returns the room's log after a sequence number; see store.Store.
// limit is clamped with store.ClampLimit.
func (s *Store) Events(ctx context.Context, room string, after int64, limit int) ([]store.Event, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	evs, err := eventsAfter(ctx, db, room, after, store.ClampLimit(limit))
	if err == nil && len(evs) == 0 {
		err = roomExists(ctx, db, room)
	}
	if err = s.settle(ctx, err); err == nil {
		return evs, nil
	}
	return nil, fmt.Errorf("sqlite: events of room %q after %d: %w", room, after, err)
}

// History pages through a room's messages; see store.HistoryQuery.
func (s *Store) History(ctx context.Context, room string, q store.HistoryQuery) ([]store.Message, error) {
	ms, err := s.history(ctx, room, q)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: history of room %q: %w", room, err)
	}
	return ms, nil
}

func (s *Store) history(ctx context.Context, room string, q store.HistoryQuery) ([]store.Message, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(messageSelect + ` WHERE room = ?`)
	args := []any{room}
	switch {
	case q.Before > 0:
		b.WriteString(` AND seq < ? ORDER BY seq DESC`)
		args = append(args, q.Before)
	case q.Forward && q.After >= 0:
		b.WriteString(` AND seq > ? ORDER BY seq`)
		args = append(args, q.After)
	default:
		b.WriteString(` ORDER BY seq DESC`)
	}
	b.WriteString(` LIMIT ?`)
	args = append(args, store.ClampLimit(q.Limit))
	rows, err := db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, roomExists(ctx, db, room)
	}
	lo, hi := ms[0].Seq, ms[len(ms)-1].Seq
	if lo > hi {
		lo, hi = hi, lo
	}
	err = addReactions(ctx, db, ms,
		`message_id IN (SELECT id FROM messages WHERE room = ? AND seq BETWEEN ? AND ?)`, room, lo, hi)
	return ms, err
}

// Message returns one message's current state; see store.Store.
func (s *Store) Message(ctx context.Context, room, id string) (store.Message, error) {
	db, err := s.reader()
	if err == nil {
		var m store.Message
		m, err = loadMessage(ctx, db, room, id)
		if err = s.settle(ctx, err); err == nil {
			return m, nil
		}
	}
	return store.Message{}, fmt.Errorf("sqlite: message %s in room %q: %w", id, room, err)
}

// roomExists returns nil if the room exists and store.ErrNotFound if not.
// Reads that find nothing use it to tell an empty room from a missing one.
func roomExists(ctx context.Context, q querier, room string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM rooms WHERE name = ?`, room).Scan(&one)
	return notFound(err)
}
