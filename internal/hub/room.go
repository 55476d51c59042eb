package hub

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/broker"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// room is one room's state on this node. It exists while at least one local
// connection is in the room (refs counts them, plus joins in progress) and is
// released when the last one leaves.
type room struct {
	hub *Hub
	key string

	// refs is guarded by the shard's mutex, not mu.
	refs int

	initOnce sync.Once
	initErr  error
	sub      broker.Subscription

	// rules is what the room allows (lock, archive, mutes); nil until
	// init. rulesMu orders reloads.
	rules   atomic.Pointer[roomRules]
	rulesMu sync.Mutex

	mu      sync.Mutex
	ready   bool // delivered holds the store's last sequence
	members map[*Client]*membership
	users   roster // local users in the room
	typing  map[string]*time.Timer
	// delivered is the highest stored sequence fanned out; stored events
	// with a higher sequence wait in pending until the gap before them closes.
	delivered int64
	pending   map[int64]pendingEvent
	gapTimer  *time.Timer
	stopped   bool
	// diff gathers presence changes while the room is busy.
	diff presenceDiff
	// cached is the cluster's roster of a busy room (see busyRoster).
	cached rosterCache
}

type pendingEvent struct {
	exclude string
	frame   []byte
}

type presence struct {
	user  protocol.User
	conns int
}

// membership is one connection's place in a room. While holding, events for
// it are kept aside so that the join reply and the recovery replay reach the
// client before live traffic; skipUpTo drops live events the replay already
// carried.
type membership struct {
	holding  bool
	held     []heldEvent
	skipUpTo int64
}

type heldEvent struct {
	seq   int64
	frame []byte
}

// acquireRoom returns the local room for key, creating and initialising it
// on first use, with one more reference taken.
func (h *Hub) acquireRoom(ctx context.Context, key string) (*room, error) {
	s := &h.rooms[h.shard(key)]
	s.mu.Lock()
	r := s.rooms[key]
	if r == nil {
		r = &room{hub: h, key: key, members: make(map[*Client]*membership),
			users: newRoster(), typing: make(map[string]*time.Timer),
			pending: make(map[int64]pendingEvent)}
		s.rooms[key] = r
	}
	r.refs++
	s.mu.Unlock()

	r.initOnce.Do(func() { r.initErr = r.init(ctx) })
	if r.initErr != nil {
		h.releaseRoom(r)
		return nil, r.initErr
	}
	return r, nil
}

// init subscribes first and reads the room's last sequence second, so that no
// event committed in between is missed: anything that arrives early waits in
// pending until ready.
func (r *room) init(ctx context.Context) error {
	sub, err := r.hub.broker.Subscribe(roomSubject(r.key), r.deliver)
	if err != nil {
		return fmt.Errorf("hub: subscribe to room %q: %w", r.key, err)
	}
	info, err := r.hub.store.Room(ctx, r.key)
	if err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("hub: read room %q: %w", r.key, err)
	}
	rules, err := r.hub.loadRules(ctx, r.key, info)
	if err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	r.rules.Store(rules)
	r.mu.Lock()
	r.sub = sub
	r.delivered = info.LastSeq
	r.ready = true
	r.drainPendingLocked()
	r.mu.Unlock()
	return nil
}

// releaseRoom drops one reference and frees the room when none is left.
func (h *Hub) releaseRoom(r *room) {
	s := &h.rooms[h.shard(r.key)]
	s.mu.Lock()
	r.refs--
	free := r.refs == 0
	if free && s.rooms[r.key] == r {
		delete(s.rooms, r.key)
	}
	s.mu.Unlock()
	if free {
		r.stop()
	}
}

// stop unsubscribes and disarms timers; the room delivers nothing after it.
func (r *room) stop() {
	r.mu.Lock()
	r.stopped = true
	for uid, t := range r.typing {
		t.Stop()
		delete(r.typing, uid)
	}
	if r.gapTimer != nil {
		r.gapTimer.Stop()
	}
	if r.diff.timer != nil {
		r.diff.timer.Stop()
	}
	sub := r.sub
	r.sub = nil
	r.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}

