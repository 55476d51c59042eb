package api_test

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestPublicConfig: anyone, without a token, learns which ways in the
// server offers, and nothing else.
func TestPublicConfig(t *testing.T) {
	both := testutil.StartServer(t, nil)
	runScenarios(t, both, []scenario{
		{name: "accounts and guests", method: "GET", path: "/api/v1/config",
			want: http.StatusOK, contains: []string{`{"accounts":true,"guests":true}`}},
	})
	closed := testutil.StartServer(t, func(c *config.Config) { c.Guests = false })
	runScenarios(t, closed, []scenario{
		{name: "accounts only", method: "GET", path: "/api/v1/config",
			want: http.StatusOK, contains: []string{`{"accounts":true,"guests":false}`}},
	})
}
