package hub

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Cluster makes presence, member lists and the per-user connection limit
// hold across the nodes that share one store and one broker. Without it
// (one node) the hub keeps them in memory.
type Cluster struct {
	// Node is this node's id: the same across restarts, so that a node
	// that comes back is recognised and its users' presence survives a
	// quick restart without leave and join events.
	Node string
	// Presence is the shared record (the store).
	Presence store.Presence
	// Heartbeat is how often the node says it is alive; default 2s.
	Heartbeat time.Duration
	// NodeTimeout is how long a silent node is taken for alive: its users
	// leave the rooms when it has passed. It is also how long a restarted
	// node waits for its users to come back before the others are told
	// they left. Default 10s.
	NodeTimeout time.Duration
}

// cluster is a hub's running Cluster.
type cluster struct {
	Cluster
	writer *nodeWriter
	stop   chan struct{}
	done   sync.WaitGroup
}

// opTimeout bounds one presence operation: presence is advisory, and a
// slow store must not hold a join or a close for long.
const opTimeout = 5 * time.Second

// startCluster registers the node and starts its heartbeat, reaper and
// writer.
func (h *Hub) startCluster(c Cluster) {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.NodeTimeout <= 0 {
		c.NodeTimeout = 10 * time.Second
	}
	h.cluster = &cluster{Cluster: c, writer: newNodeWriter(), stop: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	started := time.Now()
	if err := c.Presence.NodeStarted(ctx, c.Node, started); err != nil {
		h.log.Error("cluster: registering this node; presence across nodes may be wrong", "node", c.Node, "err", err)
	}
	h.cluster.done.Add(2)
	go h.clusterLoop(started)
	go h.writerLoop()
}

// clusterLoop beats the node's heartbeat, has the writer rewrite the
// node's rows from memory (repairing any write that failed, or rows
// another node reaped while this one could not reach the store), reaps
// nodes that went silent, and, once NodeTimeout after the start, drops the presence a previous run
// of this node left that no user came back to.
func (h *Hub) clusterLoop(started time.Time) {
	cl := h.cluster
	defer cl.done.Done()
	tick := time.NewTicker(cl.Heartbeat)
	defer tick.Stop()
	staleDropped := false
	for {
		select {
		case <-cl.stop:
			return
		case now := <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			if err := cl.Presence.NodeAlive(ctx, cl.Node, now); err != nil {
				h.log.Warn("cluster: heartbeat", "err", err)
			}
			cl.writer.markAll()
			gone, err := cl.Presence.ReapNodes(ctx, now.Add(-cl.NodeTimeout))
			if err != nil {
				h.log.Warn("cluster: reaping silent nodes", "err", err)
			} else if len(gone) > 0 {
				h.log.Info("cluster: a node went silent; its users left their rooms", "leaves", len(gone))
			}
			if !staleDropped && now.Sub(started) >= cl.NodeTimeout {
				staleDropped = true
				stale, err := cl.Presence.DropStale(ctx, cl.Node)
				if err != nil {
					h.log.Warn("cluster: dropping presence of the previous run", "err", err)
				}
				gone = append(gone, stale...)
			}
			h.announceGone(ctx, gone)
			cancel()
		}
	}
}

// announceGone tells rooms that users no node has in them any more left.
func (h *Hub) announceGone(ctx context.Context, gone []store.PresenceGone) {
	for _, g := range gone {
		u := protocol.User{ID: g.User.ID, Name: g.User.Name, Guest: g.User.Guest}
		h.publishRoom(ctx, g.Room, kindPresence, 0, "", protocol.Encode(protocol.TypePresence, "",
			protocol.PresenceBody{Room: g.Room, User: u, Event: "leave"}))
	}
}

// Stopping tells the hub that the node is shutting down: the connections
// closing from now on leave the cluster's record as it is, so that a node
// restarted within NodeTimeout finds its users' presence and their
// reconnecting (to it or to another node) causes no leave and join. If
// the node does not come back, the others reap it after NodeTimeout.
func (h *Hub) Stopping() {
	h.stopping.Store(true)
}

// stopCluster stops the heartbeat; the node's rows stay for a restart
// (see Stopping) or for the other nodes to reap.
func (h *Hub) stopCluster() {
	cl := h.cluster
	if cl == nil {
		return
	}
	close(cl.stop)
	cl.done.Wait()
}

// leaveRecorded reports whether a connection's leaving must change the
// cluster's record: not while the node stops (see Stopping).
func (h *Hub) leaveRecorded() bool { return h.cluster != nil && !h.stopping.Load() }

// joinedCluster records that a user's first connection on this node
// joined room key and reports whether the join is news to the cluster: no
// other node has them in the room, nor had this node before a restart (a
// stale row). The row is written by the writer, in a batch with others'
// (the join waits for it, so that the roster read next has the joiner);
// the check is one read. On a store failure it says no: a missing join
// event is better than one for someone already there.
func (h *Hub) joinedCluster(key string, u protocol.User) bool {
	// Read before the row is written: the write confirms a stale row.
	rows, err := h.presenceRows(key, u.ID)
	select {
	case <-h.cluster.writer.markPresence(key, u.ID):
	case <-time.After(opTimeout):
	}
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.Node != h.cluster.Node || r.Stale {
			return false
		}
	}
	return true
}

