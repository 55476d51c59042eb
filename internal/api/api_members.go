package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// listMembers lists a room's members; a private room's only to members.
func (a *API) listMembers(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ra, err := a.readable(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ms, err := a.store.Members(r.Context(), ra.room.Name)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: members of %q: %w", ra.room.Name, err))
		return
	}
	out := MembersResponse{Room: ra.room.Name, Members: make([]MemberJSON, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberJSON(m))
	}
	writeJSON(w, http.StatusOK, out)
}

// targetUser reads and checks the {user} path segment.
func targetUser(r *http.Request) (string, error) {
	u := r.PathValue("user")
	if u == "" || len(u) > maxUserID || !utf8.ValidString(u) || strings.IndexFunc(u, unicode.IsControl) >= 0 {
		return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "not a valid user id")
	}
	return u, nil
}

// putMember invites a user to a room or changes their role. Owners and room
// admins invite members; only the owner makes admins or changes an admin's
// role; nobody changes the owner's.
func (a *API) putMember(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	target, err := targetUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req putMemberRequest
	if err := decode(w, r, &req, true); err != nil {
		a.fail(w, r, err)
		return
	}
	role := store.RoleMember
	switch req.Role {
	case "", string(store.RoleMember):
	case string(store.RoleAdmin):
		role = store.RoleAdmin
	default:
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, `role must be "member" or "admin"`))
		return
	}
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	if !ra.canModerate() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only the owner or an admin of room %q may invite", key))
		return
	}
	if role == store.RoleAdmin && !ra.isOwner() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may make admins", key))
		return
	}
	ctx := r.Context()
	existing, err := a.store.Member(ctx, key, target)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, fmt.Errorf("api: membership of %q in %q: %w", target, key, err))
		return
	}
	switch {
	case found && existing.Role == store.RoleOwner:
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "the owner's role cannot change"))
		return
	case found && existing.Role == store.RoleAdmin && role != store.RoleAdmin && !ra.isOwner():
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may demote an admin", key))
		return
	}
	if !found {
		err := a.invitable(r, target)
		if err == nil {
			if err = a.banned(ctx, key, target); err != nil {
				err = errorf(http.StatusForbidden, protocol.CodeForbidden, "%q is banned from room %q; lift the ban first", target, key)
			}
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if err := a.store.AddMember(ctx, key, target, role); err != nil {
		a.fail(w, r, fmt.Errorf("api: add %q to %q: %w", target, key, err))
		return
	}
	m, err := a.store.Member(ctx, key, target)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: membership of %q in %q: %w", target, key, err))
		return
	}
	status := http.StatusOK
	change := hub.RoomChange{Room: ra.room, Event: protocol.RoomAdded, User: target, Role: m.Role, By: actor(id)}
	if found {
		change.Event = protocol.RoomRole
	}
	if !found {
		status = http.StatusCreated
	}
	if !found || existing.Role != m.Role {
		a.live.RoomChanged(ctx, change)
	}
	if found && existing.Role != m.Role {
		a.audit.Record(ctx, who(id), audit.RoomRole, key, target, map[string]any{"from": existing.Role, "to": m.Role})
	}
	if !found && a.webhooks.Wants(event.MemberJoined) {
		a.webhooks.Emit(event.MemberJoined, event.Member{Room: key, User: target, Role: string(m.Role), By: actor(id)})
	}
	writeJSON(w, status, memberJSON(m))
}

// invitable checks that target can be a member: never a guest (anyone can
// claim a guest name, so membership would be up for grabs), and an existing
// account unless an integrating app's users, who have no account, are
// accepted too.
func (a *API) invitable(r *http.Request, target string) error {
	if strings.HasPrefix(target, auth.GuestIDPrefix) {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "guests cannot be members of a room")
	}
	if a.cfg.JWTAlgorithm != "" {
		return nil
	}
	_, err := a.store.User(r.Context(), target)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, protocol.CodeNotFound, "user %q does not exist", target)
	}
	if err != nil {
		return fmt.Errorf("api: user %q: %w", target, err)
	}
	return nil
}

// deleteMember removes a member: anyone may leave (but the owner), owners
// and room admins remove members, and only the owner removes admins.
func (a *API) deleteMember(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	target, err := targetUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	self := target == id.UserID
	// Check the caller's right before looking at the target, so a stranger
	// learns nothing about who is in the room.
	if !self && !ra.canModerate() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only the owner or an admin of room %q may remove members", key))
		return
	}
	ctx := r.Context()
	existing, err := a.store.Member(ctx, key, target)
	if errors.Is(err, store.ErrNotFound) && !self && !ra.room.Private && a.inRoom(key, target) {
		// A guest, or anyone in a public room without a membership: kick
		// them out of it all the same.
		a.live.RemovedFromRoom(ctx, key, target)
		a.live.RoomChanged(ctx, hub.RoomChange{Room: ra.room, Event: protocol.RoomRemoved, User: target, By: actor(id)})
		a.audit.Record(ctx, who(id), audit.RoomKick, key, target, nil)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "%q is not a member of room %q", target, key))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: membership of %q in %q: %w", target, key, err))
		return
	}
	switch {
	case existing.Role == store.RoleOwner && self:
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "the owner cannot leave room %q", key))
		return
	case existing.Role == store.RoleOwner:
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "the owner of room %q cannot be removed", key))
		return
	case existing.Role == store.RoleAdmin && !self && !ra.isOwner():
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may remove an admin", key))
		return
	}
	err = a.store.RemoveMember(ctx, key, target)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // gone meanwhile: the outcome stands
		a.fail(w, r, fmt.Errorf("api: remove %q from %q: %w", target, key, err))
		return
	}
	if ra.room.Private || !self {
		// A removed member stops reading and writing at once; someone
		// leaving a public room keeps the connections they have joined
		// with until they leave them.
		a.live.RemovedFromRoom(ctx, key, target)
	}
	a.live.RoomChanged(ctx, hub.RoomChange{Room: ra.room, Event: protocol.RoomRemoved, User: target, By: actor(id)})
	if !self {
		a.audit.Record(ctx, who(id), audit.RoomKick, key, target, nil)
	}
	if a.webhooks.Wants(event.MemberLeft) {
		a.webhooks.Emit(event.MemberLeft, event.Member{Room: key, User: target, By: actor(id)})
	}
	w.WriteHeader(http.StatusNoContent)
}

// inRoom reports whether user is connected to room now.
func (a *API) inRoom(room, user string) bool {
	for _, u := range a.live.RoomOnline(room) {
		if u.ID == user {
			return true
		}
	}
	return false
}
