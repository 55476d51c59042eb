package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/msgstate"
)

// TestMessageEventsMigration checks migration 0002 on a database as schema
// version 1 left it, where every message's creation event was a row in
// events: afterwards the room's log reads exactly as before, unread counts
// are unchanged, and only the messages that changed keep an events row for
// their creation.
func TestMessageEventsMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "r", "bob", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 8 {
		ev, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "ann", ClientID: fmt.Sprint("c", i), Text: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.Message.ID)
	}
	// Changed: 1 edited, 3 reacted to (and the reaction taken back), 5
	// deleted. The rest never changed.
	if _, err := s.Edit(ctx, "r", ids[1], "ann", "m1 edited"); err != nil {
		t.Fatal(err)
	}
	for _, add := range []bool{true, false} {
		if _, err := s.React(ctx, "r", ids[3], "bob", "👍", add); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(ctx, "r", ids[5], "ann", false); err != nil {
		t.Fatal(err)
	}
	before, err := s.Events(ctx, "r", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	unreadBefore, err := s.Unread(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rewrite(t, path, func(tx *sql.Tx) {
		rewindTo1(t, tx, before)
	})

	s = openAt(t, path) // migrates to the newest version again
	after, err := s.Events(ctx, "r", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("log after the migration:\n got %+v\nwant %+v", after, before)
	}
	unreadAfter, err := s.Unread(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(unreadAfter, unreadBefore) {
		t.Fatalf("unread after the migration = %+v, want %+v", unreadAfter, unreadBefore)
	}
	kept := queryStrings(t, s.r, `SELECT message_id FROM events WHERE kind = 'message' ORDER BY seq`)
	if want := []string{ids[1], ids[3], ids[5]}; !reflect.DeepEqual(kept, want) {
		t.Fatalf("creation events kept as rows for %v, want the changed messages %v", kept, want)
	}
	// New appends after the migration write no events row.
	if _, _, err := s.Append(ctx, store.NewMessage{Room: "r", Sender: "bob", Text: "after"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := 3 + 4; n != want { // three creations, an edit, two reactions, a deletion
		t.Fatalf("%d events rows after an append, want %d", n, want)
	}
}

// rewindTo1 turns a file at the newest schema back into what version 1
// left: a creation event row for every message in before (the room's log),
// no logged column, rooms.last_seq.
func rewindTo1(t *testing.T, tx *sql.Tx, before []store.Event) {
	t.Helper()
	for _, ev := range before {
		if ev.Kind != store.EventMessage {
			continue
		}
		var logged int
		if err := tx.QueryRow(`SELECT logged FROM messages WHERE id = ?`, ev.Message.ID).Scan(&logged); err != nil {
			t.Fatal(err)
		}
		if logged == 1 {
			continue // its event is a row already
		}
		snap, err := msgstate.Encode(ev.Message)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO events (room, seq, kind, actor, emoji, added, at, message_id, message)
			VALUES (?, ?, 'message', ?, '', 0, ?, ?, ?)`,
			ev.Room, ev.Seq, ev.Actor, msgstate.Millis(ev.At), ev.Message.ID, string(snap)); err != nil {
			t.Fatal(err)
		}
	}
	restoreLastSeq(t, tx)
	undoAfter4(t, tx)
	for _, q := range []string{`ALTER TABLE messages DROP COLUMN logged`, `DELETE FROM schema_version WHERE version > 1`} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// undoAfter4 undoes what the migrations after version 4 added, for the
// tests that take a database back to an older schema and migrate it again.
func undoAfter4(t *testing.T, tx *sql.Tx) {
	t.Helper()
	for _, q := range []string{
		`DROP TABLE external_users`,                                                                  // 0005
		`DROP TABLE api_keys`,                                                                        // 0006
		`DROP TABLE notification_recipients`, `DROP TABLE notifications`, `DROP TABLE subscriptions`, // 0007
		`ALTER TABLE users DROP COLUMN disabled`,               // 0008
		`DROP TABLE webhook_deliveries`, `DROP TABLE webhooks`, // 0009
		`DROP INDEX rooms_owner`, `DROP TABLE audit_log`, `DROP TABLE sanctions`, // 0010
		`ALTER TABLE users DROP COLUMN deleted`, `ALTER TABLE rooms DROP COLUMN archived`,
		`ALTER TABLE rooms DROP COLUMN locked`,
		`DROP TABLE connections`, `DROP TABLE presence`, `DROP TABLE nodes`, // 0011
		`DROP INDEX users_username_skeleton`, `ALTER TABLE users DROP COLUMN username_skeleton`, // 0012
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rewrite changes the closed database at path in one transaction.
func rewrite(t *testing.T, path string, change func(tx *sql.Tx)) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	change(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// restoreLastSeq gives rooms back the last_seq column that schema versions
// 1 and 2 kept, holding each room's last sequence number as they did.
func restoreLastSeq(t *testing.T, tx *sql.Tx) {
	t.Helper()
	for _, q := range []string{
		`ALTER TABLE rooms ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0`,
		`UPDATE rooms SET last_seq = ` + lastSeqOf("rooms.name"),
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestRoomSeqMigration checks migration 0003 on a database as schema
// version 2 left it, with rooms.last_seq: afterwards every room reports the
// same last sequence number, read from its log, and the next append takes
// the number after it.
func TestRoomSeqMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"busy", "empty"} {
		if _, err := s.CreateRoom(ctx, store.Room{Name: name, Owner: "ann"}); err != nil {
			t.Fatal(err)
		}
	}
	var last store.Event
	for i := range 5 {
		ev, _, err := s.Append(ctx, store.NewMessage{Room: "busy", Sender: "ann", Text: fmt.Sprint("m", i)})
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	// The last number taken is an edit's, kept in events only.
	if _, err := s.Edit(ctx, "busy", last.Message.ID, "ann", "edited"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rewrite(t, path, func(tx *sql.Tx) {
		restoreLastSeq(t, tx)
		undoAfter4(t, tx)
		if _, err := tx.Exec(`DELETE FROM schema_version WHERE version > 2`); err != nil {
			t.Fatal(err)
		}
		var busy int64
		if err := tx.QueryRow(`SELECT last_seq FROM rooms WHERE name = 'busy'`).Scan(&busy); err != nil || busy != 6 {
			t.Fatalf("schema 2's last_seq of busy = %d, %v; want 6 (five messages and an edit)", busy, err)
		}
	})

	s = openAt(t, path) // migrates to the newest version again
	var columns int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('rooms') WHERE name = 'last_seq'`).Scan(&columns); err != nil || columns != 0 {
		t.Fatalf("rooms still has last_seq after the migration (%d, %v)", columns, err)
	}
	for name, want := range map[string]int64{"busy": 6, "empty": 0} {
		if r, err := s.Room(ctx, name); err != nil || r.LastSeq != want {
			t.Fatalf("room %s: LastSeq %d, %v; want %d", name, r.LastSeq, err, want)
		}
	}
	for room, want := range map[string]int64{"busy": 7, "empty": 1} {
		ev, _, err := s.Append(ctx, store.NewMessage{Room: room, Sender: "bob", Text: "after"})
		if err != nil || ev.Seq != want {
			t.Fatalf("append to %s after the migration: seq %d, %v; want %d", room, ev.Seq, err, want)
		}
	}
}

// queryStrings returns the single text column of query's rows, in order.
func queryStrings(t *testing.T, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClientIndexMigration checks migration 0004 on a database as schema
// version 3 left it, its client-id index led by room and sender: afterwards
// the index is led by the client id, a retry of a send stored before the
// migration is still recognised, and the retry's look-up uses the index
// rather than scanning messages.
func TestClientIndexMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s := openAt(t, path)
	if _, err := s.CreateRoom(ctx, store.Room{Name: "general", Owner: "ann"}); err != nil {
		t.Fatal(err)
	}
	first, _, err := s.Append(ctx, store.NewMessage{Room: "general", Sender: "ann", ClientID: "k1", Text: "before"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rewrite(t, path, func(tx *sql.Tx) {
		undoAfter4(t, tx)
		for _, q := range []string{
			`DROP INDEX messages_client`,
			`CREATE UNIQUE INDEX messages_client ON messages (room, sender, client_id) WHERE client_id <> ''`,
			`DELETE FROM schema_version WHERE version > 3`,
		} {
			if _, err := tx.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	})

	s = openAt(t, path) // migrates to the newest version again
	cols := queryStrings(t, s.r, `SELECT name FROM pragma_index_info('messages_client') ORDER BY seqno`)
	if want := []string{"client_id", "room", "sender"}; !reflect.DeepEqual(cols, want) {
		t.Fatalf("messages_client columns after the migration = %v, want %v", cols, want)
	}
	ev, dup, err := s.Append(ctx, store.NewMessage{Room: "general", Sender: "ann", ClientID: "k1", Text: "retry"})
	if err != nil || !dup || ev.Seq != first.Seq || ev.Message.ID != first.Message.ID {
		t.Fatalf("retry after the migration: seq %d id %s dup %v, %v; want seq %d id %s dup true",
			ev.Seq, ev.Message.ID, dup, err, first.Seq, first.Message.ID)
	}
	// The same client id from another sender or in another room is a
	// different message.
	if _, dup, err := s.Append(ctx, store.NewMessage{Room: "general", Sender: "bob", ClientID: "k1", Text: "bob's"}); err != nil || dup {
		t.Fatalf("bob's k1: dup %v, %v; want a new message", dup, err)
	}
	var plan string
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+sqlClientID, "general", "ann", "k1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "; "
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "USING INDEX messages_client") && !strings.Contains(plan, "USING COVERING INDEX messages_client") {
		t.Fatalf("the retry's look-up does not use messages_client: %s", plan)
	}
}
