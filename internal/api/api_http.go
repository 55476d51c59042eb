package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// apiError is a failure with the HTTP status and protocol code the client
// gets. Handlers return it for failures they diagnose themselves; fail maps
// everything else.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// fromProtocol carries a protocol validation error over with status 400.
func fromProtocol(e *protocol.Error) *apiError {
	return &apiError{status: http.StatusBadRequest, code: e.Code, msg: e.Message}
}

// errorResponse is the body of every failed request.
type errorResponse struct {
	Error protocol.ErrorBody `json:"error"`
}

// fail answers a failed request. This is the one place store sentinels are
// mapped to statuses and codes, and where server faults are logged.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := a.problem(r, err)
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.retryAfter.Seconds()))))
	}
	writeJSON(w, ae.status, errorResponse{Error: *ae.body()})
}

// errorBody is what fail would answer for err, for a response that
// reports several outcomes (a batch).
func (a *API) errorBody(r *http.Request, err error) *protocol.ErrorBody {
	return a.problem(r, err).body()
}

func (ae *apiError) body() *protocol.ErrorBody {
	return &protocol.ErrorBody{Code: ae.code, Message: ae.msg, RetryAfterMS: ae.retryAfter.Milliseconds()}
}

// problem maps err to what the client is told, logging server faults.
func (a *API) problem(r *http.Request, err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = errorf(http.StatusNotFound, protocol.CodeNotFound, "not found")
	case errors.Is(err, store.ErrConflict):
		ae = errorf(http.StatusConflict, protocol.CodeInvalid, "already exists")
	case errors.Is(err, store.ErrForbidden):
		ae = errorf(http.StatusForbidden, protocol.CodeForbidden, "not allowed")
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client went away (or gave up); nobody will read the answer.
		ae = errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable, "the request was cancelled")
	default:
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusServiceUnavailable, protocol.CodeUnavailable, "the server could not complete the request; retry later")
	}
	return ae
}

// writeJSON sends v as the response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// The body is JSON for programs, never HTML: "<" in a message stays
	// "<" rather than \u003c (clients must escape text they render anyway).
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a write error means the client left
}

// decode reads the request body into v strictly: at most the body limit
// (see limits), within the read timeout (408 when the client is too slow),
// valid
// UTF-8 (encoding/json would silently replace bad bytes), exactly one JSON
// object (not null) and no fields v does not have, names matching exactly
// (encoding/json would take "TEXT" for "text"). An empty body is allowed only when
// optional is true, and leaves v untouched.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	// limits has capped r.Body; the cap here covers a handler mounted
	// without it.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes<<8))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, protocol.CodeInvalid,
			"the request body is larger than %d bytes", tooBig.Limit)
	case isTimeout(err):
		// The connection cannot be trusted for another request.
		w.Header().Set("Connection", "close")
		return errorf(http.StatusRequestTimeout, protocol.CodeInvalid,
			"the request body did not arrive in time; send it faster")
	case err != nil:
		return fmt.Errorf("api: read request body: %w", err)
	}
	clearReadDeadline(w)
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		if optional {
			return nil
		}
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "a JSON request body is required")
	}
	if !utf8.Valid(data) {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "the request body is not valid UTF-8")
	}
	if trimmed[0] != '{' {
		// encoding/json takes null for a struct and leaves it untouched,
		// which would let "null" pass for an object the document requires.
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "the request body is not valid: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "the request body must hold one JSON object")
	}
	if name := inexactMember(trimmed, reflect.TypeOf(v)); name != "" {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid,
			"the request body is not valid: unknown field %q (field names are case-sensitive)", name)
	}
	return nil
}

// jsonProblem says what was wrong with a body in terms a client can act on.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "want a JSON object"
		}
		return fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: it ends early"
	}
	// DisallowUnknownFields reports `json: unknown field "x"`; its message is
	// the clearest description there is.
	return err.Error()
}

// noEmptyParams refuses a query parameter given with an empty value
// ("?limit=" or "?before"), as openapi.json does: "absent" is said by
// leaving it out, and an empty value taken as absent would hide a client's
// bug.
func noEmptyParams(q url.Values, names ...string) error {
	for _, name := range names {
		if q.Has(name) && q.Get(name) == "" {
			return errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s is empty: give a value or leave it out", name)
		}
	}
	return nil
}
