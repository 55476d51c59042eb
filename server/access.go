package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/metrics"
)

// loginPattern is the route of a password sign-in, counted in
// parley_logins_total.
const loginPattern = "POST " + api.Prefix + "/auth/login"

// callerKey is the context key of a request's *caller.
type callerKey struct{}

// caller is who an API request's bearer token proved to be, filled in by
// identifyAndNote when the API verifies a user's or guest's token.
type caller struct {
	id auth.Identity
	ok bool
}

// identifyAndNote is the API's Identify: the authenticator's, noting the
// identity in the request's caller for the access log.
func (s *Server) identifyAndNote(ctx context.Context, token string) (auth.Identity, error) {
	id, err := s.auth.identify(ctx, token)
	if c, ok := ctx.Value(callerKey{}).(*caller); ok && err == nil {
		c.id, c.ok = id, true
	}
	return id, err
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observeAPI wraps the server's handler: requests under /api/ are counted
// in parley_api_requests_total and parley_api_request_seconds by route
// pattern, password sign-ins in parley_logins_total, and each is logged at
// info as "api request" with its method, path, route, status, duration,
// size, remote address and caller kind (user, guest, key or anonymous) with
// the user or key id. Tokens, query strings and bodies are never logged.
// Other requests (WebSockets, health checks) pass straight through.
func (s *Server) observeAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		who := &caller{}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, who))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		// The mux set r.Pattern (on this request, which it was handed).
		route := "unmatched"
		if _, path, ok := strings.Cut(r.Pattern, " "); ok {
			route = path
		} else if r.Pattern != "" {
			route = r.Pattern
		}
		s.metrics.APIRequest(route, r.Method, rec.status, d)
		if r.Pattern == loginPattern {
			if result := loginResult(rec.status); result != "" {
				s.metrics.Login(result)
			}
		}
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", rec.status,
			"duration", d.Round(time.Microsecond), "bytes", rec.bytes, "remote", r.RemoteAddr}
		attrs = append(attrs, callerAttrs(r, who, rec.status)...)
		s.log.Info("api request", attrs...)
	})
}

// loginResult classifies a sign-in by its answer: 200 success, 429 locked
// (the login rate limit), 400, 401 or 403 failure. Others (404 with
// accounts off, 5xx) are not sign-in outcomes and count nowhere.
func loginResult(status int) string {
	switch status {
	case http.StatusOK:
		return metrics.LoginSuccess
	case http.StatusTooManyRequests:
		return metrics.LoginLocked
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return metrics.LoginFailure
	}
	return ""
}

// callerAttrs say who made a request: an API key (by id, once accepted), a
// user or guest whose token the API verified (by id), or anonymous (no
// credential, or one refused).
func callerAttrs(r *http.Request, who *caller, status int) []any {
	token := bearer(r)
	switch {
	case strings.HasPrefix(token, auth.APIKeyPrefix):
		if status == http.StatusUnauthorized {
			return []any{"caller", "anonymous"}
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(token, auth.APIKeyPrefix), "_")
		return []any{"caller", "key", "key", id}
	case who.ok && who.id.Guest:
		return []any{"caller", "guest", "user", who.id.UserID}
	case who.ok:
		return []any{"caller", "user", "user", who.id.UserID}
	}
	return []any{"caller", "anonymous"}
}