// leftCluster records that a user's last connection on this node left
// room key and reports whether they are now in it through no node (this
// node's row, going, does not count).
func (h *Hub) leftCluster(key, uid string) bool {
	h.cluster.writer.markPresence(key, uid)
	rows, err := h.presenceRows(key, uid)
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.Node != h.cluster.Node {
			return false
		}
	}
	return true
}

// presenceRows reads the nodes that have uid in room key.
func (h *Hub) presenceRows(key, uid string) ([]store.PresenceRow, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := h.cluster.Presence.PresenceNodes(ctx, key, uid)
	if err != nil {
		h.log.Warn("cluster: reading a user's presence", "room", key, "user", uid, "err", err)
	}
	return rows, err
}

// clusterMembers lists the users in room key through any node, the
// first MaxJoinedMembers by id.
func (h *Hub) clusterMembers(key string) []protocol.User {
	users, _ := h.clusterRoster(key)
	return users
}

// clusterRoster is clusterMembers and how many users there are in all.
func (h *Hub) clusterRoster(key string) ([]protocol.User, int) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	users, total, err := h.cluster.Presence.RoomPresence(ctx, key, h.cfg.MaxJoinedMembers)
	if err != nil {
		h.log.Warn("cluster: reading a room's presence", "room", key, "err", err)
		return []protocol.User{}, 0
	}
	out := make([]protocol.User, len(users))
	for i, u := range users {
		out[i] = protocol.User{ID: u.ID, Name: u.Name, Guest: u.Guest}
	}
	return out, total
}

// clusterCount is how many users are in room key through any node; ok
// is false when the store cannot say.
func (h *Hub) clusterCount(key string) (n int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, total, err := h.cluster.Presence.RoomPresence(ctx, key, 1)
	if err != nil {
		h.log.Warn("cluster: counting a room's users", "room", key, "err", err)
		return 0, false
	}
	return total, true
}

// rosterCache is a busy room's cluster roster as last read from the
// store: joined replies and presence diffs of a room past
// PresenceBatchAbove take it from here for up to PresenceInterval.
// Reading it fresh for every join counts the whole room in the store each
// time (count(DISTINCT) over its rows): filling a room of N cost O(N²)
// rows read, and the store, shared by every node, set the pace.
type rosterCache struct {
	mu    sync.Mutex // held while reading, so concurrent joins share a read
	at    time.Time
	users []protocol.User
	count int
}

// busyRoster is clusterRoster for a busy room r: at most one store read per
// PresenceInterval, the joins in between sharing it. The list and count may
// be up to an interval old, as the presence_diff that follows them is.
func (h *Hub) busyRoster(r *room) ([]protocol.User, int) {
	rc := &r.cached
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if time.Since(rc.at) < h.cfg.PresenceInterval {
		return rc.users, rc.count
	}
	users, count := h.clusterRoster(r.key)
	rc.at, rc.users, rc.count = time.Now(), users, count
	return users, count
}

// BrokerReconnected catches every active room up from the store: events
// stored on other nodes while the broker was away never arrived here.
func (h *Hub) BrokerReconnected() {
	rooms := h.activeRooms()
	for _, r := range rooms {
		r.catchUp()
	}
	h.log.Info("broker back: rooms caught up from the store", "rooms", len(rooms))
}

// publish sends an event through the broker. If the broker refuses it
// (NATS is away), the event is delivered to this node's own connections
// instead, so that a node cut off from the others still serves its own
// users; the other nodes catch up from the store when the broker is back
// (BrokerReconnected). The error is still returned, for the caller's log.
func (h *Hub) publish(ctx context.Context, subject string, data []byte) error {
	err := h.broker.Publish(ctx, subject, data)
	if err == nil {
		return nil
	}
	switch {
	case strings.HasPrefix(subject, "room."):
		key := strings.TrimPrefix(subject, "room.")
		sh := &h.rooms[h.shard(key)]
		sh.mu.Lock()
		r := sh.rooms[key]
		sh.mu.Unlock()
		if r != nil {
			r.deliver(data)
		}
	case strings.HasPrefix(subject, "user."):
		h.deliverToUser(strings.TrimPrefix(subject, "user."), data)
	case subject == noticeSubject:
		h.deliverNotice(data)
	case subject == notifySubject:
		h.deliverNotification(data)
	}
	return err
}

// activeRooms returns the rooms open on this node, taken shard by shard.
func (h *Hub) activeRooms() []*room {
	var rooms []*room
	for i := range h.rooms {
		sh := &h.rooms[i]
		sh.mu.Lock()
		for _, r := range sh.rooms {
			rooms = append(rooms, r)
		}
		sh.mu.Unlock()
	}
	return rooms
}
