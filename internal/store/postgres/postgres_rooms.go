package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/store"
)

// CreateRoom creates a room and makes its owner a member; see store.Store.
// An empty Kind means store.KindRoom; a zero CreatedAt means now.
func (s *Store) CreateRoom(ctx context.Context, r store.Room) (store.Room, error) {
	r = store.NewRoom(r)
	err := s.write(ctx, func(tx pgx.Tx) error {
		return insertRoom(ctx, tx, r, false)
	})
	if err != nil {
		return store.Room{}, fmt.Errorf("postgres: create room %q: %w", r.Name, err)
	}
	return r, nil
}

// insertRoom writes r and its owner's membership. With existingOK a room of
// that name already there is not an error (and nothing is written).
func insertRoom(ctx context.Context, tx pgx.Tx, r store.Room, existingOK bool) error {
	tag, err := tx.Exec(ctx, `INSERT INTO rooms (name, kind, private, owner, topic, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
		r.Name, string(r.Kind), r.Private, r.Owner, r.Topic, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert room: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if existingOK {
			return nil
		}
		return store.ErrConflict
	}
	if r.Owner != "" {
		return addMember(ctx, tx, r.Name, r.Owner, store.RoleOwner, r.CreatedAt)
	}
	return nil
}

// addMember adds or re-roles a member, keeping the read marker.
func addMember(ctx context.Context, q execer, room, user string, role store.Role, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO members (room, user_id, role, joined_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role`, room, user, string(role), at)
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		// ON CONFLICT DO NOTHING also waits for a concurrent creator to
		// commit, so two first messages racing end with one room.
		if err := insertRoom(ctx, tx, r, true); err != nil {
			return err
		}
		got, err := loadRoom(ctx, tx, name)
		if err != nil {
			return err
		}
		if got.Kind != store.KindDirect {
			// Normalised room names cannot start with "@", but never hand
			// out someone else's named room if one does.
			return store.ErrConflict
		}
		r = got
		// Members are (re)added each time: cheap, and it repairs a
		// conversation one side was removed from.
		for _, u := range []string{userA, userB} {
			if _, err := tx.Exec(ctx, `INSERT INTO members (room, user_id, role, joined_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, name, u, string(store.RoleMember), r.CreatedAt); err != nil {
				return fmt.Errorf("add member %q: %w", u, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Room{}, fmt.Errorf("postgres: direct room of %q and %q: %w", userA, userB, err)
	}
	return r, nil
}

const roomColumns = `name, kind, private, owner, topic, created_at, locked, archived, last_seq`

func scanRoom(row pgx.Row) (store.Room, error) {
	var r store.Room
	var kind string
	if err := row.Scan(&r.Name, &kind, &r.Private, &r.Owner, &r.Topic, &r.CreatedAt, &r.Locked, &r.Archived, &r.LastSeq); err != nil {
		return store.Room{}, err
	}
	r.Kind, r.CreatedAt = store.RoomKind(kind), utc(r.CreatedAt)
	return r, nil
}

func loadRoom(ctx context.Context, q querier, name string) (store.Room, error) {
	r, err := scanRoom(q.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE name = $1`, name))
	return r, notFound(err)
}

// Room returns a room with its LastSeq; see store.Store.
func (s *Store) Room(ctx context.Context, name string) (store.Room, error) {
	db, err := s.db()
	if err == nil {
		var r store.Room
		if r, err = loadRoom(ctx, db, name); err == nil {
			return r, nil
		}
	}
	return store.Room{}, fmt.Errorf("postgres: room %q: %w", name, s.check(err))
}

// UpdateRoom changes a room's topic, privacy, lock and archive state; see
// store.Store. A direct conversation stays private whatever r.Private
// says.
func (s *Store) UpdateRoom(ctx context.Context, r store.Room) (store.Room, error) {
	db, err := s.db()
	if err == nil {
		var out store.Room
		out, err = scanRoom(db.QueryRow(ctx, `UPDATE rooms SET topic = $1,
			private = CASE WHEN kind = 'direct' THEN true ELSE $2 END, locked = $4, archived = $5
			WHERE name = $3 RETURNING `+roomColumns, r.Topic, r.Private, r.Name, r.Locked, r.Archived))
		if err = notFound(err); err == nil {
			return out, nil
		}
	}
	return store.Room{}, fmt.Errorf("postgres: update room %q: %w", r.Name, s.check(err))
}

