package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
)

// OnlineResponse lists who is connected to a room.
type OnlineResponse struct {
	Room  string          `json:"room"`
	Users []protocol.User `json:"users"`
}

// ConnectionsResponse says whether a user is connected.
type ConnectionsResponse struct {
	User        string `json:"user"`
	Online      bool   `json:"online"`
	Connections int    `json:"connections"`
}

type disconnectRequest struct {
	Reason string `json:"reason"`
}

// maxReason is the longest close reason, in bytes: a WebSocket close frame
// holds 123 bytes of reason.
const maxReason = 120

// roomOnline lists the users connected to a room the caller may read:
// each once, however many connections they have, as joined.members does.
func (a *API) roomOnline(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ra, err := a.readable(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OnlineResponse{Room: ra.room.Name, Users: a.live.RoomOnline(ra.room.Name)})
}

// connections says whether the user with the id in the path is connected.
func (a *API) connections(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	uid, err := pathUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n := a.live.Online(uid)
	writeJSON(w, http.StatusOK, ConnectionsResponse{User: uid, Online: n > 0, Connections: n})
}

// disconnect closes every connection of a user with close code 4003, which
// tells clients not to reconnect on their own. It does not sign the user
// out: a token they still hold works again if they reconnect.
func (a *API) disconnect(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	uid, err := pathUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req disconnectRequest
	if err := decode(w, r, &req, true); err != nil {
		a.fail(w, r, err)
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = "disconnected by the application"
	}
	if len(reason) > maxReason || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"reason must be at most %d bytes without control characters", maxReason))
		return
	}
	if err := a.live.Disconnect(r.Context(), uid, reason); err != nil {
		a.fail(w, r, fmt.Errorf("api: disconnect %q: %w", uid, err))
		return
	}
	a.log.Info("user disconnected", "user", uid, "by", callerName(id), "reason", reason)
	w.WriteHeader(http.StatusNoContent)
}

// pathUser is the user id in the path, checked as the WebSocket checks
// the recipient of a private message.
func pathUser(r *http.Request) (string, error) {
	uid := r.PathValue("user")
	if uid == "" || len(uid) > maxUserID || !utf8.ValidString(uid) {
		return "", errorf(http.StatusBadRequest, protocol.CodeInvalid, "the user id in the path is not valid")
	}
	return uid, nil
}
