package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// apiConns bounds the tool's HTTP connections to the server: room for every
// worker and for the posts a climb step has in flight at the rates that
// pass, far inside `ulimit -n`. A step that needs more queues its posts for
// a connection, and the queueing shows in its post latency.
const apiConns = 256

// apiClient calls a server's HTTP API (docs/API.md) as a backend would:
// JSON bodies, an API key or a user's token as the bearer, and one pool of
// keep-alive connections that every worker shares. With several nodes each
// call goes to the next one. It is safe for
// concurrent use.
type apiClient struct {
	bases []string // each node's http://host:port/api/v1, taken in turn
	turn  atomic.Uint64
	key   string
	hc    *http.Client
	// ids numbers client_ids, so that every post of a run is a new message.
	ids    atomic.Uint64
	prefix string
}

func newAPIClient(bases []string, key, run string) *apiClient {
	tr := &http.Transport{
		MaxIdleConns: apiConns, MaxIdleConnsPerHost: apiConns, MaxConnsPerHost: apiConns,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}
	return &apiClient{bases: bases, key: key, prefix: "bench-" + run + "-",
		hc: &http.Client{Transport: tr, Timeout: sendTimeout}}
}

// close drops the idle connections.
func (a *apiClient) close() { a.hc.CloseIdleConnections() }

// apiError is an answer with another status than the one wanted.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// status returns err's HTTP status, 0 when it has none.
func status(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// do sends method path (under /api/v1) with body as JSON (none when nil),
// authorised by token (the API key when ""), and decodes an answer with
// status want into out (discarded when nil). Bodies are read to the end so
// the connection is reused.
func (a *apiClient) do(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	base := a.bases[(a.turn.Add(1)-1)%uint64(len(a.bases))]
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if token == "" {
		token = a.key
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		_, _ = io.Copy(io.Discard, resp.Body)
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Body: string(bytes.TrimSpace(msg))}
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return nil
}

// clientID returns a client_id no other post of the run has.
func (a *apiClient) clientID() string {
	return a.prefix + strconv.FormatUint(a.ids.Add(1), 10)
}

// createRoom creates a public room; it needs a key with the rooms scope.
func (a *apiClient) createRoom(ctx context.Context, name string) error {
	return a.do(ctx, http.MethodPost, "/rooms", "", map[string]any{"name": name}, http.StatusCreated, nil)
}

type apiPost struct {
	Room     string `json:"room,omitempty"` // batches only
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
}

// post posts one message into room and returns once it is stored.
func (a *apiClient) post(ctx context.Context, room, text string) error {
	return a.do(ctx, http.MethodPost, "/rooms/"+url.PathEscape(room)+"/messages", "",
		apiPost{Text: text, ClientID: a.clientID()}, http.StatusCreated, nil)
}

// postBatch posts n copies of text into room in one request and returns
// how many the server refused.
func (a *apiClient) postBatch(ctx context.Context, room, text string, n int) (failed int, err error) {
	msgs := make([]apiPost, n)
	for i := range msgs {
		msgs[i] = apiPost{Room: room, Text: text, ClientID: a.clientID()}
	}
	var out struct {
		Results []struct {
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		} `json:"results"`
	}
	if err := a.do(ctx, http.MethodPost, "/messages", "", map[string]any{"messages": msgs}, http.StatusOK, &out); err != nil {
		return n, err
	}
	if len(out.Results) != n {
		return n, fmt.Errorf("POST /messages: %d results for %d messages", len(out.Results), n)
	}
	for _, r := range out.Results {
		if r.Error != nil {
			failed++
		}
	}
	return failed, nil
}

// notify publishes a notification to topic's subscribers and returns how
// many there were.
func (a *apiClient) notify(ctx context.Context, topic, title string) (recipients int, err error) {
	var out struct {
		Recipients int `json:"recipients"`
	}
	err = a.do(ctx, http.MethodPost, "/notifications", "", map[string]any{"topic": topic, "title": title},
		http.StatusCreated, &out)
	return out.Recipients, err
}

// subscribe subscribes the user of token to pattern.
func (a *apiClient) subscribe(ctx context.Context, token, pattern string) error {
	return a.do(ctx, http.MethodPut, "/subscriptions/"+url.PathEscape(pattern), token, nil, http.StatusNoContent, nil)
}

// unread returns the user of token's count of unread notifications.
func (a *apiClient) unread(ctx context.Context, token string) (int, error) {
	var out struct {
		Unread int `json:"unread"`
	}
	err := a.do(ctx, http.MethodGet, "/notifications?unread=true&limit=1", token, nil, http.StatusOK, &out)
	return out.Unread, err
}

// externalToken signs an HS256 token for the user sub as an integrating
// app's backend would (docs/AUTH.md): sub, name and an expiry an hour away.
func externalToken(secret []byte, sub string) (string, error) {
	claims := jwt.MapClaims{"sub": sub, "name": sub, "exp": time.Now().Add(time.Hour).Unix()}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign a token for %q: %w", sub, err)
	}
	return tok, nil
}
