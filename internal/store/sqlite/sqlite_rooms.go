package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// CreateRoom creates a room and makes its owner a member; see store.Store.
// An empty Kind means store.KindRoom; a zero CreatedAt means now.
func (s *Store) CreateRoom(ctx context.Context, r store.Room) (store.Room, error) {
	r = store.NewRoom(r)
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		return insertRoom(ctx, tx, r, false)
	})
	if err != nil {
		return store.Room{}, fmt.Errorf("sqlite: create room %q: %w", r.Name, err)
	}
	return r, nil
}

// insertRoom writes r and its owner's membership. With existingOK a room of
// that name already there is not an error (and nothing is written).
func insertRoom(ctx context.Context, tx *writeTx, r store.Room, existingOK bool) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO rooms (name, kind, private, owner, topic, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		r.Name, string(r.Kind), boolInt(r.Private), r.Owner, r.Topic, msgstate.Millis(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert room: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil && !existingOK {
			err = store.ErrConflict
		}
		return err
	}
	if r.Owner != "" {
		return addMember(ctx, tx, r.Name, r.Owner, store.RoleOwner, r.CreatedAt)
	}
	return nil
}

func addMember(ctx context.Context, tx *writeTx, room, user string, role store.Role, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO members (room, user_id, role, joined_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`,
		room, user, string(role), msgstate.Millis(at))
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// EnsureDirect returns, creating on first use, the direct conversation
// between two users; see store.Store.
func (s *Store) EnsureDirect(ctx context.Context, userA, userB string) (store.Room, error) {
	name := store.DirectRoomName(userA, userB)
	r := store.NewRoom(store.Room{Name: name, Kind: store.KindDirect})
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		if err := insertRoom(ctx, tx, r, true); err != nil {
			return err
		}
		got, err := loadRoom(ctx, tx, name)
		if err != nil {
			return err
		}
		if got.Kind != store.KindDirect {
			// A named room cannot start with "@" if names are normalised,
			// but do not hand out someone else's room if one does.
			return store.ErrConflict
		}
		r = got
		// Members are (re)added each time: cheap, and it repairs a
		// conversation one side was removed from.
		for _, u := range []string{userA, userB} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (room, user_id, role, joined_at)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				name, u, string(store.RoleMember), msgstate.Millis(r.CreatedAt)); err != nil {
				return fmt.Errorf("add member %q: %w", u, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Room{}, fmt.Errorf("sqlite: direct room of %q and %q: %w", userA, userB, err)
	}
	return r, nil
}

var roomSelect = `SELECT name, kind, private, owner, topic, created_at, locked, archived, ` + lastSeqOf("rooms.name") + ` FROM rooms`

func scanRoom(sc interface{ Scan(...any) error }) (store.Room, error) {
	var r store.Room
	var kind string
	var private, locked, archived int
	var created int64
	if err := sc.Scan(&r.Name, &kind, &private, &r.Owner, &r.Topic, &created, &locked, &archived, &r.LastSeq); err != nil {
		return store.Room{}, err
	}
	r.Kind, r.Private, r.CreatedAt = store.RoomKind(kind), private != 0, msgstate.FromMillis(created)
	r.Locked, r.Archived = locked != 0, archived != 0
	return r, nil
}

func loadRoom(ctx context.Context, q querier, name string) (store.Room, error) {
	r, err := scanRoom(q.QueryRowContext(ctx, roomSelect+` WHERE name = ?`, name))
	return r, notFound(err)
}

// Room returns a room with its LastSeq; see store.Store.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	db, err := s.reader()
	if err == nil {
		var r store.Room
		r, err = loadRoom(ctx, db, name)
		if err = s.settle(ctx, err); err == nil {
			return r, nil
		}
	}
	return store.Room{}, fmt.Errorf("sqlite: room %q: %w", name, err)
}

// UpdateRoom changes a room's topic, privacy, lock and archive state; see
// store.Store. A direct conversation stays private whatever r.Private
// says.
func (s *Store) UpdateRoom(ctx context.Context, r store.Room) (store.Room, error) {
	var out store.Room
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rooms SET topic = ?,
			private = CASE WHEN kind = 'direct' THEN 1 ELSE ? END, locked = ?, archived = ?
			WHERE name = ?`, r.Topic, boolInt(r.Private), boolInt(r.Locked), boolInt(r.Archived), r.Name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		out, err = loadRoom(ctx, tx, r.Name)
		return err
	})
	if err != nil {
		return store.Room{}, fmt.Errorf("sqlite: update room %q: %w", r.Name, err)
	}
	return out, nil
}

// Rooms lists the public rooms and userID's rooms by name; see store.Store.
func (s *Store) Rooms(ctx context.Context, userID string) ([]store.Room, error) {
	rs, err := s.rooms(ctx, userID)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: rooms of %q: %w", userID, err)
	}
	return rs, nil
}

func (s *Store) rooms(ctx context.Context, userID string) ([]store.Room, error) {
	return s.queryRooms(ctx, ` WHERE private = 0
		OR name IN (SELECT room FROM members WHERE user_id = ?) ORDER BY name`, userID)
}

