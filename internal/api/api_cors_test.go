package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// cors sends one request with an Origin header (and any other headers) and
// returns the status and response headers.
func cors(t *testing.T, ts *testutil.TestServer, method, path, origin string, header map[string]string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestCORS: a page of an origin in --allowed-origins may call the API from
// the browser (its preflight answered, its answers readable); a page of
// any other origin may not; no answer allows credentials or every origin.
func TestCORS(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	login := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

	status, h := cors(t, ts, "OPTIONS", "/api/v1/auth/login", "https://app.example.com", login)
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || h.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight from an allowed origin = %d %v", status, h)
	}
	status, h = cors(t, ts, "OPTIONS", "/api/v1/rooms/lobby/members/u_1", "https://app.example.com",
		map[string]string{"Access-Control-Request-Method": "DELETE"})
	if status != http.StatusNoContent || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Fatalf("preflight for a DELETE = %d %v", status, h)
	}

	status, h = cors(t, ts, "OPTIONS", "/api/v1/auth/login", "https://evil.example.net", login)
	if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a foreign origin = %d %v, want 403 without CORS headers", status, h)
	}
	status, h = cors(t, ts, "OPTIONS", "/api/v1/auth/login", "https://app.example.com",
		map[string]string{"Access-Control-Request-Method": "TRACE"})
	if status != http.StatusMethodNotAllowed {
		t.Fatalf("preflight for TRACE = %d %v", status, h)
	}

	// The request itself: its answer names the origin, for the browser
	// to let the page read it, and varies by Origin for caches.
	status, h = cors(t, ts, "GET", "/api/v1/me", "https://app.example.com", nil)
	if status != http.StatusUnauthorized || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Fatalf("a request from an allowed origin = %d %v", status, h)
	}
	status, h = cors(t, ts, "GET", "/api/v1/me", "https://evil.example.net", nil)
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a request from a foreign origin got %v", h)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("credentials allowed: %v", h)
	}

	// Without an Origin (not a browser) OPTIONS just says what is allowed.
	status, h = cors(t, ts, "OPTIONS", "/api/v1/rooms", "", nil)
	if status != http.StatusNoContent || !strings.Contains(h.Get("Allow"), "GET") {
		t.Fatalf("OPTIONS without an origin = %d %v", status, h)
	}
}

// TestCORSWithAnyOrigin: "*" allows every origin, still naming each one
// and never allowing credentials.
func TestCORSWithAnyOrigin(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) { c.AllowedOrigins = []string{"*"} })
	status, h := cors(t, ts, "OPTIONS", "/api/v1/auth/login", "https://anyone.example",
		map[string]string{"Access-Control-Request-Method": "POST"})
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://anyone.example" ||
		h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight with * = %d %v", status, h)
	}
}
