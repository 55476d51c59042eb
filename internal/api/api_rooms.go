package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// maxTopic is the longest room topic, in characters.
const maxTopic = 256

// maxUserID bounds a user id in a path, as the WebSocket side does for the
// recipient of a private message.
const maxUserID = 128

// RoomJSON is a room as the API shows it.
type RoomJSON struct {
	Name      string `json:"name"`
	Private   bool   `json:"private"`
	Topic     string `json:"topic"`
	Owner     string `json:"owner,omitempty"`
	CreatedAt string `json:"created_at"`
	LastSeq   int64  `json:"last_seq"`
	// Role is the caller's role in the room; only GET, PATCH and POST of
	// one room fill it, and only when the caller is a member.
	Role string `json:"role,omitempty"`
}

// MemberJSON is one member of a room.
type MemberJSON struct {
	ID       string `json:"id"`
	Role     string `json:"role"`
	JoinedAt string `json:"joined_at"`
}

// RoomsResponse lists rooms.
type RoomsResponse struct {
	Rooms []RoomJSON `json:"rooms"`
}

// MembersResponse lists a room's members.
type MembersResponse struct {
	Room    string       `json:"room"`
	Members []MemberJSON `json:"members"`
}

type createRoomRequest struct {
	Name    string `json:"name"`
	Private bool   `json:"private"`
	Topic   string `json:"topic"`
}

type updateRoomRequest struct {
	Topic   *string `json:"topic"`
	Private *bool   `json:"private"`
}

type putMemberRequest struct {
	Role string `json:"role"`
}

func roomJSON(r store.Room, role store.Role) RoomJSON {
	return RoomJSON{
		Name:      r.Name,
		Private:   r.Private,
		Topic:     r.Topic,
		Owner:     r.Owner,
		CreatedAt: protocol.FormatTime(r.CreatedAt),
		LastSeq:   r.LastSeq,
		Role:      string(role),
	}
}

func memberJSON(m store.Member) MemberJSON {
	return MemberJSON{ID: m.UserID, Role: string(m.Role), JoinedAt: protocol.FormatTime(m.JoinedAt)}
}

// roomAccess is what the caller may do in one room.
type roomAccess struct {
	room  store.Room
	role  store.Role // the caller's role; "" when not a member
	admin bool       // the caller is a server admin: every room rule is waived
}

// canRead: public rooms are open to everyone signed in; private ones to
// their members.
func (ra roomAccess) canRead() bool { return !ra.room.Private || ra.role != "" || ra.admin }

// canModerate: owners and room admins manage a room.
func (ra roomAccess) canModerate() bool {
	return ra.admin || ra.role == store.RoleOwner || ra.role == store.RoleAdmin
}

// isOwner: only the owner makes admins and manages them.
func (ra roomAccess) isOwner() bool { return ra.admin || ra.role == store.RoleOwner }

// allowed reports whether the caller's token permits room key. Only an
// integrating app's token with a rooms claim restricts; the claim's names
// are normalised as the WebSocket side does.
func (a *API) allowed(id auth.Identity, key string) bool {
	if id.Rooms == nil {
		return true
	}
	for _, name := range id.Rooms {
		if k, err := protocol.NormaliseRoom(name, a.cfg.MaxRoomNameLength); err == nil && k == key {
			return true
		}
	}
	return false
}

// roomKey normalises a room name and checks the caller's token allows it.
func (a *API) roomKey(name string, id auth.Identity) (string, error) {
	key, perr := protocol.NormaliseRoom(name, a.cfg.MaxRoomNameLength)
	if perr != nil {
		return "", fromProtocol(perr)
	}
	if !a.allowed(id, key) {
		return "", errorf(http.StatusForbidden, protocol.CodeForbidden, "your token does not allow room %q", key)
	}
	return key, nil
}

