package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// SanctionJSON is a ban or a mute as the moderation endpoints show it.
type SanctionJSON struct {
	Room      string `json:"room"`
	User      string `json:"user"`
	Reason    string `json:"reason,omitempty"`
	By        string `json:"by"`
	CreatedAt string `json:"created_at"`
	// ExpiresAt is absent for a sanction that lasts until lifted.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// SanctionsResponse lists a room's bans or mutes.
type SanctionsResponse struct {
	Room  string         `json:"room"`
	Users []SanctionJSON `json:"users"`
}

type sanctionRequest struct {
	Reason string `json:"reason"`
	// DurationSeconds, when above 0, ends the sanction after it.
	DurationSeconds int64 `json:"duration_seconds"`
}

// Limits of a sanction.
const (
	maxSanctionReason = 200
	maxSanctionTime   = 10 * 365 * 24 * 3600 // seconds: ten years
)

func sanctionJSON(s store.Sanction) SanctionJSON {
	out := SanctionJSON{Room: s.Room, User: s.UserID, Reason: s.Reason, By: s.By, CreatedAt: protocol.FormatTime(s.CreatedAt)}
	if !s.ExpiresAt.IsZero() {
		out.ExpiresAt = protocol.FormatTime(s.ExpiresAt)
	}
	return out
}

// who is the audit log's actor for a caller.
func who(id auth.Identity) audit.Actor {
	if id.KeyID != "" {
		return audit.Actor{ID: "key:" + id.KeyID, Name: "API key " + id.KeyID}
	}
	return audit.Actor{ID: id.UserID, Name: id.Name}
}

// ban, unban, mute and unmute: one handler each for the two kinds.
func (a *API) ban(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.sanction(w, r, id, store.SanctionBan)
}

func (a *API) mute(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.sanction(w, r, id, store.SanctionMute)
}

func (a *API) unban(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.unsanction(w, r, id, store.SanctionBan)
}

func (a *API) unmute(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.unsanction(w, r, id, store.SanctionMute)
}

func (a *API) listBans(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.listSanctions(w, r, id, store.SanctionBan)
}

func (a *API) listMutes(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.listSanctions(w, r, id, store.SanctionMute)
}

// moderated loads the room and target of a moderation request and checks
// that the caller may act on the target: owners, room admins, server
// administrators and keys act on members; only the owner (or a server
// administrator, or a key) on a room admin; no one on the owner or
// themselves.
func (a *API) moderated(r *http.Request, id auth.Identity, verb string) (roomAccess, string, error) {
	target, err := targetUser(r)
	if err != nil {
		return roomAccess{}, "", err
	}
	ra, err := a.access(r, id)
	if err != nil {
		return roomAccess{}, "", err
	}
	key := ra.room.Name
	if ra.room.Kind == store.KindDirect {
		return roomAccess{}, "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "conversations have no moderators")
	}
	if !ra.canModerate() {
		return roomAccess{}, "", errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only the owner or an admin of room %q may %s", key, verb)
	}
	if target == id.UserID {
		return roomAccess{}, "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "you cannot %s yourself", verb)
	}
	m, err := a.store.Member(r.Context(), key, target)
	switch {
	case err == nil && m.Role == store.RoleOwner:
		return roomAccess{}, "", errorf(http.StatusForbidden, protocol.CodeForbidden, "the owner of room %q cannot be %s", key, pastTense(verb))
	case err == nil && m.Role == store.RoleAdmin && !ra.isOwner():
		return roomAccess{}, "", errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may %s an admin", key, verb)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return roomAccess{}, "", fmt.Errorf("api: membership of %q in %q: %w", target, key, err)
	}
	return ra, target, nil
}

func pastTense(verb string) string {
	return map[string]string{"ban": "banned", "mute": "muted", "unban": "unbanned", "unmute": "unmuted"}[verb]
}

// knownUser checks that target names someone: an account, a user of the
// application's tokens the server has seen, or a guest connected now.
// Sanctions on an id nobody has are refused, so that a typo is not a
// silent success.
func (a *API) knownUser(ctx context.Context, target string) error {
	_, err := a.store.User(ctx, target)
	if errors.Is(err, store.ErrNotFound) {
		_, err = a.store.ExternalUser(ctx, target)
	}
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("api: user %q: %w", target, err)
	case a.live.Online(target) > 0:
		return nil
	}
	return errorf(http.StatusNotFound, protocol.CodeNotFound, "user %q does not exist", target)
}

