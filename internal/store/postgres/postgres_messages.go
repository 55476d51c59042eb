package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// errUnchanged makes write roll back a transaction whose outcome is "nothing
// to do" (a retried Append, a no-op React): the sequence number it took is
// given back and the caller gets the result fn recorded, with no error.
var errUnchanged = errors.New("postgres: unchanged")

// Append stores msg with the room's next sequence number; see store.Store.
func (s *Store) Append(ctx context.Context, msg store.NewMessage) (ev store.Event, dup bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		ev, dup, err = appendTx(ctx, tx, msg)
		if err == nil && dup {
			return errUnchanged
		}
		return err
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return store.Event{}, false, fmt.Errorf("postgres: append to room %q: %w", msg.Room, err)
	}
	return ev, dup, nil
}

func appendTx(ctx context.Context, tx pgx.Tx, msg store.NewMessage) (store.Event, bool, error) {
	// Take the sequence number first: its row lock orders this append after
	// any concurrent one to the room, so the client-id check below sees a
	// racing retry that committed first.
	seq, err := nextSeq(ctx, tx, msg.Room)
	if err != nil {
		return store.Event{}, false, err
	}
	if msg.ClientID != "" {
		var prev int64
		// "client_id <> ''" lets a generic plan use the partial unique
		// index on (room, sender, client_id) instead of scanning the room.
		err := tx.QueryRow(ctx, `SELECT seq FROM messages WHERE room = $1 AND sender = $2 AND client_id = $3 AND client_id <> ''`,
			msg.Room, msg.Sender, msg.ClientID).Scan(&prev)
		switch {
		case err == nil:
			ev, err := eventAt(ctx, tx, msg.Room, prev)
			return ev, err == nil, err
		case !errors.Is(err, pgx.ErrNoRows):
			return store.Event{}, false, fmt.Errorf("look up client id: %w", err)
		}
	}
	m := store.StoredMessage(msg, seq)
	ev := store.CreationEvent(m)
	if _, err := tx.Exec(ctx, `INSERT INTO messages
		(id, room, seq, sender, sender_name, guest, client_id, text, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ID, m.Room, m.Seq, m.Sender, m.SenderName, m.Guest, m.ClientID, m.Text, m.CreatedAt); err != nil {
		return store.Event{}, false, fmt.Errorf("insert message: %w", err)
	}
	return ev, false, insertEvent(ctx, tx, ev)
}

// nextSeq takes the room's next sequence number and, with it, the room's
// row lock until the transaction ends.
func nextSeq(ctx context.Context, tx pgx.Tx, room string) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, `UPDATE rooms SET last_seq = last_seq + 1 WHERE name = $1 RETURNING last_seq`, room).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next sequence: %w", notFound(err))
	}
	return seq, nil
}

// insertEvent appends ev, with its message snapshot, to the room's log.
func insertEvent(ctx context.Context, tx pgx.Tx, ev store.Event) error {
	snap, err := msgstate.Encode(ev.Message)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO events (room, seq, kind, actor, emoji, added, at, message_id, message)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ev.Room, ev.Seq, string(ev.Kind), ev.Actor, ev.Emoji, ev.Added, ev.At, ev.Message.ID, string(snap)); err != nil {
		return fmt.Errorf("insert event %d: %w", ev.Seq, err)
	}
	return nil
}

const eventSelect = `SELECT seq, kind, actor, emoji, added, at, message FROM events`

// eventAt reads one log entry.
func eventAt(ctx context.Context, q querier, room string, seq int64) (store.Event, error) {
	rows, err := q.Query(ctx, eventSelect+` WHERE room = $1 AND seq = $2`, room, seq)
	if err != nil {
		return store.Event{}, err
	}
	evs, err := scanEvents(rows, room)
	if err != nil {
		return store.Event{}, err
	}
	if len(evs) == 0 {
		return store.Event{}, store.ErrNotFound
	}
	return evs[0], nil
}

func scanEvents(rows pgx.Rows, room string) ([]store.Event, error) {
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		ev := store.Event{Room: room}
		var kind, snap string
		if err := rows.Scan(&ev.Seq, &kind, &ev.Actor, &ev.Emoji, &ev.Added, &ev.At, &snap); err != nil {
			return nil, err
		}
		ev.Kind, ev.At = store.EventKind(kind), utc(ev.At)
		m, err := msgstate.Decode([]byte(snap))
		if err != nil {
			return nil, err
		}
		ev.Message = m
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// change runs the common part of Edit, Delete and React in one transaction:
// take the room's lock and next sequence number, load the live message,
// then let apply check and change it. apply returns the event to log, or
// errUnchanged to roll back.
func (s *Store) change(ctx context.Context, room, id string,
	apply func(tx pgx.Tx, seq int64, m store.Message) (store.Event, error)) (store.Event, error) {
	var ev store.Event
	err := s.write(ctx, func(tx pgx.Tx) error {
		seq, err := nextSeq(ctx, tx, room)
		if err != nil {
			return err
		}
		m, err := loadMessage(ctx, tx, room, id)
		if err == nil && m.Deleted {
			err = store.ErrNotFound // a deleted message cannot change
		}
		if err != nil {
			return err
		}
		if ev, err = apply(tx, seq, m); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return ev, err
}

// Edit replaces the text of actor's own message; see store.Store.
func (s *Store) Edit(ctx context.Context, room, messageID, actor, text string) (store.Event, error) {
	ev, err := s.change(ctx, room, messageID, func(tx pgx.Tx, seq int64, m store.Message) (store.Event, error) {
		if m.Sender != actor {
			return store.Event{}, store.ErrForbidden
		}
		m.Text, m.EditedAt = text, store.Now()
		if _, err := tx.Exec(ctx, `UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3`,
			m.Text, m.EditedAt, m.ID); err != nil {
			return store.Event{}, fmt.Errorf("update message: %w", err)
		}
		return store.Event{Room: room, Seq: seq, Kind: store.EventEdit, Actor: actor, At: m.EditedAt, Message: m}, nil
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("postgres: edit message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

// Delete clears a message; see store.Store. Deleting a message that is
// already deleted returns store.ErrNotFound, as Edit does.
func (s *Store) Delete(ctx context.Context, room, messageID, actor string, moderator bool) (store.Event, error) {
	ev, err := s.change(ctx, room, messageID, func(tx pgx.Tx, seq int64, m store.Message) (store.Event, error) {
		if m.Sender != actor && !moderator {
			return store.Event{}, store.ErrForbidden
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET text = '', deleted = true WHERE id = $1`, m.ID); err != nil {
			return store.Event{}, fmt.Errorf("update message: %w", err)
		}
		m.Text, m.Deleted = "", true
		return store.Event{Room: room, Seq: seq, Kind: store.EventDelete, Actor: actor, At: store.Now(), Message: m}, nil
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("postgres: delete message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

// React adds or removes user's emoji on a message; see store.Store.
func (s *Store) React(ctx context.Context, room, messageID, user, emoji string, add bool) (store.Event, error) {
	ev, err := s.change(ctx, room, messageID, func(tx pgx.Tx, seq int64, m store.Message) (store.Event, error) {
		ev := store.Event{Room: room, Kind: store.EventReaction, Actor: user, Emoji: emoji, Added: add, At: store.Now(), Message: m}
		var tag interface{ RowsAffected() int64 }
		var err error
		if add {
			tag, err = tx.Exec(ctx, `INSERT INTO reactions (message_id, emoji, user_id, ord) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, m.ID, emoji, user, seq)
		} else {
			tag, err = tx.Exec(ctx, `DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3`,
				m.ID, emoji, user)
		}
		if err != nil {
			return store.Event{}, fmt.Errorf("write reaction: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ev, errUnchanged // log nothing; Seq stays 0
		}
		ev.Seq = seq
		if ev.Message, err = loadMessage(ctx, tx, room, messageID); err != nil {
			return store.Event{}, err
		}
		return ev, nil
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("postgres: react to message %s in room %q: %w", messageID, room, err)
	}
	return ev, nil
}

const messageSelect = `SELECT id, room, seq, sender, sender_name, guest, client_id, text, created_at, edited_at, deleted FROM messages`

// loadMessage reads a message's current state, reactions included.
func loadMessage(ctx context.Context, q querier, room, id string) (store.Message, error) {
	rows, err := q.Query(ctx, messageSelect+` WHERE id = $1 AND room = $2`, id, room)
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
	if err := addReactions(ctx, q, ms, `message_id = $1`, id); err != nil {
		return store.Message{}, err
	}
	return ms[0], nil
}

func scanMessages(rows pgx.Rows) ([]store.Message, error) {
	defer rows.Close()
	var ms []store.Message
	for rows.Next() {
		var m store.Message
		var edited *time.Time
		if err := rows.Scan(&m.ID, &m.Room, &m.Seq, &m.Sender, &m.SenderName, &m.Guest, &m.ClientID,
			&m.Text, &m.CreatedAt, &edited, &m.Deleted); err != nil {
			return nil, err
		}
		m.CreatedAt, m.EditedAt = utc(m.CreatedAt), optTime(edited)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// addReactions fills in the reactions of ms, reading the reaction rows that
// match where (a condition on the reactions table covering every message in
// ms) in one query.
func addReactions(ctx context.Context, q querier, ms []store.Message, where string, args ...any) error {
	if len(ms) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT message_id, emoji, user_id FROM reactions WHERE `+where+` ORDER BY ord`, args...)
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

// db returns the pool for a call, or store.ErrClosed after Close.
func (s *Store) db() (*pgxpool.Pool, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	return s.pool, nil
}

// Events returns the room's log after a sequence number; see store.Store.
// limit is clamped with store.ClampLimit.
func (s *Store) Events(ctx context.Context, room string, after int64, limit int) ([]store.Event, error) {
	evs, err := s.events(ctx, room, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: events of room %q after %d: %w", room, after, s.check(err))
	}
	return evs, nil
}

func (s *Store) events(ctx context.Context, room string, after int64, limit int) ([]store.Event, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, eventSelect+` WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		room, after, store.ClampLimit(limit))
	if err != nil {
		return nil, err
	}
	evs, err := scanEvents(rows, room)
	if err == nil && len(evs) == 0 {
		err = roomExists(ctx, db, room)
	}
	return evs, err
}

// History pages through a room's messages; see store.HistoryQuery.
func (s *Store) History(ctx context.Context, room string, q store.HistoryQuery) ([]store.Message, error) {
	ms, err := s.history(ctx, room, q)
	if err != nil {
		return nil, fmt.Errorf("postgres: history of room %q: %w", room, s.check(err))
	}
	return ms, nil
}

func (s *Store) history(ctx context.Context, room string, q store.HistoryQuery) ([]store.Message, error) {
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(messageSelect + ` WHERE room = $1`)
	args := []any{room, store.ClampLimit(q.Limit)}
	switch {
	case q.Before > 0:
		b.WriteString(` AND seq < $3 ORDER BY seq DESC`)
		args = append(args, q.Before)
	case q.Forward && q.After >= 0:
		b.WriteString(` AND seq > $3 ORDER BY seq`)
		args = append(args, q.After)
	default:
		b.WriteString(` ORDER BY seq DESC`)
	}
	b.WriteString(` LIMIT $2`)
	rows, err := db.Query(ctx, b.String(), args...)
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
		`message_id IN (SELECT id FROM messages WHERE room = $1 AND seq BETWEEN $2 AND $3)`, room, lo, hi)
	return ms, err
}

// Message returns one message's current state; see store.Store.
func (s *Store) Message(ctx context.Context, room, id string) (store.Message, error) {
	db, err := s.db()
	if err == nil {
		var m store.Message
		if m, err = loadMessage(ctx, db, room, id); err == nil {
			return m, nil
		}
	}
	return store.Message{}, fmt.Errorf("postgres: message %s in room %q: %w", id, room, s.check(err))
}

// roomExists returns nil if the room exists and store.ErrNotFound if not.
// Reads that find nothing use it to tell an empty room from a missing one.
func roomExists(ctx context.Context, q querier, room string) error {
	var one int
	return notFound(q.QueryRow(ctx, `SELECT 1 FROM rooms WHERE name = $1`, room).Scan(&one))
}
