package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/notify"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Limits of a notification's fields.
const (
	maxNotificationTitle = 200      // characters
	maxNotificationData  = 16 << 10 // bytes of JSON
	maxLink              = 2048     // bytes
)

type notificationRequest struct {
	Topic    string          `json:"topic"`
	User     string          `json:"user"`
	Everyone bool            `json:"everyone"`
	Title    string          `json:"title"`
	Body     string          `json:"body"`
	Data     json.RawMessage `json:"data"`
	Link     string          `json:"link"`
}

// NotificationCreated answers POST /notifications.
type NotificationCreated struct {
	ID         string `json:"id"`
	Recipients int    `json:"recipients"`
	TS         string `json:"ts"`
}

type readRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// ReadResponse answers POST /notifications/read.
type ReadResponse struct {
	Changed int `json:"changed"`
	Unread  int `json:"unread"`
}

// SubscriptionsResponse lists a user's subscriptions.
type SubscriptionsResponse struct {
	Subscriptions []string `json:"subscriptions"`
}

// publishNotification stores a notification once, with unread state for
// each recipient — the subscribers of a topic, one user, or everyone — and
// pushes it live to those connected. A notification that would reach
// nobody is refused, never stored.
func (a *API) publishNotification(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req notificationRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	n, err := a.checkNotification(req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	recipients, err := a.recipients(r, req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	n.ID, n.CreatedAt, n.CreatedBy = store.NewID(), store.Now(), id.KeyID
	if err := a.store.CreateNotification(r.Context(), n, recipients); err != nil {
		a.fail(w, r, fmt.Errorf("api: store notification for %d: %w", len(recipients), err))
		return
	}
	a.live.Notify(r.Context(), n, recipients)
	if a.webhooks.Wants(event.NotificationCreated) {
		a.webhooks.Emit(event.NotificationCreated, event.Notification{
			Notification: hub.NotificationFrame(n, false), Recipients: len(recipients)})
	}
	writeJSON(w, http.StatusCreated, NotificationCreated{ID: n.ID, Recipients: len(recipients), TS: protocol.FormatTime(n.CreatedAt)})
}

// checkNotification checks a notification's target and fields.
func (a *API) checkNotification(req notificationRequest) (store.Notification, error) {
	targets := 0
	for _, set := range []bool{req.Topic != "", req.User != "", req.Everyone} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give exactly one of topic, user and everyone")
	}
	if req.Topic != "" {
		if err := notify.CheckTopic(req.Topic); err != nil {
			return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "topic: %s", err)
		}
	}
	title := strings.TrimSpace(req.Title)
	if n := utf8.RuneCountInString(title); n == 0 || n > maxNotificationTitle || strings.IndexFunc(title, unicode.IsControl) >= 0 {
		return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"title must be 1 to %d characters without control characters", maxNotificationTitle)
	}
	if msg := protocol.HiddenRuneProblem("title", title); msg != "" {
		return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s", msg)
	}
	if n := utf8.RuneCountInString(req.Body); n > a.cfg.MaxMessageLength {
		return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeTooLong,
			"body has %d characters, the limit is %d", n, a.cfg.MaxMessageLength)
	}
	data := bytes.TrimSpace(req.Data)
	if bytes.Equal(data, []byte("null")) {
		data = nil
	}
	if len(data) > 0 && (data[0] != '{' || len(data) > maxNotificationData) {
		return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"data must be a JSON object of at most %d bytes", maxNotificationData)
	}
	if req.Link != "" {
		u, err := url.Parse(req.Link)
		if err != nil || len(req.Link) > maxLink || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid,
				"link must be an http or https URL of at most %d bytes", maxLink)
		}
	}
	var compact bytes.Buffer
	if len(data) > 0 {
		if err := json.Compact(&compact, data); err != nil {
			return store.Notification{}, errorf(http.StatusBadRequest, protocol.CodeInvalid, "data is not valid JSON")
		}
	}
	return store.Notification{Topic: req.Topic, Title: title, Body: req.Body, Data: compact.String(), Link: req.Link}, nil
}