// sanction bans or mutes a user in a room.
func (a *API) sanction(w http.ResponseWriter, r *http.Request, id auth.Identity, kind store.SanctionKind) {
	verb := string(kind)
	var req sanctionRequest
	if err := decode(w, r, &req, true); err != nil {
		a.fail(w, r, err)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if len(req.Reason) > maxSanctionReason || strings.IndexFunc(req.Reason, unicode.IsControl) >= 0 {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"reason must be at most %d bytes without control characters", maxSanctionReason))
		return
	}
	if req.DurationSeconds < 0 || req.DurationSeconds > maxSanctionTime {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"duration_seconds must be 0 (until lifted) to %d", maxSanctionTime))
		return
	}
	ra, target, err := a.moderated(r, id, verb)
	if err == nil {
		err = a.knownUser(r.Context(), target)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	ctx := r.Context()
	wasMember := false
	if kind == store.SanctionBan {
		_, merr := a.store.Member(ctx, key, target)
		wasMember = merr == nil
	}
	s := store.Sanction{Room: key, UserID: target, Kind: kind, Reason: req.Reason, By: actor(id), CreatedAt: store.Now()}
	if req.DurationSeconds > 0 {
		s.ExpiresAt = s.CreatedAt.Add(time.Duration(req.DurationSeconds) * time.Second)
	}
	if err := a.store.Sanction(ctx, s); err != nil {
		a.fail(w, r, fmt.Errorf("api: %s %q in %q: %w", verb, target, key, err))
		return
	}
	change := hub.RoomChange{Room: ra.room, Event: protocol.RoomMuted, User: target, By: actor(id), Reason: s.Reason, Until: s.ExpiresAt}
	if kind == store.SanctionBan {
		change.Event = protocol.RoomBanned
		// Tell first, then take them out: the frame reaches their
		// connections in the room while they are still in it.
		a.live.RoomChanged(ctx, change)
		a.live.RemovedFromRoom(ctx, key, target)
		if wasMember && a.webhooks.Wants(event.MemberLeft) {
			a.webhooks.Emit(event.MemberLeft, event.Member{Room: key, User: target, By: actor(id)})
		}
	} else {
		a.live.RoomRulesChanged(ctx, key)
		a.live.RoomChanged(ctx, change)
	}
	detail := map[string]any{}
	if s.Reason != "" {
		detail["reason"] = s.Reason
	}
	if !s.ExpiresAt.IsZero() {
		detail["expires_at"] = protocol.FormatTime(s.ExpiresAt)
	}
	action := audit.RoomMute
	if kind == store.SanctionBan {
		action = audit.RoomBan
	}
	a.audit.Record(ctx, who(id), action, key, target, detail)
	writeJSON(w, http.StatusOK, sanctionJSON(s))
}

// unsanction lifts a ban or a mute.
func (a *API) unsanction(w http.ResponseWriter, r *http.Request, id auth.Identity, kind store.SanctionKind) {
	verb := "un" + string(kind)
	ra, target, err := a.moderated(r, id, verb)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	ctx := r.Context()
	err = a.store.Unsanction(ctx, key, target, kind)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "%q is not %s in room %q", target, pastTense(string(kind)), key))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: %s %q in %q: %w", verb, target, key, err))
		return
	}
	change := hub.RoomChange{Room: ra.room, Event: protocol.RoomUnmuted, User: target, By: actor(id)}
	action := audit.RoomUnmute
	if kind == store.SanctionBan {
		change.Event, action = protocol.RoomUnbanned, audit.RoomUnban
	} else {
		a.live.RoomRulesChanged(ctx, key)
	}
	a.live.RoomChanged(ctx, change)
	a.audit.Record(ctx, who(id), action, key, target, nil)
	w.WriteHeader(http.StatusNoContent)
}

