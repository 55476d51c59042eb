package testutil

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Load is a write load for fault tests: writers that each send one chat
// message to a room, wait for its answer (an ack, recorded in Ledger, or an
// error frame, counted by code), and send the next, reconnecting when the
// server goes away, until Stop. One message at a time per writer is what
// lets it time each answer.
type Load struct {
	Ledger Ledger
	room   string
	base   string
	pad    string // added to each message's text
	prefix string // of its client ids, unique to this Load
	stop   chan struct{}
	wg     sync.WaitGroup

	sent     atomic.Int64
	inDoubt  atomic.Int64 // sent, then the connection ended before an answer
	mu       sync.Mutex
	errCodes map[string]int
	errTexts map[string]int
	slowest  time.Duration // the longest wait for an error frame
	lastAck  time.Time
}

// loads numbers the Loads of a test process, so that two Loads on one
// room (one after a restart, say) never send the same client id: each
// connection is another guest, so the server would rightly store both.
var loads atomic.Int64

// LoadOptions shape a Load.
type LoadOptions struct {
	Writers   int           // connections sending at once; 0 means 4
	Pause     time.Duration // each writer's wait between an answer and its next send
	TextBytes int           // the length of each message's text; 0 means short
}

// StartLoad starts writers sending to room on the server at wsBase (like
// ws://127.0.0.1:8080).
func StartLoad(wsBase, room string, o LoadOptions) *Load {
	l := &Load{room: room, base: wsBase, stop: make(chan struct{}), errCodes: map[string]int{}, errTexts: map[string]int{},
		prefix: fmt.Sprintf("l%d-", loads.Add(1))}
	if o.Writers <= 0 {
		o.Writers = 4
	}
	if o.TextBytes > 0 {
		l.pad = " " + strings.Repeat("x", o.TextBytes)
	}
	for w := range o.Writers {
		l.wg.Add(1)
		go l.writer(w, o.Pause)
	}
	return l
}

// Stop stops the writers and waits for them.
func (l *Load) Stop() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// Sent is how many sends were made, answered or not.
func (l *Load) Sent() int64 { return l.sent.Load() }

// InDoubt is how many sends lost their connection before an answer.
func (l *Load) InDoubt() int64 { return l.inDoubt.Load() }

// Errors returns the error frames received, by code and by "code: message".
func (l *Load) Errors() (byCode, byText map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byCode, byText = map[string]int{}, map[string]int{}
	for k, v := range l.errCodes {
		byCode[k] = v
	}
	for k, v := range l.errTexts {
		byText[k] = v
	}
	return byCode, byText
}

// ErrorCount is how many error frames arrived.
func (l *Load) ErrorCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.errCodes {
		n += v
	}
	return n
}

// SlowestError is the longest a send waited for its error frame.
func (l *Load) SlowestError() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.slowest
}

// LastAck is when the latest ack arrived.
func (l *Load) LastAck() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAck
}

func (l *Load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// writer sends until Stop; each connection runs until it fails.
func (l *Load) writer(w int, pause time.Duration) {
	defer l.wg.Done()
	n := 0
	for !l.stopped() {
		c, err := dialRaw(fmt.Sprintf("%s/ws/%s?name=writer%d", l.base, l.room, w))
		if err != nil {
			select {
			case <-l.stop:
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		l.session(c, w, &n, pause)
		c.Close()
	}
}

// frame is the part of a server frame a writer reads.
type frame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

// session sends on one connection until it ends or Stop.
func (l *Load) session(c *websocket.Conn, w int, n *int, pause time.Duration) {
	frames := make(chan frame, 64)
	go func() {
		defer close(frames)
		for {
			var f frame
			if err := c.ReadJSON(&f); err != nil {
				return
			}
			frames <- f
		}
	}()
	defer func() {
		c.Close()
		for range frames { // let the reader end
		}
	}()
	for !l.stopped() {
		*n++
		id := fmt.Sprintf("%sw%d-%d", l.prefix, w, *n)
		msg := map[string]any{"type": "chat", "id": id, "body": map[string]any{"room": l.room, "text": "load " + id + l.pad, "client_id": id}}
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteJSON(msg); err != nil {
			return
		}
		l.sent.Add(1)
		start := time.Now()
		if !l.await(frames, id, start) {
			l.inDoubt.Add(1)
			return
		}
		if pause > 0 {
			select {
			case <-l.stop:
			case <-time.After(pause):
			}
		}
	}
}

// await reads frames until the answer to id; false if the connection
// ended (or went silent for 30 s) first.
func (l *Load) await(frames <-chan frame, id string, start time.Time) bool {
	timeout := time.After(30 * time.Second)
	for {
		var f frame
		var ok bool
		select {
		case f, ok = <-frames:
			if !ok {
				return false
			}
		case <-timeout:
			return false
		}
		if f.ID != id {
			continue
		}
		switch f.Type {
		case "ack":
			var a struct {
				Room      string `json:"room"`
				MessageID string `json:"message_id"`
				Seq       int64  `json:"seq"`
			}
			if json.Unmarshal(f.Body, &a) == nil {
				l.Ledger.Ack(Acked{Room: a.Room, Seq: a.Seq, ClientID: id, MessageID: a.MessageID})
				l.mu.Lock()
				l.lastAck = time.Now()
				l.mu.Unlock()
			}
			return true
		case "error":
			var e struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(f.Body, &e)
			l.mu.Lock()
			l.errCodes[e.Code]++
			l.errTexts[e.Code+": "+e.Message]++
			l.slowest = max(l.slowest, time.Since(start))
			l.mu.Unlock()
			return true
		}
	}
}
