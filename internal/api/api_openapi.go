package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"
)

// OpenAPIJSON is the OpenAPI 3.1 description of this API, written by hand
// in openapi.json next to the handlers and served at
// /api/v1/openapi.json. The package's tests check it both ways against the
// route table and validate every answer they get against it, so a change
// to an endpoint that the document does not follow fails them. Treat the
// slice as read-only: it is shared.
//
//go:embed openapi.json
var OpenAPIJSON []byte

// openAPIETag is a strong validator of OpenAPIJSON: the first 8 bytes of
// its SHA-256, in hex and quotes.
var openAPIETag = func() string {
	sum := sha256.Sum256(OpenAPIJSON)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// openAPI serves the OpenAPI document to anyone. It changes only with the
// server's build, so caches may keep it for five minutes and then
// revalidate it by its ETag, which costs a 304 without a body.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", openAPIETag)
	if etagMatches(r.Header.Get("If-None-Match"), openAPIETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPIJSON) // a write error means the client left
}

// etagMatches reports whether an If-None-Match header names etag, or is
// "*" (RFC 9110, section 13.1.2; weak comparison, so W/ is ignored).
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
