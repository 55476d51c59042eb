package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// maxBatch is the most messages one POST /messages carries.
const maxBatch = 100

// maxClientID bounds a client id, as on the WebSocket.
const maxClientID = 64

// postRequest is one message a backend posts. As names the user it posts
// for; without it the message comes from hub.SystemUserID, shown as Name
// (the key's name when empty).
type postRequest struct {
	Room     string `json:"room"` // batches only; the path names it otherwise
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	As       string `json:"as"`
	Name     string `json:"name"`
}

type batchRequest struct {
	Messages []postRequest `json:"messages"`
}

// BatchResult is one message's outcome in a batch: an ack or an error.
type BatchResult struct {
	*protocol.AckBody
	Error *protocol.ErrorBody `json:"error,omitempty"`
}

// BatchResponse answers POST /messages, one result per message, in order.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
}

type privateRequest struct {
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	From     string `json:"from"`
	Name     string `json:"name"`
}

type noticeRequest struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// NoticeResponse answers POST /notices.
type NoticeResponse struct {
	Room string `json:"room,omitempty"`
	Sent bool   `json:"sent"`
}

// postMessage stores a message in a room for a backend, through the same
// durable path as a chat frame, and answers with what a chat's ack says.
func (a *API) postMessage(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req postRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Room != "" {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "the path names the room; leave room out of the body"))
		return
	}
	req.Room = r.PathValue("room")
	msg, err := a.newMessage(r, id, req, "")
	if err == nil {
		err = a.refuseArchived(r.Context(), msg.Room, "")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ev, dup, err := a.live.Post(r.Context(), msg)
	if err != nil {
		a.fail(w, r, postError(msg.Room, err))
		return
	}
	writeJSON(w, ackStatus(dup), ack(msg.Room, ev, dup))
}

// postBatch posts up to maxBatch messages, into any rooms, in order. Every
// message is checked before any is stored; then each succeeds or fails on
// its own (a missing room, say), and the answer gives one result each.
func (a *API) postBatch(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req batchRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if n := len(req.Messages); n == 0 || n > maxBatch {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "messages must hold 1 to %d messages, not %d", maxBatch, n))
		return
	}
	msgs := make([]store.NewMessage, len(req.Messages))
	for i, m := range req.Messages {
		msg, err := a.newMessage(r, id, m, fmt.Sprintf("messages[%d].", i))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		msgs[i] = msg
	}
	checked := make(map[string]bool)
	for i, m := range msgs {
		if checked[m.Room] {
			continue
		}
		checked[m.Room] = true
		if err := a.refuseArchived(r.Context(), m.Room, fmt.Sprintf("messages[%d]: ", i)); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	out := BatchResponse{Results: make([]BatchResult, len(msgs))}
	for i, p := range a.live.PostBatch(r.Context(), msgs) {
		if p.Err != nil {
			out.Results[i].Error = a.errorBody(r, postError(msgs[i].Room, p.Err))
			continue
		}
		body := ack(msgs[i].Room, p.Event, p.Dup)
		out.Results[i].AckBody = &body
	}
	writeJSON(w, http.StatusOK, out)
}

// postPrivate sends a private message to a user from another user, or from
// the application (hub.SystemUserID), into their conversation.
func (a *API) postPrivate(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req privateRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	to, err := pathUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.checkText(req.Text, req.ClientID, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	from, err := a.sender(r, id, req.From, req.Name, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if from.ID == to {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "a user cannot send a private message to themselves"))
		return
	}
	ev, dup, err := a.live.PostPrivate(r.Context(), from, to, req.Text, req.ClientID)
	if err != nil {
		a.fail(w, r, postError(store.DirectRoomName(from.ID, to), err))
		return
	}
	writeJSON(w, ackStatus(dup), ack(ev.Room, ev, dup))
}

// postNotice sends a system notice, never stored, to everyone connected to
// one room, or to everyone connected at all.
func (a *API) postNotice(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	var req noticeRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.checkText(req.Text, "", ""); err != nil {
		a.fail(w, r, err)
		return
	}
	room := ""
	if req.Room != "" {
		key, perr := protocol.NormaliseRoom(req.Room, a.cfg.MaxRoomNameLength)
		if perr != nil {
			a.fail(w, r, fromProtocol(perr))
			return
		}
		if _, err := a.store.Room(r.Context(), key); err != nil {
			a.fail(w, r, postError(key, err))
			return
		}
		room = key
	}
	if err := a.live.Notice(r.Context(), room, req.Text); err != nil {
		a.fail(w, r, fmt.Errorf("api: notice to %q: %w", room, err))
		return
	}
	writeJSON(w, http.StatusAccepted, NoticeResponse{Room: room, Sent: true})
}