// listSanctions lists a room's bans or mutes in force, to its moderators.
func (a *API) listSanctions(w http.ResponseWriter, r *http.Request, id auth.Identity, kind store.SanctionKind) {
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !ra.canModerate() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only the owner or an admin of room %q may see who is %s", ra.room.Name, pastTense(string(kind))))
		return
	}
	all, err := a.store.Sanctions(r.Context(), ra.room.Name, "")
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: sanctions in %q: %w", ra.room.Name, err))
		return
	}
	out := SanctionsResponse{Room: ra.room.Name, Users: []SanctionJSON{}}
	for _, s := range all {
		if s.Kind == kind {
			out.Users = append(out.Users, sanctionJSON(s))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// banned reports, as an error for the caller, whether user is banned from
// the room key; nil when not.
func (a *API) banned(ctx context.Context, key, user string) error {
	bans, err := a.store.Sanctions(ctx, key, user)
	if err != nil {
		return fmt.Errorf("api: sanctions of %q in %q: %w", user, key, err)
	}
	for _, s := range bans {
		if s.Kind == store.SanctionBan {
			perr := hub.BanError(key, s)
			return errorf(http.StatusForbidden, perr.Code, "%s", perr.Message)
		}
	}
	return nil
}

// deleteRoom deletes a room with its history: its owner, server
// administrators and keys with the rooms scope.
func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ra, err := a.access(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	if ra.room.Kind == store.KindDirect {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "conversations cannot be deleted"))
		return
	}
	if !ra.isOwner() {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only the owner of room %q may delete it", key))
		return
	}
	ctx := r.Context()
	if err := a.store.DeleteRoom(ctx, key); err != nil {
		a.fail(w, r, fmt.Errorf("api: delete room %q: %w", key, err))
		return
	}
	a.live.RoomDeleted(ctx, key, actor(id))
	a.audit.Record(ctx, who(id), audit.RoomDelete, key, "", map[string]any{"last_seq": ra.room.LastSeq})
	w.WriteHeader(http.StatusNoContent)
}

// AuditJSON is an audit log entry as the API shows it.
type AuditJSON struct {
	ID        string         `json:"id"`
	At        string         `json:"at"`
	Actor     string         `json:"actor"`
	ActorName string         `json:"actor_name,omitempty"`
	Action    string         `json:"action"`
	Room      string         `json:"room,omitempty"`
	Target    string         `json:"target,omitempty"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// AuditResponse is a page of the audit log, newest first.
type AuditResponse struct {
	Entries []AuditJSON `json:"entries"`
}

// deleteMessage deletes a message of a room: the sender may delete their
// own, its moderators and keys with the rooms scope anyone's.
func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	msgID := r.PathValue("id")
	if msgID == "" || len(msgID) > 64 {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "not a valid message id"))
		return
	}
	ra, err := a.readable(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := ra.room.Name
	if ra.room.Archived {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "room %q is archived; its messages cannot change", key))
		return
	}
	ctx := r.Context()
	by := actor(id)
	ev, err := a.live.DeleteMessage(ctx, key, msgID, by, ra.canModerate())
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "room %q has no message %q", key, msgID))
		return
	case errors.Is(err, store.ErrForbidden):
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only its sender or a moderator of room %q may delete that message", key))
		return
	case err != nil:
		a.fail(w, r, fmt.Errorf("api: delete message %q in %q: %w", msgID, key, err))
		return
	}
	if ev.Message.Sender != by {
		a.audit.Record(ctx, who(id), audit.MessageDelete, key, msgID, map[string]any{"sender": ev.Message.Sender})
	}
	w.WriteHeader(http.StatusNoContent)
}
