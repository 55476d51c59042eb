package testutil

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/config"
)

// ExternalSecret is the HS256 secret test servers trust for tokens "issued
// by the integrating app's backend" (see docs/AUTH.md).
const ExternalSecret = "parley-test-secret-0123456789abcdef-0123456789"

// ExternalAudience is the audience those test tokens carry.
const ExternalAudience = "parley-tests"

// WithExternalTokens configures a test server to accept ExternalToken tokens.
func WithExternalTokens(c *config.Config) {
	c.JWTAlgorithm = "HS256"
	c.JWTSecret = ExternalSecret
	c.JWTAudience = ExternalAudience
}

// TokenClaims describe an external test token.
type TokenClaims struct {
	Sub   string
	Name  string
	Rooms []string      // nil: no rooms claim
	TTL   time.Duration // default 1h; negative makes an expired token
}

// ExternalToken mints an HS256 token as an integrating app's backend would.
func ExternalToken(tb testing.TB, c TokenClaims) string {
	tb.Helper()
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	claims := jwt.MapClaims{
		"sub": c.Sub,
		"aud": ExternalAudience,
		"exp": time.Now().Add(c.TTL).Unix(),
		"iat": time.Now().Unix(),
	}
	if c.Name != "" {
		claims["name"] = c.Name
	}
	if c.Rooms != nil {
		claims["rooms"] = c.Rooms
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(ExternalSecret))
	if err != nil {
		tb.Fatalf("sign token: %v", err)
	}
	return s
}

// Bearer returns an Authorization header carrying token.
func Bearer(token string) http.Header {
	return http.Header{"Authorization": []string{"Bearer " + token}}
}

// DialToken connects to path with token in the Authorization header and
// reads the welcome.
func (ts *TestServer) DialToken(tb testing.TB, path, token string) *Client {
	tb.Helper()
	c, _, err := ts.DialWith(tb, path, DialOptions{Header: Bearer(token)})
	if err != nil {
		tb.Fatalf("dial %s with a token: %v", path, err)
	}
	c.Welcome()
	return c
}

// DialAgain opens another connection of the guest c is (by the guest token
// of c's welcome) to path, and reads its welcome.
func (ts *TestServer) DialAgain(tb testing.TB, path string, c *Client) *Client {
	tb.Helper()
	if c.Welcomed.GuestToken == "" {
		tb.Fatalf("DialAgain: the first connection's welcome had no guest token (read it with Welcome first)")
	}
	return ts.DialToken(tb, path, c.Welcomed.GuestToken)
}
