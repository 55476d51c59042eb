package api

import (
	"errors"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// limits applies the limits every endpoint shares before h runs: the
// body is capped at Config.MaxBodyBytes (413 when larger, see decode), and
// a browser's body must be declared JSON (415 for any other type). The
// server's
// ReadTimeout (--http-read-timeout) bounds how long the body may take to
// arrive; a request without a body has its read deadline cleared here, and
// one with a body once decode has read it, so that a handler that waits
// (for a password hash, say) is not cancelled by the deadline meant for
// slow clients. WriteTimeout (--http-write-timeout) still bounds the
// answer.
func (a *API) limits(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) && r.Header.Get("Origin") != "" {
				// Form and text bodies are what a page on another site
				// can make a browser send without a CORS preflight;
				// refusing them means a cross-site form never reaches a
				// handler. Browsers send Origin with every such POST.
				// Other clients (curl -d sends a form type) have their
				// body read as JSON whatever they declare: no browser,
				// no one to trick.
				w.Header().Set("Accept-Post", "application/json")
				a.fail(w, r, errorf(http.StatusUnsupportedMediaType, protocol.CodeInvalid,
					"the request body must be JSON: send it with Content-Type: application/json, not %s", ct))
				return
			}
			if r.ContentLength > a.maxBody() {
				// Declared too large: refuse before reading any of it,
				// and close the connection rather than drain it.
				w.Header().Set("Connection", "close")
				a.fail(w, r, errorf(http.StatusRequestEntityTooLarge, protocol.CodeInvalid,
					"the request body is %d bytes; the limit is %d", r.ContentLength, a.maxBody()))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, a.maxBody())
		} else {
			clearReadDeadline(w)
		}
		h(w, r)
	}
}

// isJSON reports whether a Content-Type header names JSON.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// maxBody is the largest request body accepted.
func (a *API) maxBody() int64 {
	if a.cfg.MaxBodyBytes > 0 {
		return int64(a.cfg.MaxBodyBytes)
	}
	return MaxBodyBytes
}

// clearReadDeadline lifts the connection's read deadline once the request
// is read: see limits.
func clearReadDeadline(w http.ResponseWriter) {
	// Not every ResponseWriter has a connection (a test recorder); then
	// there is no deadline to clear.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
}

// isTimeout reports whether a body read failed because the client was
// too slow (the read deadline passed).
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
