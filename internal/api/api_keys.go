package api

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// keyTouchEvery is how often a key's last-used time is written: at most
// once a minute per key, so that a busy backend does not add a write to
// every request.
const keyTouchEvery = time.Minute

// keyTouches remembers when each key's use was last written.
type keyTouches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether key id's use should be written now, and if so counts
// it as written.
func (t *keyTouches) due(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = make(map[string]time.Time)
	}
	if now.Sub(t.last[id]) < keyTouchEvery {
		return false
	}
	if len(t.last) >= 10_000 {
		clear(t.last)
	}
	t.last[id] = now
	return true
}

// keyCaller authenticates an API key: its id names the stored key, whose
// hash the key must match (compared in constant time), and it must not be
// revoked; then p must take keys with a scope the key has.
func (a *API) keyCaller(r *http.Request, key string, p policy) (auth.Identity, error) {
	refused := errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "the API key is not valid")
	id, ok := auth.ParseAPIKey(key)
	if !ok {
		return auth.Identity{}, refused
	}
	ctx := r.Context()
	k, err := a.store.APIKey(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.Identity{}, refused
	case err != nil:
		return auth.Identity{}, fmt.Errorf("api: API key %q: %w", id, err)
	case !auth.APIKeyMatches(key, k.Hash):
		return auth.Identity{}, refused
	case !k.RevokedAt.IsZero():
		return auth.Identity{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "the API key was revoked")
	case p.scope == "":
		return auth.Identity{}, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"API keys cannot use this endpoint; it acts as a signed-in user")
	case !auth.HasScope(k.Scopes, p.scope):
		return auth.Identity{}, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"the API key lacks the %q scope", p.scope)
	}
	if now := a.now(); a.touches.due(k.ID, now) {
		if err := a.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			a.log.Warn("recording an API key's use", "key", k.ID, "err", err)
		}
	}
	// A key acts for the application, with an administrator's powers in
	// what its scopes allow.
	return auth.Identity{KeyID: k.ID, Name: k.Name, Scopes: k.Scopes, Admin: true}, nil
}

// KeyJSON is an API key as the admin endpoints show it. Key, the secret
// itself, is only in the answer that creates it.
type KeyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	Key        string   `json:"key,omitempty"`
	CreatedBy  string   `json:"created_by,omitempty"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
	RevokedAt  string   `json:"revoked_at,omitempty"`
}

// KeysResponse lists API keys.
type KeysResponse struct {
	Keys []KeyJSON `json:"keys"`
}

type createKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// NewKeyJSON returns k as the admin endpoints (and parley apikey --json)
// show it: without the key itself, which only the answer that creates it
// holds.
func NewKeyJSON(k store.APIKey) KeyJSON {
	j := KeyJSON{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedBy: k.CreatedBy, CreatedAt: protocol.FormatTime(k.CreatedAt)}
	if j.Scopes == nil {
		j.Scopes = []string{}
	}
	if !k.LastUsedAt.IsZero() {
		j.LastUsedAt = protocol.FormatTime(k.LastUsedAt)
	}
	if !k.RevokedAt.IsZero() {
		j.RevokedAt = protocol.FormatTime(k.RevokedAt)
	}
	return j
}

// createKey makes a key and answers with the key itself, which is never
// shown again.
func (a *API) createKey(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req createKeyRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	key, k, err := auth.CreateAPIKey(r.Context(), a.store, req.Name, req.Scopes, id.UserID)
	if err != nil {
		a.fail(w, r, ruleError(err))
		return
	}
	a.log.Info("API key created", "key", k.ID, "name", k.Name, "scopes", k.Scopes, "by", callerName(id))
	out := NewKeyJSON(k)
	out.Key = key
	w.Header().Set("Location", Prefix+"/admin/keys/"+k.ID)
	writeJSON(w, http.StatusCreated, out)
}

// listKeys lists every key, revoked ones included, without their secrets.
func (a *API) listKeys(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	keys, err := a.store.APIKeys(r.Context())
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: list API keys: %w", err))
		return
	}
	out := KeysResponse{Keys: make([]KeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, NewKeyJSON(k))
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeKey stops a key working at once.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	keyID := r.PathValue("id")
	err := a.store.RevokeAPIKey(r.Context(), keyID)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "there is no API key %q", keyID))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: revoke API key %q: %w", keyID, err))
		return
	}
	a.log.Info("API key revoked", "key", keyID, "by", callerName(id))
	w.WriteHeader(http.StatusNoContent)
}

// callerName says who made a request, for logs: a user's id or a key's.
func callerName(id auth.Identity) string {
	if id.KeyID != "" {
		return "key " + id.KeyID
	}
	return id.UserID
}
