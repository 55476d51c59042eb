// Package msgstate holds what the SQL backends of store share and that is not
// SQL: the encoding of the message snapshot saved with each log event, and
// the grouping of reaction rows into store.Reaction values.
package msgstate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// snapshot is the stored form of store.Message. It has its own JSON tags so
// that the saved log does not change shape if store.Message ever gains tags
// of its own; times are integer milliseconds so they round-trip exactly.
type snapshot struct {
	ID         string           `json:"id"`
	Room       string           `json:"room"`
	Seq        int64            `json:"seq"`
	Sender     string           `json:"sender"`
	SenderName string           `json:"sender_name,omitempty"`
	Guest      bool             `json:"guest,omitempty"`
	ClientID   string           `json:"client_id,omitempty"`
	Text       string           `json:"text"`
	CreatedAt  int64            `json:"created_at"`
	EditedAt   int64            `json:"edited_at,omitempty"`
	Deleted    bool             `json:"deleted,omitempty"`
	Reactions  []snapshotReacts `json:"reactions,omitempty"`
}

type snapshotReacts struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

// Encode returns the snapshot of m to save with a log event.
func Encode(m store.Message) ([]byte, error) {
	s := snapshot{
		ID: m.ID, Room: m.Room, Seq: m.Seq, Sender: m.Sender, SenderName: m.SenderName,
		Guest: m.Guest, ClientID: m.ClientID, Text: m.Text,
		CreatedAt: Millis(m.CreatedAt), EditedAt: Millis(m.EditedAt), Deleted: m.Deleted,
	}
	for _, r := range m.Reactions {
		s.Reactions = append(s.Reactions, snapshotReacts{Emoji: r.Emoji, Users: r.Users})
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("msgstate: encode message %s: %w", m.ID, err)
	}
	return b, nil
}

// Decode reverses Encode.
func Decode(b []byte) (store.Message, error) {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return store.Message{}, fmt.Errorf("msgstate: decode message snapshot: %w", err)
	}
	m := store.Message{
		ID: s.ID, Room: s.Room, Seq: s.Seq, Sender: s.Sender, SenderName: s.SenderName,
		Guest: s.Guest, ClientID: s.ClientID, Text: s.Text,
		CreatedAt: FromMillis(s.CreatedAt), EditedAt: FromMillis(s.EditedAt), Deleted: s.Deleted,
	}
	for _, r := range s.Reactions {
		m.Reactions = append(m.Reactions, store.Reaction{Emoji: r.Emoji, Users: r.Users})
	}
	return m, nil
}

// Millis is t as Unix milliseconds, and 0 for the zero time, which is how
// the SQLite backend stores times and how snapshots carry them.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis reverses Millis: UTC, and the zero time for 0.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ReactionRow is one user's emoji on one message, as read from the
// reactions table in the order the reactions were added.
type ReactionRow struct {
	MessageID string
	Emoji     string
	User      string
}

// Group turns reaction rows, ordered by when each was added, into each
// message's reactions: emojis in the order of their oldest standing
// reaction, users in the order they reacted.
func Group(rows []ReactionRow) map[string][]store.Reaction {
	out := make(map[string][]store.Reaction)
	for _, r := range rows {
		rs := out[r.MessageID]
		i := 0
		for i < len(rs) && rs[i].Emoji != r.Emoji {
			i++
		}
		if i == len(rs) {
			rs = append(rs, store.Reaction{Emoji: r.Emoji})
		}
		rs[i].Users = append(rs[i].Users, r.User)
		out[r.MessageID] = rs
	}
	return out
}
