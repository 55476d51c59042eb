package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Who may create rooms (Config.RoomCreation).
const (
	CreateAnyone   = "anyone"   // everyone signed in, guests included
	CreateAccounts = "accounts" // accounts and users of the application's tokens; not guests
	CreateAdmins   = "admins"   // server administrators only (and API keys, always)
)

// roomRules is what a room allows right now, cached on each node that has
// the room active and read without a lock on the send path.
type roomRules struct {
	locked, archived bool
	muted            map[string]time.Time // user id → until; zero: until lifted
}

// loadRules reads a room's rules from the store.
func (h *Hub) loadRules(ctx context.Context, key string, info store.Room) (*roomRules, error) {
	rr := &roomRules{locked: info.Locked, archived: info.Archived}
	sanctions, err := h.store.Sanctions(ctx, key, "")
	if err != nil {
		return nil, fmt.Errorf("hub: sanctions in room %q: %w", key, err)
	}
	for _, s := range sanctions {
		if s.Kind == store.SanctionMute {
			if rr.muted == nil {
				rr.muted = make(map[string]time.Time)
			}
			rr.muted[s.UserID] = s.ExpiresAt
		}
	}
	return rr, nil
}

// reloadRules reads the room's rules again after a change. Reloads run
// one at a time and each reads the store afresh, so the last to run sees
// the last change.
func (r *room) reloadRules() {
	r.rulesMu.Lock()
	defer r.rulesMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := r.hub.store.Room(ctx, r.key)
	if errors.Is(err, store.ErrNotFound) {
		return // deleted: its members are being taken out
	}
	var rr *roomRules
	if err == nil {
		rr, err = r.hub.loadRules(ctx, r.key, info)
	}
	if err != nil {
		r.hub.log.Error("reading a room's rules after a change; the old ones stay in force", "room", r.key, "err", err)
		return
	}
	r.rules.Store(rr)
}

// mayPost checks that the connection's user may add to room r: post,
// edit, react. Moderators may post in a locked room; no one in an archived
// one; a muted user nowhere in it.
func (c *Client) mayPost(ctx context.Context, r *room) *protocol.Error {
	rr := r.rules.Load()
	if rr == nil {
		return nil
	}
	if rr.archived {
		return protocol.Errorf(protocol.CodeForbidden, "room %q is archived; it takes no new messages", r.key)
	}
	if until, ok := rr.muted[c.ident.User.ID]; ok {
		if until.IsZero() {
			return protocol.Errorf(protocol.CodeForbidden, "you are muted in room %q: you may read it but not post", r.key)
		}
		if time.Now().Before(until) {
			return protocol.Errorf(protocol.CodeForbidden, "you are muted in room %q until %s", r.key, protocol.FormatTime(until))
		}
	}
	if rr.locked && !c.isModerator(ctx, r.key) {
		return protocol.Errorf(protocol.CodeForbidden, "room %q is locked: only its owner and admins may post", r.key)
	}
	return nil
}

// checkBan refuses a banned user the room. Server administrators are
// never kept out.
func (c *Client) checkBan(ctx context.Context, key string) *protocol.Error {
	if c.ident.Admin {
		return nil
	}
	bans, err := c.hub.store.Sanctions(ctx, key, c.ident.User.ID)
	if err != nil {
		return c.storeError("join", key, err)
	}
	for _, s := range bans {
		if s.Kind == store.SanctionBan {
			return BanError(key, s)
		}
	}
	return nil
}

// BanError is the error a banned user gets from a room.
func BanError(key string, s store.Sanction) *protocol.Error {
	if s.ExpiresAt.IsZero() {
		return protocol.Errorf(protocol.CodeForbidden, "you are banned from room %q", key)
	}
	return protocol.Errorf(protocol.CodeForbidden, "you are banned from room %q until %s", key, protocol.FormatTime(s.ExpiresAt))
}

// Creator is who wants to create a room, for MayCreateRoom.
type Creator struct {
	UserID string
	Guest  bool
	Admin  bool
}

// MayCreateRoom checks the room-creation rules for a user: who may create
// rooms at all, the reserved names, how fast one user may create rooms and
// how many they may own.
// API keys are not users and skip it.
func (h *Hub) MayCreateRoom(ctx context.Context, who Creator, key string) *protocol.Error {
	if who.Admin {
		return nil
	}
	switch {
	case h.cfg.RoomCreation == CreateAdmins:
		return protocol.Errorf(protocol.CodeForbidden, "room %q does not exist, and only server administrators may create rooms", key)
	case h.cfg.RoomCreation == CreateAccounts && who.Guest:
		return protocol.Errorf(protocol.CodeForbidden, "room %q does not exist, and guests may not create rooms", key)
	case slices.Contains(h.cfg.ReservedRooms, key):
		return protocol.Errorf(protocol.CodeForbidden, "the room name %q is reserved; only server administrators may create it", key)
	}
	// The rate comes after the rules, so a refusal by rule costs no
	// token, and before the count, so a flood costs no store read.
	if ok, wait := h.cfg.RoomCreations.Allow(who.UserID); !ok {
		return &protocol.Error{Code: protocol.CodeRateLimited, RetryAfter: wait,
			Message: "you are creating rooms too fast; wait before creating another"}
	}
	if h.cfg.MaxRoomsPerUser > 0 {
		n, err := h.store.OwnedRooms(ctx, who.UserID)
		if err != nil {
			return protocol.Errorf(protocol.CodeUnavailable, "could not check how many rooms you own; try again")
		}
		if n >= h.cfg.MaxRoomsPerUser {
			return protocol.Errorf(protocol.CodeForbidden, "you own %d rooms, the most one user may; delete one to create another", n)
		}
	}
	return nil
}

// RoomRulesChanged makes every node read a room's lock, archive state and
// mutes again; call it after changing them in the store. This node reads
// them before it returns, so the change holds here as soon as the caller
// answers; other nodes follow as the broker reaches them.
func (h *Hub) RoomRulesChanged(ctx context.Context, key string) {
	s := &h.rooms[h.shard(key)]
	s.mu.Lock()
	r := s.rooms[key]
	s.mu.Unlock()
	if r != nil {
		r.reloadRules()
	}
	h.publishRoom(ctx, key, kindRules, 0, "", nil)
}

// RoomDeleted tells everyone in a deleted room, on every node, with a room
// frame, and takes their connections out of it, each told with a left
// frame.
func (h *Hub) RoomDeleted(ctx context.Context, key, by string) {
	frame := protocol.Encode(protocol.TypeRoom, "", protocol.RoomEventBody{Room: key, Event: protocol.RoomDeleted, By: by})
	h.publishRoom(ctx, key, kindEphemeral, 0, "", frame)
	h.publishRoom(ctx, key, kindRoomGone, 0, "", nil)
}

// evictAll takes every local connection out of the room.
func (r *room) evictAll() {
	r.mu.Lock()
	clients := make([]*Client, 0, len(r.members))
	for c := range r.members {
		clients = append(clients, c)
	}
	r.mu.Unlock()
	for _, c := range clients {
		c.removedFrom(r.key)
	}
}

// SignedOutExcept closes, on every node, the user's connections of every
// sign-in session but keep (after a password change).
func (h *Hub) SignedOutExcept(ctx context.Context, uid, keep string) {
	if err := h.publish(ctx, userSubject(uid), packEvent(kindSignedOutExcept, 0, "", []byte(keep))); err != nil {
		h.log.Warn("publishing a sign-out", "user", uid, "err", err)
	}
}
