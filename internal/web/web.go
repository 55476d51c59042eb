package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

var (
	//go:embed sdk/parley.js
	sdkScript []byte
	//go:embed sdk/parley.d.ts
	sdkTypes []byte
)

// SDKScript serves the JavaScript SDK (GET /sdk/parley.js) as
// text/javascript, and SDKTypes its TypeScript declarations (GET
// /sdk/parley.d.ts). Both carry a strong ETag, the hash of the file, and
// "Cache-Control: no-cache": a browser keeps its copy but asks again each
// time, and an unchanged file costs a 304 with no body, so an upgraded
// server is never hidden behind a stale cached SDK. They also carry
// "Access-Control-Allow-Origin: *": a module script loaded from another
// origin needs it, and the files are public and sent without credentials.
var (
	SDKScript http.Handler = newAsset(sdkScript, "text/javascript; charset=utf-8")
	SDKTypes  http.Handler = newAsset(sdkTypes, "application/typescript; charset=utf-8")
)

// asset is one embedded file served with its validators.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

func newAsset(data []byte, contentType string) *asset {
	sum := sha256.Sum256(data)
	return &asset{data: data, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// ServeHTTP implements http.Handler; conditional and range requests are
// answered by http.ServeContent.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
