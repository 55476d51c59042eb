package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/transport/ws"
)

// authenticator turns request credentials into a ws.Principal: Parley's own
// access tokens (when accounts are on), an integrating app's tokens (when an
// algorithm is configured) and guests and their guest tokens (when allowed).
type authenticator struct {
	cfg      config.Config
	store    store.Store
	log      *slog.Logger
	issuer   *auth.Issuer           // nil when neither accounts nor guests are on
	external *auth.ExternalVerifier // nil when no algorithm is configured

	// seen holds the external users this process has recorded in the
	// store (see seeExternal), with the name recorded.
	seenMu sync.Mutex
	seen   map[string]string
}

// seenLimit bounds the external users remembered as recorded; past it the
// memory starts over, which costs one store write per user again.
const seenLimit = 100_000

// newAuthenticator takes the signing key (nil when neither accounts nor
// guests are on) and the external verifier (nil when external tokens are
// off) that checkFiles and prepare made.
func newAuthenticator(cfg config.Config, st store.Store, log *slog.Logger, signingKey []byte, external *auth.ExternalVerifier) *authenticator {
	a := &authenticator{cfg: cfg, store: st, log: log, external: external, seen: make(map[string]string)}
	if signingKey != nil {
		a.issuer = auth.NewIssuer(signingKey, cfg.TokenTTL, "")
	}
	return a
}

// Request implements ws.Authenticator. A refusal's error reads as a
// sentence for the client (it goes out in the 401's body), unless it wraps
// ws.ErrUnavailable.
func (a *authenticator) Request(ctx context.Context, r *http.Request) (ws.Principal, error) {
	if token := bearer(r); token != "" {
		return a.Token(ctx, token)
	}
	q := r.URL.Query()
	if token := q.Get("access_token"); token != "" {
		return a.Token(ctx, token)
	}
	if q.Has("name") || q.Has("guest") {
		if !a.cfg.Guests {
			return ws.Principal{}, errors.New("guests are not allowed on this server; sign in")
		}
		id, err := auth.GuestIdentity(q.Get("name"))
		var re *auth.RuleError
		if errors.As(err, &re) {
			return ws.Principal{}, errors.New(re.Msg)
		}
		if err != nil {
			return ws.Principal{}, fmt.Errorf("server: new guest: %w: %w", ws.ErrUnavailable, err)
		}
		return a.principal(id)
	}
	return ws.Principal{}, ws.ErrNoCredentials
}

// Token implements ws.Authenticator: an own access token whose session is
// still alive, a guest token, else an external token.
func (a *authenticator) Token(ctx context.Context, token string) (ws.Principal, error) {
	id, err := a.identify(ctx, token)
	switch {
	case errors.Is(err, ws.ErrUnavailable):
		return ws.Principal{}, err
	case errors.Is(err, auth.ErrTokenExpired):
		return ws.Principal{}, errors.New("the token expired; get a fresh one")
	case err != nil:
		return ws.Principal{}, errors.New("the token is not valid here, or its session was signed out")
	}
	return a.principal(id)
}

// identify verifies a bearer token of any kind: an account's access token
// (its session must still exist), a guest token, an external token.
func (a *authenticator) identify(ctx context.Context, token string) (auth.Identity, error) {
	var ownErr error
	if a.issuer != nil {
		id, err := a.issuer.Verify(token)
		switch {
		case err == nil && id.Guest:
			if !a.cfg.Guests {
				return auth.Identity{}, fmt.Errorf("a guest token, and guests are off: %w", auth.ErrInvalidToken)
			}
			return id, nil
		case err == nil && !a.cfg.Accounts:
			return auth.Identity{}, fmt.Errorf("an account token, and accounts are off: %w", auth.ErrInvalidToken)
		case err == nil:
			if _, err := a.store.SessionByID(ctx, id.SessionID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return auth.Identity{}, fmt.Errorf("the session was signed out: %w", auth.ErrInvalidToken)
				}
				return auth.Identity{}, fmt.Errorf("server: check session: %w: %w", ws.ErrUnavailable, err)
			}
			return id, nil
		}
		ownErr = err
		if errors.Is(err, auth.ErrTokenExpired) {
			return auth.Identity{}, err
		}
	}
	if a.external != nil {
		id, err := a.external.Verify(token)
		if err == nil {
			a.seeExternal(ctx, id)
		}
		return id, err
	}
	if ownErr != nil {
		return auth.Identity{}, ownErr
	}
	return auth.Identity{}, fmt.Errorf("no token kind is enabled: %w", auth.ErrInvalidToken)
}

// seeExternal records an external user in the store the first time this
// process sees them, or when their name changed, so that other users can
// address them (a private message needs a recipient the server knows). A
// store failure is logged, not fatal: the sign-in itself needs no write.
func (a *authenticator) seeExternal(ctx context.Context, id auth.Identity) {
	a.seenMu.Lock()
	name, ok := a.seen[id.UserID]
	a.seenMu.Unlock()
	if ok && name == id.Name {
		return
	}
	if err := a.store.SeeExternalUser(ctx, id.UserID, id.Name); err != nil {
		a.log.Warn("recording an external user", "user", id.UserID, "err", err)
		return
	}
	a.seenMu.Lock()
	if len(a.seen) >= seenLimit {
		clear(a.seen)
	}
	a.seen[id.UserID] = id.Name
	a.seenMu.Unlock()
}

// guestTokenTTL is how long a guest token brings its guest back: as long
// as a device stays signed in with a refresh token. Each connection gets a
// fresh one, so a guest who keeps coming back keeps their identity.
func (a *authenticator) guestTokenTTL() time.Duration { return a.cfg.RefreshTTL }

// principal is the connection owner id authenticates; a guest gets a fresh
// guest token to come back with.
func (a *authenticator) principal(id auth.Identity) (ws.Principal, error) {
	p := ws.Principal{
		Identity: hub.Identity{
			User:      protocol.User{ID: id.UserID, Name: id.Name, Guest: id.Guest},
			Rooms:     id.Rooms,
			Admin:     id.Admin,
			SessionID: id.SessionID,
		},
		ExpiresAt: id.ExpiresAt,
	}
	if id.Guest {
		tok, err := a.issuer.IssueGuest(id, a.guestTokenTTL())
		if err != nil {
			return ws.Principal{}, fmt.Errorf("server: guest token: %w: %w", ws.ErrUnavailable, err)
		}
		p.GuestToken = tok
	}
	return p, nil
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
