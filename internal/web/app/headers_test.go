package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestConnectSrc: the CSP names the request's own host for WebSockets, and
// only a host that cannot change the header's meaning.
func TestConnectSrc(t *testing.T) {
	for _, tc := range []struct {
		host, want string
	}{
		{"localhost:8080", "connect-src 'self' ws://localhost:8080 wss://localhost:8080;"},
		{"[::1]:8080", "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;"},
		{"chat.example.com", "connect-src 'self' ws://chat.example.com wss://chat.example.com;"},
		{"evil.com; script-src *", "connect-src 'self';"},
		{"", "connect-src 'self';"},
	} {
		h := http.Header{}
		securityHeaders(h, tc.host)
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, tc.want) {
			t.Errorf("host %q: CSP %q lacks %q", tc.host, csp, tc.want)
		}
	}
}

// TestNew: the embedded files load, every asset has a content type, and
// the page names the current version.
func TestNew(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Version()) != 16 {
		t.Fatalf("version %q, want 16 hex digits", a.Version())
	}
	for name, f := range a.assets {
		if f.contentType == "application/octet-stream" {
			t.Errorf("%s has no content type", name)
		}
	}
	if !strings.Contains(string(a.index.data), "/app/"+a.Version()+"/js/main.js") || strings.Contains(string(a.index.data), versionMark) {
		t.Error("index.html does not name the current version's assets")
	}
}
