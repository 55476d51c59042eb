package testutil

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Acked is one send the server acknowledged: the promise a fault test
// checks is kept.
type Acked struct {
	Room      string
	Seq       int64
	ClientID  string
	MessageID string
}

// Stored is one message a room's history holds after the fault.
type Stored struct {
	Seq      int64
	ID       string
	ClientID string
}

// Ledger records every acknowledged send of a fault test, from any number
// of goroutines, and checks them against what the store holds afterwards
// (Check). Every fault test shares it, so "nothing acknowledged is lost"
// means the same thing in each.
type Ledger struct {
	mu    sync.Mutex
	acked []Acked
}

// Ack records an acknowledged send.
func (l *Ledger) Ack(a Acked) {
	l.mu.Lock()
	l.acked = append(l.acked, a)
	l.mu.Unlock()
}

// Len is how many sends were acknowledged so far.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// Acks returns a copy of the acknowledged sends.
func (l *Ledger) Acks() []Acked {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Acked(nil), l.acked...)
}

// Verify compares the acknowledged sends of room with stored, that room's
// whole message history, and returns every broken promise: an acknowledged
// send missing or stored under another seq or id (acked ⊆ stored), a seq
// gap (the seqs must run 1, 2, 3 … with nothing but messages in the room),
// and a client id or message id stored twice. Nil means all kept.
func (l *Ledger) Verify(room string, stored []Stored) []string {
	var bad []string
	sorted := append([]Stored(nil), stored...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Seq < sorted[j].Seq })
	bySeq := map[int64]Stored{}
	byClient := map[string]int64{}
	byID := map[string]int64{}
	for i, m := range sorted {
		if want := int64(i + 1); m.Seq != want {
			bad = append(bad, fmt.Sprintf("room %s: seq %d where %d was due (a gap or a seq stored twice)", room, m.Seq, want))
		}
		bySeq[m.Seq] = m
		if m.ClientID != "" {
			if seq, dup := byClient[m.ClientID]; dup {
				bad = append(bad, fmt.Sprintf("room %s: client id %s stored twice, at seqs %d and %d", room, m.ClientID, seq, m.Seq))
			}
			byClient[m.ClientID] = m.Seq
		}
		if seq, dup := byID[m.ID]; dup {
			bad = append(bad, fmt.Sprintf("room %s: message %s stored twice, at seqs %d and %d", room, m.ID, seq, m.Seq))
		}
		byID[m.ID] = m.Seq
	}
	for _, a := range l.Acks() {
		if a.Room != room {
			continue
		}
		m, ok := bySeq[a.Seq]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("room %s: acknowledged %s (seq %d, client id %s) is not stored", room, a.MessageID, a.Seq, a.ClientID))
		case m.ID != a.MessageID || m.ClientID != a.ClientID:
			bad = append(bad, fmt.Sprintf("room %s: seq %d was acknowledged as %s (client id %s) but holds %s (client id %s)",
				room, a.Seq, a.MessageID, a.ClientID, m.ID, m.ClientID))
		}
	}
	return bad
}

// Check fetches room's whole history from the server at wsBase (like
// ws://127.0.0.1:8080) and fails tb with every promise Verify finds
// broken. It returns how many messages the room holds.
func (l *Ledger) Check(tb testing.TB, wsBase, room string) int {
	tb.Helper()
	stored := FetchRoom(tb, wsBase, room)
	bad := l.Verify(room, stored)
	for i, b := range bad {
		if i == 20 {
			tb.Errorf("… and %d more", len(bad)-i)
			break
		}
		tb.Error(b)
	}
	return len(stored)
}

// FetchRoom reads a room's whole message history from the server at wsBase,
// newest page first, through a WebSocket as a guest. Pages are of 100
// messages, so that one of long messages fits a client's send queue.
func FetchRoom(tb testing.TB, wsBase, room string) []Stored {
	tb.Helper()
	c, _, err := DialURL(tb, wsBase+"/ws/"+room+"?name=ledger-check", DialOptions{})
	if err != nil {
		tb.Fatalf("connect to read the history of %s: %v", room, err)
	}
	defer c.Close()
	type msg struct {
		ID       string `json:"id"`
		Seq      int64  `json:"seq"`
		ClientID string `json:"client_id"`
	}
	// A message acknowledged just before the join can reach the room after
	// the joined frame's last_seq was taken, and then arrives live: it is
	// stored (it was delivered), so it counts, as does any live message.
	var out []Stored
	live := func(f Frame) bool {
		if f.Type != "message" {
			return false
		}
		var m msg
		f.Decode(tb, &m)
		out = append(out, Stored{Seq: m.Seq, ID: m.ID, ClientID: m.ClientID})
		return true
	}
	next := func(typ string) Frame {
		for {
			f := c.Next()
			switch {
			case f.Type == typ:
				return f
			case live(f), f.Type == "welcome", f.Type == "presence", f.Type == "joined":
			default:
				tb.Fatalf("reading the history of %s: want %s, got %s: %s", room, typ, f.Type, f.Raw)
			}
		}
	}
	var j struct {
		LastSeq int64 `json:"last_seq"`
	}
	next("joined").Decode(tb, &j)
	before := j.LastSeq + 1
	for before > 1 {
		c.Send("history", "h", map[string]any{"room": room, "before": before, "limit": 100})
		var h struct {
			Messages []msg `json:"messages"`
		}
		next("history").Decode(tb, &h)
		if len(h.Messages) == 0 {
			break
		}
		for _, m := range h.Messages {
			out = append(out, Stored{Seq: m.Seq, ID: m.ID, ClientID: m.ClientID})
			before = min(before, m.Seq)
		}
	}
	// Drain what is already queued: a live message may follow the last page.
	for {
		f, ok := c.TryNext(200 * time.Millisecond)
		if !ok || !live(f) {
			break
		}
	}
	// The same message seen live and in a page is one stored message; two
	// different messages at one seq stay two, for Verify to report.
	seen := make(map[Stored]bool, len(out))
	kept := out[:0]
	for _, m := range out {
		if !seen[m] {
			seen[m] = true
			kept = append(kept, m)
		}
	}
	return kept
}

// dialRaw connects a plain WebSocket (no test client: load writers run on
// their own goroutines, where a test may not fail).
func dialRaw(u string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial(u, nil)
	return c, err
}
