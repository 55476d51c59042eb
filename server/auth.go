package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/transport/ws"
)

// authenticator turns request credentials into a ws.Principal: Parley's own
// access tokens (when accounts are on), an integrating app's tokens (when an
// algorithm is configured) and guests (when allowed).
type authenticator struct {
	cfg      config.Config
	store    store.Store
	issuer   *auth.Issuer           // nil when accounts are off
	external *auth.ExternalVerifier // nil when no algorithm is configured
}

// newAuthenticator takes the signing key (nil when accounts are off) and
// the external verifier (nil when external tokens are off) that checkFiles
// and prepare made.
func newAuthenticator(cfg config.Config, st store.Store, signingKey []byte, external *auth.ExternalVerifier) *authenticator {
	a := &authenticator{cfg: cfg, store: st, external: external}
	if signingKey != nil {
		a.issuer = auth.NewIssuer(signingKey, cfg.TokenTTL, "")
	}
	return a
}

// Request implements ws.Authenticator.
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
		if err != nil {
			return ws.Principal{}, err
		}
		return principal(id), nil
	}
	return ws.Principal{}, ws.ErrNoCredentials
}

// Token implements ws.Authenticator: an own access token whose session is
// still alive, else an external token.
func (a *authenticator) Token(ctx context.Context, token string) (ws.Principal, error) {
	id, err := a.identify(ctx, token)
	if err != nil {
		return ws.Principal{}, err
	}
	return principal(id), nil
}

// identify verifies a bearer token of either kind.
func (a *authenticator) identify(ctx context.Context, token string) (auth.Identity, error) {
	var ownErr error
	if a.issuer != nil {
		id, err := a.issuer.Verify(token)
		if err == nil {
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
		return a.external.Verify(token)
	}
	if ownErr != nil {
		return auth.Identity{}, ownErr
	}
	return auth.Identity{}, fmt.Errorf("no token kind is enabled: %w", auth.ErrInvalidToken)
}

func principal(id auth.Identity) ws.Principal {
	return ws.Principal{
		Identity: hub.Identity{
			User:      protocol.User{ID: id.UserID, Name: id.Name, Guest: id.Guest},
			Rooms:     id.Rooms,
			Admin:     id.Admin,
			SessionID: id.SessionID,
		},
		ExpiresAt: id.ExpiresAt,
	}
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
