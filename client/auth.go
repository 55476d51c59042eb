package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Tokens is the HTTP API's answer to sign-up, sign-in and refresh
// (docs/AUTH.md): a short-lived access token for Options.Token, and a
// refresh token that buys the next pair once.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// ExpiresAt is when the access token expires, in RFC 3339.
	ExpiresAt string      `json:"expires_at"`
	User      AccountInfo `json:"user"`
}

// AccountInfo is the account a Tokens answer is for.
type AccountInfo struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
}

// APIError is a failed HTTP API request. Code is the API's stable error
// code (the protocol's: CodeUnauthorized, CodeRateLimited, …).
type APIError struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is set with 429: when to try again.
	RetryAfter time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("parley: HTTP %d", e.Status)
	}
	return fmt.Sprintf("parley: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Login signs in to a server's built-in accounts (POST
// /api/v1/auth/login). server is the server's address in any of the forms
// Dial or a browser takes: http(s)://host:port or ws(s)://host:port, with
// or without a path. A wrong password or unknown user is an *APIError with
// Status 401; too many attempts 429.
func Login(ctx context.Context, server, username, password string) (Tokens, error) {
	return postTokens(ctx, server, "/api/v1/auth/login", map[string]string{"username": username, "password": password})
}

// Register signs up a new account (POST /api/v1/auth/register) and signs
// it in; a taken name is an *APIError with Status 409.
func Register(ctx context.Context, server, username, password string) (Tokens, error) {
	return postTokens(ctx, server, "/api/v1/auth/register", map[string]string{"username": username, "password": password})
}

// Refresh trades a refresh token for a new pair (POST
// /api/v1/auth/refresh). The refresh token sent stops working; a used,
// expired or signed-out one is an *APIError with Status 401.
func Refresh(ctx context.Context, server, refreshToken string) (Tokens, error) {
	return postTokens(ctx, server, "/api/v1/auth/refresh", map[string]string{"refresh_token": refreshToken})
}

// Refresher keeps an account's tokens and renews them: its GetToken is an
// Options.GetToken for a client signed in with Login. It holds the refresh
// token in memory only.
type Refresher struct {
	server string
	mu     sync.Mutex
	tokens Tokens
	used   bool // the access token of tokens was handed out
}

// NewRefresher returns a Refresher for the tokens that server answered.
func NewRefresher(server string, t Tokens) *Refresher {
	return &Refresher{server: server, tokens: t}
}

// GetToken returns an access token: the one of the tokens it was made
// with on the first call, then a new one for each call, since the client
// asks again only when it needs a fresh token (before expiry, or after the
// server refused the one it had). Calls are serialised, so that each
// refresh uses the latest refresh token. A refused refresh token is an
// *APIError with Status 401, which ends the client: sign in again.
func (r *Refresher) GetToken(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.used {
		r.used = true
		return r.tokens.AccessToken, nil
	}
	t, err := Refresh(ctx, r.server, r.tokens.RefreshToken)
	if err != nil {
		return "", err
	}
	r.tokens = t
	return t.AccessToken, nil
}

// Tokens returns the tokens the Refresher holds now.
func (r *Refresher) Tokens() Tokens {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tokens
}

// httpTimeout bounds one HTTP API request whose ctx has no deadline.
const httpTimeout = 30 * time.Second

// postTokens posts body as JSON to path on server and decodes a Tokens
// answer.
func postTokens(ctx context.Context, server, path string, body any) (Tokens, error) {
	base, err := HTTPBase(server)
	if err != nil {
		return Tokens{}, err
	}
	data, _ := json.Marshal(body)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, httpTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(data))
	if err != nil {
		return Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Tokens{}, fmt.Errorf("parley: %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Tokens{}, fmt.Errorf("parley: %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return Tokens{}, apiError(resp, answer)
	}
	var t Tokens
	if err := json.Unmarshal(answer, &t); err != nil || t.AccessToken == "" {
		return Tokens{}, fmt.Errorf("parley: %s: not a token answer: %.100s", path, answer)
	}
	return t, nil
}

// apiError decodes the API's error body.
func apiError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var b struct {
		Error struct {
			Code         string `json:"code"`
			Message      string `json:"message"`
			RetryAfterMS int64  `json:"retry_after_ms"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.Error.Code, b.Error.Message
		e.RetryAfter = time.Duration(b.Error.RetryAfterMS) * time.Millisecond
	}
	return e
}

// HTTPBase returns the base URL of the HTTP API of the server at server,
// given as http(s):// or ws(s)://, with or without a path:
// "ws://127.0.0.1:8080/ws" is "http://127.0.0.1:8080".
func HTTPBase(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("parley: %q is not a server URL such as http://localhost:8080", server)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("parley: %q: want an http, https, ws or wss URL", server)
	}
	return u.Scheme + "://" + u.Host, nil
}

// finalTokenError reports whether an error of Options.GetToken means that
// no token will come: a refusal of the HTTP API that retrying cannot fix
// (a 4xx other than 408 and 429), or ErrNoToken.
func finalTokenError(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status/100 == 4 && ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests
	}
	return errors.Is(err, ErrNoToken)
}
