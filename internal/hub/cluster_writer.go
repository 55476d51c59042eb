package hub

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// nodeWriter keeps this node's rows in the store (its connections per
// user, its presence per room) in step with its memory, which is the
// truth. Connections and joins only mark what changed; one goroutine
// writes the marked rows' current values in one batch, so a storm of
// thousands of connects costs a few flushes instead of a transaction
// each. Writes are absolute values, never increments: a write that fails
// or lands late is repaired by the next one, and each heartbeat rewrites
// the node's rows whole (see markAll), so the store converges to the
// truth within one heartbeat of being reachable again.
type nodeWriter struct {
	mu    sync.Mutex
	users map[string]struct{}
	rooms map[roomUser]struct{}
	// all asks for a full rewrite: on each heartbeat, after a failed
	// write, and when too much is marked to keep.
	all  bool
	wake chan struct{}
	// written is closed once what is marked now has been written (or
	// the write failed): a join waits for it, so that the roster it reads
	// next has the joiner in it.
	written chan struct{}
	// failing is whether the last write failed, to warn once an outage.
	failing bool
}

// closedChan is what a stopped writer hands out: nothing to wait for.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// roomUser is a user in a room.
type roomUser struct{ room, user string }

// maxMarked bounds the rows marked between two writes: past it the
// writer forgets them and rewrites the node whole, which costs the same
// and needs no memory.
const maxMarked = 100_000

func newNodeWriter() *nodeWriter {
	return &nodeWriter{users: make(map[string]struct{}), rooms: make(map[roomUser]struct{}),
		wake: make(chan struct{}, 1), written: make(chan struct{})}
}

// mark records a change with add (under the lock), wakes the writer, and
// returns a channel closed once the change is written.
func (w *nodeWriter) mark(add func()) <-chan struct{} {
	w.mu.Lock()
	written := w.written
	if !w.all {
		add()
		if len(w.users)+len(w.rooms) > maxMarked {
			w.all = true
			clear(w.users)
			clear(w.rooms)
		}
	}
	w.mu.Unlock()
	w.signal()
	return written
}

func (w *nodeWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *nodeWriter) markUser(uid string) { w.mark(func() { w.users[uid] = struct{}{} }) }

func (w *nodeWriter) markPresence(room, uid string) <-chan struct{} {
	return w.mark(func() { w.rooms[roomUser{room, uid}] = struct{}{} })
}

// markAll asks for the node's rows to be rewritten whole.
func (w *nodeWriter) markAll() {
	w.mu.Lock()
	w.all = true
	clear(w.users)
	clear(w.rooms)
	w.mu.Unlock()
	w.signal()
}

// writerLoop writes what was marked, one batch at a time: whatever is
// marked while a batch is being written goes in the next.
func (h *Hub) writerLoop() {
	cl := h.cluster
	defer cl.done.Done()
	for {
		select {
		case <-cl.stop:
			w := cl.writer
			w.mu.Lock()
			close(w.written) // release waiting joins; nothing more is written
			w.written = closedChan
			w.mu.Unlock()
			return
		case <-cl.writer.wake:
			h.writeNode()
		}
	}
}

// writeNode writes the marked rows' values as they are now.
func (h *Hub) writeNode() {
	w := h.cluster.writer
	w.mu.Lock()
	users, rooms, all, written := w.users, w.rooms, w.all, w.written
	w.users, w.rooms, w.all, w.written = make(map[string]struct{}), make(map[roomUser]struct{}), false, make(chan struct{})
	w.mu.Unlock()
	defer close(written)
	if h.stopping.Load() {
		return // the rows stay as they are for a restart (see Stopping)
	}
	var conns []store.NodeConns
	var pres []store.NodePresence
	if all {
		conns, pres = h.nodeTruth()
	} else {
		for uid := range users {
			conns = append(conns, store.NodeConns{User: uid, Conns: h.localConns(uid)})
		}
		for k := range rooms {
			pres = append(pres, h.localPresence(k))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	err := h.cluster.Presence.WriteNodeState(ctx, h.cluster.Node, conns, pres, all)
	cancel()
	if err != nil {
		w.mu.Lock()
		w.all = true // the next heartbeat rewrites everything
		w.mu.Unlock()
		if !w.failing {
			h.log.Warn("cluster: writing this node's connections and presence; retrying on each heartbeat", "rows", len(conns)+len(pres), "err", err)
		}
		w.failing = true
		return
	}
	if w.failing {
		h.log.Info("cluster: this node's connections and presence are written again")
	}
	w.failing = false
}

// localConns is how many connections uid has on this node.
func (h *Hub) localConns(uid string) int {
	s := &h.users[h.shard(uid)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[uid]; u != nil {
		return len(u.clients)
	}
	return 0
}

// localPresence says whether k's user is in k's room on this node.
func (h *Hub) localPresence(k roomUser) store.NodePresence {
	out := store.NodePresence{Room: k.room, User: store.PresenceUser{ID: k.user}}
	sh := &h.rooms[h.shard(k.room)]
	sh.mu.Lock()
	r := sh.rooms[k.room]
	sh.mu.Unlock()
	if r == nil {
		return out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.users.get(k.user); p != nil && p.conns > 0 {
		out.User, out.In = presenceUser(p.user), true
	}
	return out
}

// nodeTruth is every row this node should have.
func (h *Hub) nodeTruth() ([]store.NodeConns, []store.NodePresence) {
	var conns []store.NodeConns
	for i := range h.users {
		s := &h.users[i]
		s.mu.Lock()
		for uid, u := range s.users {
			if len(u.clients) > 0 {
				conns = append(conns, store.NodeConns{User: uid, Conns: len(u.clients)})
			}
		}
		s.mu.Unlock()
	}
	rooms := h.activeRooms()
	var pres []store.NodePresence
	for _, r := range rooms {
		r.mu.Lock()
		for _, p := range r.users.byID {
			if p.conns > 0 {
				pres = append(pres, store.NodePresence{Room: r.key, User: presenceUser(p.user), In: true})
			}
		}
		r.mu.Unlock()
	}
	return conns, pres
}

func presenceUser(u protocol.User) store.PresenceUser {
	return store.PresenceUser{ID: u.ID, Name: u.Name, Guest: u.Guest}
}

// otherConns reads uid's connections on the other nodes: one read, no
// write. On a store failure it returns -1: the node's own limit still
// holds, and no webhook is sent.
func (h *Hub) otherConns(uid string) int {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	n, err := h.cluster.Presence.OtherConnections(ctx, h.cluster.Node, uid)
	if err != nil {
		h.log.Warn("cluster: counting a user's connections on other nodes", "user", uid, "err", err)
		return -1
	}
	return n
}

// closedInCluster marks a closed connection for the writer and, when it
// was the user's last on this node and none is left on the others, tells
// webhooks the user is offline.
func (h *Hub) closedInCluster(c *Client, lastHere bool) {
	uid := c.ident.User.ID
	h.cluster.writer.markUser(uid)
	if lastHere && h.cfg.Events.Wants(event.UserOffline) && h.otherConns(uid) == 0 {
		h.emit(event.UserOffline, func() any { return event.User{User: c.ident.User} })
	}
}