// access loads the room named in the path and the caller's standing in it.
func (a *API) access(r *http.Request, id auth.Identity) (roomAccess, error) {
	key, err := a.roomKey(r.PathValue("room"), id)
	if err != nil {
		return roomAccess{}, err
	}
	ctx := r.Context()
	room, err := a.store.Room(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return roomAccess{}, errorf(http.StatusNotFound, protocol.CodeNotFound, "room %q does not exist", key)
	}
	if err != nil {
		return roomAccess{}, fmt.Errorf("api: room %q: %w", key, err)
	}
	ra := roomAccess{room: room, admin: id.Admin}
	m, err := a.store.Member(ctx, key, id.UserID)
	switch {
	case err == nil:
		ra.role = m.Role
	case !errors.Is(err, store.ErrNotFound):
		return roomAccess{}, fmt.Errorf("api: membership of %q in %q: %w", id.UserID, key, err)
	}
	return ra, nil
}

// readable is access for endpoints that show a room's contents.
func (a *API) readable(r *http.Request, id auth.Identity) (roomAccess, error) {
	ra, err := a.access(r, id)
	if err == nil && !ra.canRead() {
		err = errorf(http.StatusForbidden, protocol.CodeForbidden, "room %q is private; ask an owner to invite you", ra.room.Name)
	}
	return ra, err
}

// listRooms lists the public rooms and the caller's private ones. Direct
// conversations are not rooms here; GET /unread lists them.
func (a *API) listRooms(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	rooms, err := a.store.Rooms(r.Context(), id.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: rooms of %q: %w", id.UserID, err))
		return
	}
	out := RoomsResponse{Rooms: []RoomJSON{}}
	for _, room := range rooms {
		if room.Kind == store.KindRoom && a.allowed(id, room.Name) {
			out.Rooms = append(out.Rooms, roomJSON(room, ""))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// createRoom creates a room owned by the caller.
func (a *API) createRoom(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req createRoomRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	key, err := a.roomKey(req.Name, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	topic, err := validTopic(req.Topic)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	room, err := a.store.CreateRoom(r.Context(), store.Room{
		Name: key, Kind: store.KindRoom, Private: req.Private, Owner: id.UserID, Topic: topic,
	})
	if errors.Is(err, store.ErrConflict) {
		a.fail(w, r, errorf(http.StatusConflict, protocol.CodeInvalid, "room %q already exists", key))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: create room %q: %w", key, err))
		return
	}
	role := store.RoleOwner
	if id.UserID == "" {
		role = "" // an API key's room has no owner member
	}
	w.Header().Set("Location", Prefix+"/rooms/"+key)
	writeJSON(w, http.StatusCreated, roomJSON(room, role))
}

func validTopic(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > maxTopic {
		return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "topic has %d characters, the limit is %d", n, maxTopic)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "topic has a control character")
		}
	}
	return s, nil
}

// getRoom describes one room.
func (a *API) getRoom(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ra, err := a.readable(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roomJSON(ra.room, ra.role))
}

// updateRoom changes a room's topic or privacy; owners and room admins only.
func (a *API) updateRoom(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req updateRoomRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Topic == nil && req.Private == nil {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give topic, private or both"))
		return
	}
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !ra.canModerate() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only the owner or an admin of room %q may change it", ra.room.Name))
		return
	}
	room := ra.room
	if req.Topic != nil {
		if room.Topic, err = validTopic(*req.Topic); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if req.Private != nil {
		room.Private = *req.Private
	}
	room, err = a.store.UpdateRoom(r.Context(), room)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: update room %q: %w", ra.room.Name, err))
		return
	}
	a.live.RoomChanged(r.Context(), hub.RoomChange{Room: room, Event: protocol.RoomUpdated, By: actor(id)})
	writeJSON(w, http.StatusOK, roomJSON(room, ra.role))
}

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

// actor is who made a change, for room frames: the user, or the
// application for an API key.
func actor(id auth.Identity) string {
	if id.KeyID != "" {
		return protocol.SystemUserID
	}
	return id.UserID
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
		if err := a.invitable(r, target); err != nil {
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
	if a.webhooks.Wants(event.MemberLeft) {
		a.webhooks.Emit(event.MemberLeft, event.Member{Room: key, User: target, By: actor(id)})
	}
	w.WriteHeader(http.StatusNoContent)
}