// recipients resolves a notification's target to user ids.
func (a *API) recipients(r *http.Request, req notificationRequest) ([]string, error) {
	ctx := r.Context()
	switch {
	case req.Topic != "":
		ids, err := a.store.Subscribers(ctx, notify.Matching(req.Topic))
		if err != nil {
			return nil, fmt.Errorf("api: subscribers of %q: %w", req.Topic, err)
		}
		if len(ids) == 0 {
			return nil, errorf(http.StatusNotFound, protocol.CodeNotFound,
				"nobody subscribes to topic %q; nothing was stored", req.Topic)
		}
		return ids, nil
	case req.User != "":
		if strings.HasPrefix(req.User, auth.GuestIDPrefix) {
			return nil, errorf(http.StatusBadRequest, protocol.CodeInvalid, "guests cannot have notifications")
		}
		_, err := a.store.User(ctx, req.User)
		if errors.Is(err, store.ErrNotFound) {
			_, err = a.store.ExternalUser(ctx, req.User)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, protocol.CodeNotFound, "no user has the id %q; nothing was stored", req.User)
		}
		if err != nil {
			return nil, fmt.Errorf("api: user %q: %w", req.User, err)
		}
		return []string{req.User}, nil
	}
	ids, err := a.store.AllUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: all users: %w", err)
	}
	if len(ids) == 0 {
		return nil, errorf(http.StatusNotFound, protocol.CodeNotFound, "there are no users yet; nothing was stored")
	}
	return ids, nil
}

// listNotifications pages through the caller's notifications, newest
// first: ?before=ID, ?unread=true, ?limit=N (default 50).
func (a *API) listNotifications(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	q := r.URL.Query()
	if err := noEmptyParams(q, "before", "unread", "limit"); err != nil {
		a.fail(w, r, err)
		return
	}
	nq := store.NotificationQuery{Before: q.Get("before"), Limit: 50}
	if nq.Before != "" && !cursorID(nq.Before) {
		// A store that keeps text as UTF-8 (PostgreSQL) refuses bytes
		// such as NUL outright; no id has them, so say so here.
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "before must be the id of a notification"))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "limit must be 1 to %d", store.MaxLimit))
			return
		}
		nq.Limit = n
	}
	switch q.Get("unread") {
	case "", "false": // "" only when absent: noEmptyParams refused "?unread="
	case "true":
		nq.Unread = true
	default:
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "unread must be true or false"))
		return
	}
	ctx := r.Context()
	list, err := a.store.Notifications(ctx, id.UserID, nq)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: notifications of %q: %w", id.UserID, err))
		return
	}
	unread, err := a.store.UnreadNotifications(ctx, id.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: unread notifications of %q: %w", id.UserID, err))
		return
	}
	out := protocol.NotificationsReply{Notifications: make([]protocol.Notification, 0, len(list)), Unread: unread}
	for _, un := range list {
		out.Notifications = append(out.Notifications, hub.NotificationFrame(un.Notification, !un.ReadAt.IsZero()))
	}
	writeJSON(w, http.StatusOK, out)
}

// readNotifications marks some of the caller's notifications, or all,
// read, on every device: their connections are told.
func (a *API) readNotifications(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req readRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if (!req.All && len(req.IDs) == 0) || (req.All && len(req.IDs) > 0) || len(req.IDs) > store.MaxLimit {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give ids (1 to %d) or all, not both", store.MaxLimit))
		return
	}
	ctx := r.Context()
	changed, err := a.store.MarkNotificationsRead(ctx, id.UserID, req.IDs, req.All)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: mark notifications of %q read: %w", id.UserID, err))
		return
	}
	unread, err := a.store.UnreadNotifications(ctx, id.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: unread notifications of %q: %w", id.UserID, err))
		return
	}
	a.live.NotificationsRead(ctx, id.UserID, "", protocol.NotificationsReadBody{IDs: req.IDs, All: req.All, Unread: &unread})
	writeJSON(w, http.StatusOK, ReadResponse{Changed: changed, Unread: unread})
}

// listSubscriptions lists the caller's topic patterns.
func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	subs, err := a.store.Subscriptions(r.Context(), id.UserID)
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: subscriptions of %q: %w", id.UserID, err))
		return
	}
	if subs == nil {
		subs = []string{}
	}
	writeJSON(w, http.StatusOK, SubscriptionsResponse{Subscriptions: subs})
}

// putSubscription subscribes the caller to the pattern in the path.
func (a *API) putSubscription(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pattern := r.PathValue("pattern")
	if err := notify.CheckPattern(pattern); err != nil {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s", err))
		return
	}
	if err := a.store.Subscribe(r.Context(), id.UserID, pattern); err != nil {
		a.fail(w, r, fmt.Errorf("api: subscribe %q to %q: %w", id.UserID, pattern, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteSubscription ends the caller's subscription to the pattern.
func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pattern := r.PathValue("pattern")
	err := a.store.Unsubscribe(r.Context(), id.UserID, pattern)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "you do not subscribe to %q", pattern))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: unsubscribe %q from %q: %w", id.UserID, pattern, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cursorID says whether s can be an id that Parley made: letters and
// digits only (ids are 26 characters of base32), at most 64 of them.
func cursorID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