// deliver is the broker handler for the room's subject.
func (r *room) deliver(data []byte) {
	kind, seq, exclude, frame, err := unpackEvent(data)
	if err != nil {
		r.hub.log.Warn("dropping malformed room event", "room", r.key, "err", err)
		return
	}
	switch kind {
	case kindRules:
		go r.reloadRules()
		return
	case kindRoomGone:
		// Leaving takes the room's lock and may release it, so it runs
		// off the broker's delivery.
		go r.evictAll()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if kind == kindPresence {
		r.presenceLocked(exclude, frame)
		return
	}
	if kind != kindStored || seq <= 0 {
		r.fanoutLocked(0, exclude, frame)
		return
	}
	r.acceptStoredLocked(seq, exclude, frame)
}

// acceptStoredLocked fans out a stored event in sequence order.
func (r *room) acceptStoredLocked(seq int64, exclude string, frame []byte) {
	if r.ready && seq <= r.delivered {
		return // already delivered (a gap fill got there first)
	}
	if r.ready && seq == r.delivered+1 {
		r.fanoutLocked(seq, exclude, frame)
		r.delivered = seq
		r.drainPendingLocked()
		return
	}
	r.pending[seq] = pendingEvent{exclude: exclude, frame: frame}
	if r.ready && r.gapTimer == nil {
		r.gapTimer = time.AfterFunc(r.hub.cfg.GapTimeout, r.fillGap)
	}
}

// drainPendingLocked delivers the pending events that are now in order.
func (r *room) drainPendingLocked() {
	for seq := range r.pending {
		if seq <= r.delivered {
			delete(r.pending, seq)
		}
	}
	for {
		ev, ok := r.pending[r.delivered+1]
		if !ok {
			break
		}
		delete(r.pending, r.delivered+1)
		r.delivered++
		r.fanoutLocked(r.delivered, ev.exclude, ev.frame)
	}
	if len(r.pending) == 0 && r.gapTimer != nil {
		r.gapTimer.Stop()
		r.gapTimer = nil
	}
	if len(r.pending) > 0 && r.gapTimer == nil && !r.stopped {
		r.gapTimer = time.AfterFunc(r.hub.cfg.GapTimeout, r.fillGap)
	}
}

// fillGap reads from the store the events a room has been waiting for too
// long (their publisher failed, or they were published before this node
// subscribed) and delivers them, so a lost broker event delays a room but
// never leaves a hole in it.
func (r *room) fillGap() {
	r.mu.Lock()
	r.gapTimer = nil
	if r.stopped || len(r.pending) == 0 {
		r.mu.Unlock()
		return
	}
	after := r.delivered
	upTo := after
	for seq := range r.pending {
		upTo = max(upTo, seq)
	}
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	events, err := r.hub.store.Events(ctx, r.key, after, int(upTo-after))
	if err != nil {
		r.hub.log.Error("filling a gap in room events", "room", r.key, "after", after, "err", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range events {
		if ev.Seq == r.delivered+1 {
			if p, ok := r.pending[ev.Seq]; ok {
				r.fanoutLocked(ev.Seq, p.exclude, p.frame)
			} else {
				r.fanoutLocked(ev.Seq, "", encodeEvent(ev))
			}
			delete(r.pending, ev.Seq)
			r.delivered = ev.Seq
		}
	}
	if err != nil && len(r.pending) > 0 {
		// The store is failing: skip the hole rather than stall the room;
		// clients recover the missing events from history.
		seqs := make([]int64, 0, len(r.pending))
		for s := range r.pending {
			seqs = append(seqs, s)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		r.delivered = seqs[0] - 1
	}
	r.drainPendingLocked()
}

// fanoutLocked hands frame to every local member but the excluded
// connection, or, for an exclude made by excludeUser, but every connection
// of that user.
func (r *room) fanoutLocked(seq int64, exclude string, frame []byte) {
	skipUser, byUser := strings.CutPrefix(exclude, userExclude)
	if byUser {
		exclude = ""
	}
	for c, m := range r.members {
		if c.id == exclude || (byUser && c.ident.User.ID == skipUser) {
			continue
		}
		if m.holding {
			m.held = append(m.held, heldEvent{seq: seq, frame: frame})
			continue
		}
		if seq > 0 && seq <= m.skipUpTo {
			continue
		}
		c.out.Send(frame)
	}
}

// memberListLocked returns the room's local users, sorted by id: all of
// them when limit is 0, else the first limit.
func (r *room) memberListLocked(limit int) []protocol.User { return r.users.list(limit) }

// publish sends an event for this room through the broker.
func (h *Hub) publishRoom(ctx context.Context, key string, kind byte, seq int64, exclude string, frame []byte) {
	if err := h.publish(ctx, roomSubject(key), packEvent(kind, seq, exclude, frame)); err != nil {
		h.log.Warn("publishing a room event", "room", key, "seq", seq, "err", err)
	}
}

// catchUp delivers the stored events the room missed from the broker, up
// to the store's last sequence: after the broker was away (NATS down or
// unreachable), events other nodes stored meanwhile never arrived, and
// without a later one arriving the gap would not be noticed.
func (r *room) catchUp() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := r.hub.store.Room(ctx, r.key)
	if err != nil {
		return // deleted, or the store is failing: the next event heals it
	}
	r.mu.Lock()
	after, stopped := r.delivered, r.stopped || !r.ready
	r.mu.Unlock()
	for !stopped && after < info.LastSeq {
		events, err := r.hub.store.Events(ctx, r.key, after, int(min(info.LastSeq-after, store.MaxLimit)))
		if err != nil || len(events) == 0 {
			r.hub.log.Warn("catching a room up after the broker came back", "room", r.key, "err", err)
			return
		}
		r.mu.Lock()
		for _, ev := range events {
			if ev.Seq == r.delivered+1 {
				r.fanoutLocked(ev.Seq, "", encodeEvent(ev))
				r.delivered = ev.Seq
			}
		}
		r.drainPendingLocked()
		progressed := r.delivered > after
		after, stopped = r.delivered, r.stopped
		r.mu.Unlock()
		if !progressed {
			return // delivered meanwhile by the broker, or a hole the gap timer handles
		}
	}
}