// Rooms lists the public rooms and userID's rooms by name; see store.Store.
func (s *Store) Rooms(ctx context.Context, userID string) ([]store.Room, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		rows, err = db.Query(ctx, `SELECT `+roomColumns+` FROM rooms WHERE NOT private
			OR name IN (SELECT room FROM members WHERE user_id = $1) ORDER BY name`, userID)
		if err == nil {
			var rs []store.Room
			if rs, err = collect(rows, scanRoom); err == nil {
				return rs, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: rooms of %q: %w", userID, s.check(err))
}

// ListRooms lists every named room by name; see store.Store. The names
// are compared as bytes (COLLATE "C"), as SQLite does, whatever the
// database's collation.
func (s *Store) ListRooms(ctx context.Context) ([]store.Room, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		rows, err = db.Query(ctx, `SELECT `+roomColumns+` FROM rooms WHERE kind = 'room' ORDER BY name COLLATE "C"`)
		if err == nil {
			var rs []store.Room
			if rs, err = collect(rows, scanRoom); err == nil {
				return rs, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: list rooms: %w", s.check(err))
}

// collect scans every row with scan, then closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// AddMember adds or re-roles a member, keeping their read marker; see
// store.Store. A missing room is store.ErrNotFound.
func (s *Store) AddMember(ctx context.Context, room, userID string, role store.Role) error {
	db, err := s.db()
	if err == nil {
		err = addMember(ctx, db, room, userID, role, store.Now())
	}
	if err != nil {
		return fmt.Errorf("postgres: add %q to room %q: %w", userID, room, s.check(err))
	}
	return nil
}

// RemoveMember removes a member; see store.Store.
func (s *Store) RemoveMember(ctx context.Context, room, userID string) error {
	db, err := s.db()
	if err == nil {
		tag, e := db.Exec(ctx, `DELETE FROM members WHERE room = $1 AND user_id = $2`, room, userID)
		if err = e; err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: remove %q from room %q: %w", userID, room, s.check(err))
	}
	return nil
}

const memberColumns = `room, user_id, role, joined_at, read_seq`

func scanMember(row pgx.Row) (store.Member, error) {
	var m store.Member
	var role string
	if err := row.Scan(&m.Room, &m.UserID, &role, &m.JoinedAt, &m.ReadSeq); err != nil {
		return store.Member{}, err
	}
	m.Role, m.JoinedAt = store.Role(role), utc(m.JoinedAt)
	return m, nil
}

// Member returns one membership; see store.Store.
func (s *Store) Member(ctx context.Context, room, userID string) (store.Member, error) {
	db, err := s.db()
	if err == nil {
		var m store.Member
		m, err = scanMember(db.QueryRow(ctx, `SELECT `+memberColumns+` FROM members WHERE room = $1 AND user_id = $2`, room, userID))
		if err = notFound(err); err == nil {
			return m, nil
		}
	}
	return store.Member{}, fmt.Errorf("postgres: member %q of room %q: %w", userID, room, s.check(err))
}

// Members lists a room's members by user id; see store.Store. A missing
// room is store.ErrNotFound.
func (s *Store) Members(ctx context.Context, room string) ([]store.Member, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		if rows, err = db.Query(ctx, `SELECT `+memberColumns+` FROM members WHERE room = $1 ORDER BY user_id`, room); err == nil {
			var ms []store.Member
			if ms, err = collect(rows, scanMember); err == nil && len(ms) == 0 {
				err = roomExists(ctx, db, room)
			}
			if err == nil {
				return ms, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: members of room %q: %w", room, s.check(err))
}

// MarkRead moves a read marker forward; see store.Store. A missing room or
// membership is store.ErrNotFound.
func (s *Store) MarkRead(ctx context.Context, room, userID string, seq int64) (int64, error) {
	db, err := s.db()
	var got int64
	if err == nil {
		// One statement, so no explicit transaction: the row lock on the
		// member makes concurrent calls apply one after the other.
		err = notFound(db.QueryRow(ctx, `UPDATE members
			SET read_seq = GREATEST(read_seq, LEAST($1, (SELECT last_seq FROM rooms WHERE name = $2)))
			WHERE room = $2 AND user_id = $3 RETURNING read_seq`, seq, room, userID).Scan(&got))
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: mark room %q read by %q: %w", room, userID, s.check(err))
	}
	return got, nil
}

// Unread returns userID's unread state in each of their rooms, by room
// name; see store.Store.
func (s *Store) Unread(ctx context.Context, userID string) ([]store.Unread, error) {
	db, err := s.db()
	if err == nil {
		var rows pgx.Rows
		rows, err = db.Query(ctx, `SELECT r.name, r.kind, r.last_seq, m.read_seq,
			(SELECT count(*) FROM events e WHERE e.room = m.room AND e.seq > m.read_seq
				AND e.kind = 'message' AND e.actor <> m.user_id)
			FROM members m JOIN rooms r ON r.name = m.room
			WHERE m.user_id = $1 ORDER BY r.name`, userID)
		if err == nil {
			var us []store.Unread
			us, err = collect(rows, func(row pgx.Row) (store.Unread, error) {
				var u store.Unread
				var kind string
				err := row.Scan(&u.Room, &kind, &u.LastSeq, &u.ReadSeq, &u.Count)
				u.Kind = store.RoomKind(kind)
				return u, err
			})
			if err == nil {
				return us, nil
			}
		}
	}
	return nil, fmt.Errorf("postgres: unread of %q: %w", userID, s.check(err))
}
