package ws

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/hub"
)

// ErrNoCredentials is returned by Authenticator.Request when the upgrade
// request carries no credentials at all; the server then waits for an auth
// frame, which is how browsers authenticate.
var ErrNoCredentials = errors.New("ws: no credentials in request")

// ErrUnavailable is wrapped by an Authenticator that could not check the
// credentials (its store did not answer). The request is then refused with
// 503 rather than 401, so clients retry instead of signing in again.
var ErrUnavailable = errors.New("ws: authentication unavailable")

// Principal is an authenticated connection owner.
type Principal struct {
	hub.Identity
	// ExpiresAt is when the credentials stop being valid; zero means never
	// (guests). The connection is closed with 4002 then unless the client
	// sends a fresh token in an auth frame first.
	ExpiresAt time.Time
	// GuestToken, for a guest, is sent in the welcome frame so the client
	// can come back as the same guest.
	GuestToken string
}

// Authenticator establishes who opens a connection. It is implemented by the
// server package over internal/auth, so the transport depends on no token
// format.
type Authenticator interface {
	// Request authenticates from the upgrade request itself: an
	// Authorization bearer header, an access_token query parameter or, when
	// guests are allowed, a name parameter. It returns ErrNoCredentials when
	// none is present.
	Request(ctx context.Context, r *http.Request) (Principal, error)
	// Token authenticates the token of an auth frame.
	Token(ctx context.Context, token string) (Principal, error)
}
