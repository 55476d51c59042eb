package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/event"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Webhooks is what the API needs of the webhook service: it hears events,
// and reads the endpoints again when they change.
type Webhooks interface {
	event.Sink
	Reload(ctx context.Context) error
}

// noWebhooks is Webhooks for an API without the service.
type noWebhooks struct{ event.None }

func (noWebhooks) Reload(context.Context) error { return nil }

// WebhookJSON is an endpoint as the admin endpoints show it; Secret is
// only in the answer that creates it.
type WebhookJSON struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"created_at"`
}

// WebhooksResponse lists endpoints.
type WebhooksResponse struct {
	Webhooks []WebhookJSON `json:"webhooks"`
}

type createWebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

// Limits of an endpoint's fields.
const (
	maxWebhookURL = 2048
	minSecret     = 16
	maxSecret     = 256
)

func webhookJSON(w store.Webhook) WebhookJSON {
	return WebhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: protocol.FormatTime(w.CreatedAt)}
}

// createWebhook configures an endpoint; the answer carries its signing
// secret, which is never shown again.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req createWebhookRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.checkWebhookURL(req.URL); err != nil {
		a.fail(w, r, err)
		return
	}
	events := req.Events
	if len(events) == 0 {
		events = []string{"*"}
	}
	for i, e := range events {
		if e != "*" && !slices.Contains(event.Types, e) {
			a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
				"events[%d]: %q is not an event; the events are %s, or \"*\" for all", i, e, strings.Join(event.Types, ", ")))
			return
		}
	}
	secret := req.Secret
	if secret == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			a.fail(w, r, err)
			return
		}
		secret = hex.EncodeToString(b[:])
	} else if len(secret) < minSecret || len(secret) > maxSecret {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"secret must be %d to %d bytes (or left out for one made for you)", minSecret, maxSecret))
		return
	}
	hook := store.Webhook{ID: store.NewID(), URL: req.URL, Secret: secret, Events: events, CreatedBy: id.UserID, CreatedAt: store.Now()}
	ctx := r.Context()
	if err := a.store.CreateWebhook(ctx, hook); err != nil {
		a.fail(w, r, fmt.Errorf("api: create webhook: %w", err))
		return
	}
	if err := a.webhooks.Reload(ctx); err != nil {
		a.log.Warn("reloading webhook endpoints", "err", err)
	}
	a.log.Info("webhook created", "webhook", hook.ID, "url", hook.URL, "events", events, "by", callerName(id))
	out := webhookJSON(hook)
	out.Secret = secret
	w.Header().Set("Location", Prefix+"/admin/webhooks/"+hook.ID)
	writeJSON(w, http.StatusCreated, out)
}

// checkWebhookURL refuses what cannot be an endpoint: anything but an
// absolute http(s) URL, and the server itself (its events would come back
// to it, a loop at best).
func (a *API) checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxWebhookURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "url must be an http or https URL of at most %d bytes", maxWebhookURL)
	}
	if a.isSelf(u) {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "url points at this server itself")
	}
	return nil
}

// isSelf reports whether u names the server's own listener: the same port
// on the host it listens on, on localhost, or on any address of the
// machine when it listens on all of them.
func (a *API) isSelf(u *url.URL) bool {
	host, port, err := net.SplitHostPort(a.listen())
	if err != nil {
		return false
	}
	target := u.Port()
	if target == "" {
		target = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if target != port {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.EqualFold(h, host) {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified() || host == "" || net.ParseIP(host).IsUnspecified())
}

// listWebhooks lists the endpoints, without their secrets.
func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	hooks, err := a.store.Webhooks(r.Context())
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: list webhooks: %w", err))
		return
	}
	out := WebhooksResponse{Webhooks: make([]WebhookJSON, 0, len(hooks))}
	for _, h := range hooks {
		out.Webhooks = append(out.Webhooks, webhookJSON(h))
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteWebhook removes an endpoint and the deliveries still waiting for
// it.
func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	hookID := r.PathValue("id")
	ctx := r.Context()
	err := a.store.DeleteWebhook(ctx, hookID)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "there is no webhook %q", hookID))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: delete webhook %q: %w", hookID, err))
		return
	}
	if err := a.webhooks.Reload(ctx); err != nil {
		a.log.Warn("reloading webhook endpoints", "err", err)
	}
	a.log.Info("webhook deleted", "webhook", hookID, "by", callerName(id))
	w.WriteHeader(http.StatusNoContent)
}
