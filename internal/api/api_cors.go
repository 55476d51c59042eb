package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/origin"
	"github.com/parley-chat/parley/internal/protocol"
)

// CORS: a web app served from another origin calls the API from the
// browser when that origin is in --allowed-origins, the list the WebSocket
// upgrade checks too. Credentials go in the Authorization header, never in
// cookies, so no response allows credentials, and each names the one
// origin it answers rather than "*".
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type"
	corsExpose  = "Location, Retry-After, WWW-Authenticate"
	// corsMaxAge is how long (seconds) a browser may keep a preflight's
	// answer: ten minutes.
	corsMaxAge = "600"
)

// cors lets the browser show h's answer to a page of an allowed origin.
func (a *API) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); o != "" && origin.Allowed(a.cfg.AllowedOrigins, o, r.Host) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Expose-Headers", corsExpose)
		}
		h(w, r)
	}
}

// preflight answers a browser's OPTIONS before a cross-origin request: 204
// with what may be sent for an allowed origin, 403 for another.
func (a *API) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" {
		// Not a browser's preflight: say what the API takes.
		w.Header().Set("Allow", "OPTIONS, "+corsMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !origin.Allowed(a.cfg.AllowedOrigins, o, r.Host) {
		a.log.Info("refused a cross-origin request", "origin", o, "path", r.URL.Path)
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"origin %s is not allowed; add it to --allowed-origins", o))
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Methods", corsMethods)
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	if m := r.Header.Get("Access-Control-Request-Method"); m != "" && !slices.Contains(strings.Split(corsMethods, ", "), m) {
		a.fail(w, r, errorf(http.StatusMethodNotAllowed, protocol.CodeInvalid, "the API takes no %s requests", m))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