// newMessage checks one posted message and builds what the store takes;
// field prefixes the field names in errors ("messages[3]." in a batch).
func (a *API) newMessage(r *http.Request, id auth.Identity, req postRequest, field string) (store.NewMessage, error) {
	key, perr := protocol.NormaliseRoom(req.Room, a.cfg.MaxRoomNameLength)
	if perr != nil {
		return store.NewMessage{}, errorf(http.StatusBadRequest, perr.Code, "%sroom: %s", field, perr.Message)
	}
	if err := a.checkText(req.Text, req.ClientID, field); err != nil {
		return store.NewMessage{}, err
	}
	from, err := a.sender(r, id, req.As, req.Name, field)
	if err != nil {
		return store.NewMessage{}, err
	}
	return store.NewMessage{Room: key, Sender: from.ID, SenderName: from.Name, ClientID: req.ClientID, Text: req.Text}, nil
}

// checkText applies the WebSocket's rules to a text and a client id.
func (a *API) checkText(text, clientID, field string) error {
	if perr := protocol.ValidText(text, a.cfg.MaxMessageLength); perr != nil {
		return errorf(http.StatusBadRequest, perr.Code, "%s%s", field, perr.Message)
	}
	if len(clientID) > maxClientID {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "%sclient_id is longer than %d bytes", field, maxClientID)
	}
	return nil
}

// sender is who a posted message comes from: the user as names (an account
// or an external user who has signed in; never a guest), or the
// application itself, shown as name or else the key's name.
func (a *API) sender(r *http.Request, id auth.Identity, as, name, field string) (protocol.User, error) {
	if as == "" {
		name = strings.TrimSpace(name)
		if name == "" {
			name = id.Name
		}
		if n := utf8.RuneCountInString(name); n == 0 || n > auth.MaxDisplayNameLen || strings.IndexFunc(name, unicode.IsControl) >= 0 {
			return protocol.User{}, errorf(http.StatusBadRequest, protocol.CodeInvalid,
				"%sname must be 1 to %d characters without control characters", field, auth.MaxDisplayNameLen)
		}
		if msg := protocol.HiddenRuneProblem("name", name); msg != "" {
			return protocol.User{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s%s", field, msg)
		}
		return protocol.User{ID: hub.SystemUserID, Name: name}, nil
	}
	if name != "" {
		return protocol.User{}, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"%sname is for messages from the application; a user's message shows the user's own name", field)
	}
	ctx := r.Context()
	u, err := a.store.User(ctx, as)
	if err == nil {
		return protocol.User{ID: u.ID, Name: u.DisplayName}, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		var ext store.ExternalUser
		if ext, err = a.store.ExternalUser(ctx, as); err == nil {
			return protocol.User{ID: ext.ID, Name: ext.Name}, nil
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return protocol.User{}, errorf(http.StatusNotFound, protocol.CodeNotFound,
			"%sas: no account or signed-in user has the id %q", field, as)
	}
	return protocol.User{}, fmt.Errorf("api: sender %q: %w", as, err)
}

// postError maps a posting failure: a room that does not exist, a
// protocol refusal (a missing recipient), or a store fault.
func postError(room string, err error) error {
	var perr *protocol.Error
	switch {
	case errors.As(err, &perr):
		status := http.StatusBadRequest
		switch perr.Code {
		case protocol.CodeNotFound:
			status = http.StatusNotFound
		case protocol.CodeUnavailable:
			status = http.StatusServiceUnavailable
		}
		return errorf(status, perr.Code, "%s", perr.Message)
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, protocol.CodeNotFound, "room %q does not exist; create it first", room)
	}
	return fmt.Errorf("api: post to %q: %w", room, err)
}

// ack is the answer to a post: what a chat frame's ack carries.
func ack(room string, ev store.Event, dup bool) protocol.AckBody {
	return protocol.AckBody{Room: room, MessageID: ev.Message.ID, Seq: ev.Seq,
		TS: protocol.FormatTime(ev.Message.CreatedAt), Duplicate: dup}
}

// ackStatus is 201 for a new message and 200 for a repeat of one stored
// before (same client id), which stores nothing.
func ackStatus(dup bool) int {
	if dup {
		return http.StatusOK
	}
	return http.StatusCreated
}

// refuseArchived fails a post into an archived room before anything is
// stored. A room that does not exist is left to the post to report.
func (a *API) refuseArchived(ctx context.Context, key, prefix string) error {
	room, err := a.store.Room(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("api: room %q: %w", key, err)
	case room.Archived:
		return errorf(http.StatusForbidden, protocol.CodeForbidden, "%sroom %q is archived; it takes no new messages", prefix, key)
	}
	return nil
}
