package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestServesTheApp: "/" is the app's page with a strict CSP and its
// security headers, revalidated on every load; its assets have versioned
// URLs cached for good; the server's other routes still answer, and any
// other path is a 404, not the app.
func TestServesTheApp(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	res, page := get(t, ts.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `<div id="chat"`) {
		t.Fatalf("GET /: %d, want 200 and the app's page:\n%s", res.StatusCode, page)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self' ws://" + strings.TrimPrefix(ts.URL, "http://"),
		"frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows something unsafe", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-cache",
		"Content-Type":           "text/html; charset=utf-8",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("GET /: %s = %q, want %q", h, got, want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("the page has inline script or style, which its CSP would block")
	}
	if res, _ := get(t, ts.URL+"/", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with its ETag: %d, want 304", res.StatusCode)
	}

	script := regexp.MustCompile(`src="(/app/[0-9a-f]+/js/main\.js)"`).FindStringSubmatch(page)
	if script == nil {
		t.Fatalf("the page names no versioned main.js:\n%s", page)
	}
	res, body := get(t, ts.URL+script[1])
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "import") {
		t.Fatalf("GET %s: %d", script[1], res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("asset Cache-Control = %q, want a year, immutable", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("asset Content-Type = %q", got)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("asset without nosniff")
	}

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/app/0123456789abcdef/js/main.js", http.StatusNotFound}, // another version
		{strings.Replace(script[1], "main.js", "nope.js", 1), http.StatusNotFound},
		{"/index.html", http.StatusNotFound},
		{"/chat", http.StatusNotFound},
		{"/r/lobby", http.StatusNotFound},
		{"/sdk/parley.js", http.StatusOK},
		{"/healthz", http.StatusOK},
		{"/readyz", http.StatusOK},
		{"/metrics", http.StatusOK},
		{"/protocol/v1.schema.json", http.StatusOK},
		{"/api/v1/config", http.StatusOK},
	} {
		if res, _ := get(t, ts.URL+tc.path); res.StatusCode != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, res.StatusCode, tc.want)
		}
	}
}
