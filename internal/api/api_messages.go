package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// historyQuery reads before, after and limit with the WebSocket history
// frame's rules: limit 1 to 1000 (absent: the server's page size), before
// and after 0 or more, and after pages forward, oldest first. Giving both is
// an error rather than one silently winning.
func (a *API) historyQuery(q url.Values) (store.HistoryQuery, error) {
	num := func(name string) (int64, bool, error) {
		if !q.Has(name) {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(q.Get(name), 10, 64)
		if err != nil || n < 0 {
			return 0, false, errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s must be a whole number, 0 or more", name)
		}
		return n, true, nil
	}
	before, hasBefore, err := num("before")
	if err != nil {
		return store.HistoryQuery{}, err
	}
	after, hasAfter, err := num("after")
	if err != nil {
		return store.HistoryQuery{}, err
	}
	limit, hasLimit, err := num("limit")
	if err != nil {
		return store.HistoryQuery{}, err
	}
	if hasLimit && (limit < 1 || limit > config.MaxHistoryLimit) {
		return store.HistoryQuery{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "limit must be 1 to %d", config.MaxHistoryLimit)
	}
	if hasBefore && hasAfter {
		return store.HistoryQuery{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give before or after, not both")
	}
	hq := store.HistoryQuery{Before: before, Limit: int(limit)}
	if !hasLimit {
		hq.Limit = a.cfg.HistoryLimit
	}
	if hasAfter {
		hq.After, hq.Forward = after, true
	}
	return hq, nil
}

// history answers with a page of a room's or a conversation's messages
// (those of a conversation carry their recipient in to).
func (a *API) history(w http.ResponseWriter, r *http.Request, key string) {
	hq, err := a.historyQuery(r.URL.Query())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	msgs, err := a.store.History(r.Context(), key, hq)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: history of %q: %w", key, err))
		return
	}
	reply := protocol.HistoryReply{Room: key, Messages: make([]protocol.MessageBody, 0, len(msgs))}
	for _, m := range msgs {
		reply.Messages = append(reply.Messages, hub.MessageBody(m))
	}
	writeJSON(w, http.StatusOK, reply)
}

// roomMessages pages through a room's history with the WebSocket history
// frame's authorisation: a public room for anyone the token allows, a
// private one for members.
func (a *API) roomMessages(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ra, err := a.readable(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.history(w, r, ra.room.Name)
}

// conversationMessages pages through the caller's direct conversation with
// another user. One that has not started yet is empty, not missing.
func (a *API) conversationMessages(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	peer, err := targetUser(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if peer == id.UserID {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "there is no conversation with yourself"))
		return
	}
	key := store.DirectRoomName(id.UserID, peer)
	if _, err := a.historyQuery(r.URL.Query()); err != nil {
		a.fail(w, r, err)
		return
	}
	// The key holds the caller's id, but ids may contain '+', so two pairs
	// of users can share a key: membership decides.
	_, err = a.store.Member(r.Context(), key, id.UserID)
	if errors.Is(err, store.ErrNotFound) {
		if _, rerr := a.store.Room(r.Context(), key); errors.Is(rerr, store.ErrNotFound) {
			// Not started yet: an empty page, not an error.
			writeJSON(w, http.StatusOK, protocol.HistoryReply{Room: key, Messages: []protocol.MessageBody{}})
			return
		}
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "not a party to this conversation"))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: membership of %q in %q: %w", id.UserID, key, err))
		return
	}
	a.history(w, r, key)
}

// unread lists the caller's unread state per room and conversation, in the
// WebSocket unread frame's shape.
func (a *API) unread(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	us, err := a.store.Unread(r.Context(), id.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: unread of %q: %w", id.UserID, err))
		return
	}
	out := protocol.UnreadBody{Rooms: make([]protocol.UnreadRoom, 0, len(us))}
	for _, u := range us {
		direct := u.Kind == store.KindDirect
		if !direct && !a.allowed(id, u.Room) {
			continue
		}
		out.Rooms = append(out.Rooms, protocol.UnreadRoom{
			Room: u.Room, Direct: direct, Unread: u.Count, LastSeq: u.LastSeq, ReadSeq: u.ReadSeq,
		})
	}
	writeJSON(w, http.StatusOK, out)
}