// ListRooms lists every named room by name; see store.Store.
func (s *Store) ListRooms(ctx context.Context) ([]store.Room, error) {
	rs, err := s.queryRooms(ctx, ` WHERE kind = 'room' ORDER BY name`)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: list rooms: %w", err)
	}
	return rs, nil
}

// queryRooms reads the rooms that where (a WHERE and ORDER BY clause, with
// args) selects, from the read pool.
func (s *Store) queryRooms(ctx context.Context, where string, args ...any) ([]store.Room, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, roomSelect+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []store.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// AddMember adds or re-roles a member, keeping their read marker; see
// store.Store. A missing room is store.ErrNotFound.
func (s *Store) AddMember(ctx context.Context, room, userID string, role store.Role) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		return addMember(ctx, tx, room, userID, role, store.Now())
	})
	if err != nil {
		return fmt.Errorf("sqlite: add %q to room %q: %w", userID, room, err)
	}
	return nil
}

// RemoveMember removes a member; see store.Store.
func (s *Store) RemoveMember(ctx context.Context, room, userID string) error {
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE room = ? AND user_id = ?`, room, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove %q from room %q: %w", userID, room, err)
	}
	return nil
}

const memberSelect = `SELECT room, user_id, role, joined_at, read_seq FROM members`

func scanMember(sc interface{ Scan(...any) error }) (store.Member, error) {
	var m store.Member
	var role string
	var joined int64
	if err := sc.Scan(&m.Room, &m.UserID, &role, &joined, &m.ReadSeq); err != nil {
		return store.Member{}, err
	}
	m.Role, m.JoinedAt = store.Role(role), msgstate.FromMillis(joined)
	return m, nil
}

// Member returns one membership; see store.Store.
func (s *Store) Member(ctx context.Context, room, userID string) (store.Member, error) {
	db, err := s.reader()
	if err == nil {
		var m store.Member
		m, err = scanMember(db.QueryRowContext(ctx, memberSelect+` WHERE room = ? AND user_id = ?`, room, userID))
		if err = s.settle(ctx, notFound(err)); err == nil {
			return m, nil
		}
	}
	return store.Member{}, fmt.Errorf("sqlite: member %q of room %q: %w", userID, room, err)
}

// Members lists a room's members by user id; see store.Store. A missing
// room is store.ErrNotFound.
func (s *Store) Members(ctx context.Context, room string) ([]store.Member, error) {
	ms, err := s.members(ctx, room)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: members of room %q: %w", room, err)
	}
	return ms, nil
}

func (s *Store) members(ctx context.Context, room string) ([]store.Member, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, memberSelect+` WHERE room = ? ORDER BY user_id`, room)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []store.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, roomExists(ctx, db, room)
	}
	return ms, nil
}

// MarkRead moves a read marker forward; see store.Store. A missing room or
// membership is store.ErrNotFound.
func (s *Store) MarkRead(ctx context.Context, room, userID string, seq int64) (int64, error) {
	var got int64
	err := s.write(ctx, func(ctx context.Context, tx *writeTx) error {
		err := tx.QueryRowContext(ctx, `UPDATE members
			SET read_seq = max(read_seq, min(?1, `+lastSeqOf("?2")+`))
			WHERE room = ?2 AND user_id = ?3 RETURNING read_seq`, seq, room, userID).Scan(&got)
		return notFound(err)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: mark room %q read by %q: %w", room, userID, err)
	}
	return got, nil
}

// Unread returns userID's unread state in each of their rooms, by room
// name; see store.Store.
func (s *Store) Unread(ctx context.Context, userID string) ([]store.Unread, error) {
	us, err := s.unread(ctx, userID)
	if err = s.settle(ctx, err); err != nil {
		return nil, fmt.Errorf("sqlite: unread of %q: %w", userID, err)
	}
	return us, nil
}

func (s *Store) unread(ctx context.Context, userID string) ([]store.Unread, error) {
	db, err := s.reader()
	if err != nil {
		return nil, err
	}
	// Every message has one creation event, by its sender and at its seq,
	// so counting messages counts those events, wherever each is kept
	// (see logCreation), deleted messages included.
	rows, err := db.QueryContext(ctx, `SELECT r.name, r.kind, `+lastSeqOf("r.name")+`, m.read_seq,
		(SELECT count(*) FROM messages x WHERE x.room = m.room AND x.seq > m.read_seq
			AND x.sender <> m.user_id)
		FROM members m JOIN rooms r ON r.name = m.room
		WHERE m.user_id = ? ORDER BY r.name`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []store.Unread
	for rows.Next() {
		var u store.Unread
		var kind string
		if err := rows.Scan(&u.Room, &kind, &u.LastSeq, &u.ReadSeq, &u.Count); err != nil {
			return nil, err
		}
		u.Kind = store.RoomKind(kind)
		us = append(us, u)
	}
	return us, rows.Err()
}
