package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/audit"
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
	// Locked rooms take messages only from their owner and admins;
	// archived ones from no one.
	Locked   bool `json:"locked"`
	Archived bool `json:"archived"`
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
	Topic    *string `json:"topic"`
	Private  *bool   `json:"private"`
	Locked   *bool   `json:"locked"`
	Archived *bool   `json:"archived"`
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
		Locked:    r.Locked,
		Archived:  r.Archived,
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
	if err == nil && !ra.admin && ra.room.Kind == store.KindRoom {
		err = a.banned(r.Context(), ra.room.Name, id.UserID)
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
	if id.KeyID == "" {
		if perr := a.live.MayCreateRoom(r.Context(), hub.Creator{UserID: id.UserID, Guest: id.Guest, Admin: id.Admin}, key); perr != nil {
			status := http.StatusForbidden
			switch perr.Code {
			case protocol.CodeUnavailable:
				status = http.StatusServiceUnavailable
			case protocol.CodeRateLimited:
				status = http.StatusTooManyRequests
			}
			e := errorf(status, perr.Code, "%s", perr.Message)
			e.retryAfter = perr.RetryAfter
			a.fail(w, r, e)
			return
		}
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
	} else if a.webhooks.Wants(event.MemberJoined) {
		a.webhooks.Emit(event.MemberJoined, event.Member{Room: key, User: id.UserID, Role: string(role), By: id.UserID})
	}
	w.Header().Set("Location", Prefix+"/rooms/"+key)
	writeJSON(w, http.StatusCreated, roomJSON(room, role))
}

func validTopic(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > maxTopic {
		return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "topic has %d characters, the limit is %d", n, maxTopic)
	}
	// A topic is shown beside the room's name and others' messages: no
	// control, bidi-override or other hidden formatting characters.
	if msg := protocol.HiddenRuneProblem("topic", s); msg != "" {
		return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s", msg)
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
	if req.Topic == nil && req.Private == nil && req.Locked == nil && req.Archived == nil {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give at least one of topic, private, locked and archived"))
		return
	}
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	switch {
	case !ra.canModerate():
		err = errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner or an admin of room %q may change it", key)
	case req.Archived != nil && *req.Archived != ra.room.Archived && !ra.isOwner():
		err = errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may archive it or bring it back", key)
	case ra.room.Kind == store.KindDirect && (req.Locked != nil || req.Archived != nil):
		err = errorf(http.StatusBadRequest, protocol.CodeInvalid, "conversations cannot be locked or archived")
	}
	if err != nil {
		a.fail(w, r, err)
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
	if req.Locked != nil {
		room.Locked = *req.Locked
	}
	if req.Archived != nil {
		room.Archived = *req.Archived
	}
	ctx := r.Context()
	room, err = a.store.UpdateRoom(ctx, room)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: update room %q: %w", key, err))
		return
	}
	before := ra.room
	if room.Locked != before.Locked || room.Archived != before.Archived {
		a.live.RoomRulesChanged(ctx, key)
	}
	a.live.RoomChanged(ctx, hub.RoomChange{Room: room, Event: protocol.RoomUpdated, By: actor(id)})
	a.auditUpdate(ctx, id, before, room)
	writeJSON(w, http.StatusOK, roomJSON(room, ra.role))
}

// auditUpdate records what a room update changed: its lock and archive
// state as actions of their own, topic and privacy as room.update.
func (a *API) auditUpdate(ctx context.Context, id auth.Identity, before, after store.Room) {
	flag := func(was, is bool, on, off string) {
		if was != is {
			action := off
			if is {
				action = on
			}
			a.audit.Record(ctx, who(id), action, after.Name, "", nil)
		}
	}
	flag(before.Locked, after.Locked, audit.RoomLock, audit.RoomUnlock)
	flag(before.Archived, after.Archived, audit.RoomArchive, audit.RoomUnarchive)
	detail := map[string]any{}
	if before.Topic != after.Topic {
		detail["topic"] = after.Topic
	}
	if before.Private != after.Private {
		detail["private"] = after.Private
	}
	if len(detail) > 0 {
		a.audit.Record(ctx, who(id), audit.RoomUpdate, after.Name, "", detail)
	}
}

// actor is who made a change, for room frames: the user, or the
// application for an API key.
func actor(id auth.Identity) string {
	if id.KeyID != "" {
		return protocol.SystemUserID
	}
	return id.UserID
}
