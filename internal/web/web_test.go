package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAssets checks what the two SDK routes answer: the embedded bytes with
// their content type and validators, and a bodiless 304 for a client that
// already holds the same file.
func TestAssets(t *testing.T) {
	for _, tc := range []struct {
		name        string
		h           http.Handler
		data        []byte
		contentType string
	}{
		{"script", SDKScript, sdkScript, "text/javascript; charset=utf-8"},
		{"types", SDKTypes, sdkTypes, "application/typescript; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.data) == 0 {
				t.Fatal("nothing embedded")
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest("GET", "/sdk/x", nil))
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || !bytes.Equal(body, tc.data) {
				t.Fatalf("GET: status %d, %d bytes; want 200 and the %d embedded bytes", res.StatusCode, len(body), len(tc.data))
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Fatalf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if res.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("Cache-Control = %q, want no-cache", res.Header.Get("Cache-Control"))
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("Access-Control-Allow-Origin = %q, want * (a cross-origin module import needs it)", res.Header.Get("Access-Control-Allow-Origin"))
			}
			etag := res.Header.Get("ETag")
			if len(etag) < 10 || etag[0] != '"' {
				t.Fatalf("ETag = %q, want a strong quoted tag", etag)
			}

			req := httptest.NewRequest("GET", "/sdk/x", nil)
			req.Header.Set("If-None-Match", etag)
			rec = httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
				t.Fatalf("If-None-Match with the current ETag: status %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
			}
			req.Header.Set("If-None-Match", `"stale"`)
			rec = httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("If-None-Match with another ETag: status %d, want 200", rec.Code)
			}
		})
	}
}
