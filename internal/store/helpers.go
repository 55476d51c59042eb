package store

import (
	"strings"
	"time"
)

// MinLimit and MaxLimit bound HistoryQuery.Limit and the limit of Events.
const (
	MinLimit = 1
	MaxLimit = 1000
)

// ClampLimit brings a page size into MinLimit..MaxLimit, as History and
// Events do with the limits they are given (so 0 yields one item, not none).
func ClampLimit(n int) int {
	return min(max(n, MinLimit), MaxLimit)
}

// UsernameKey is the form of a username that uniqueness and UserByName
// compare: Unicode lower case, so "Ann" and "ANN" are the same account.
// Backends store it next to the name as typed rather than relying on the
// database's own lower(), which differs between SQLite (ASCII only) and
// PostgreSQL.
func UsernameKey(username string) string {
	return strings.ToLower(username)
}

// Timestamp is the form in which stores keep times: UTC with millisecond
// precision, the finest both SQLite (integer milliseconds) and every client
// language represent alike. A time passed through Timestamp round-trips
// unchanged through every backend; the zero time stays zero.
func Timestamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Now is the current time as a store keeps it (see Timestamp).
func Now() time.Time {
	return Timestamp(time.Now())
}

// NewRoom fills in what a new room takes from the store rather than the
// caller, the same way in every backend: an empty Kind means KindRoom, a
// direct conversation is always private, CreatedAt defaults to now (at the
// stored precision) and LastSeq starts at 0.
func NewRoom(r Room) Room {
	if r.Kind == "" {
		r.Kind = KindRoom
	}
	if r.Kind == KindDirect {
		r.Private = true
	}
	r.CreatedAt = Timestamp(r.CreatedAt)
	if r.CreatedAt.IsZero() {
		r.CreatedAt = Now()
	}
	r.LastSeq = 0
	return r
}

// StoredMessage is msg as a store keeps it when it becomes message seq of
// its room: a new id and the current time (at the stored precision), the
// same way in every backend.
func StoredMessage(msg NewMessage, seq int64) Message {
	return Message{
		ID: NewID(), Room: msg.Room, Seq: seq, Sender: msg.Sender, SenderName: msg.SenderName,
		Guest: msg.Guest, ClientID: msg.ClientID, Text: msg.Text, CreatedAt: Now(),
	}
}

// CreationEvent is the log event that created m, as Append returns it and
// as the room's log gives it back.
func CreationEvent(m Message) Event {
	return Event{Room: m.Room, Seq: m.Seq, Kind: EventMessage, Actor: m.Sender, At: m.CreatedAt, Message: m}
}
