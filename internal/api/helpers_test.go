package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// password is every test account's password.
const password = "correct horse battery"

// scenario is one HTTP request and what its answer must be.
type scenario struct {
	name        string
	method      string
	path        string
	body        string
	token       string
	want        int
	contains    []string // substrings the response body must have
	notContains []string // substrings it must not have
}

// runScenarios plays the scenarios in order against ts.
func runScenarios(t *testing.T, ts *testutil.TestServer, scs []scenario) {
	t.Helper()
	for _, sc := range scs {
		status, body, _ := do(t, ts, sc.method, sc.path, sc.body, sc.token)
		if status != sc.want {
			t.Errorf("%s: %s %s = %d, want %d; body %s", sc.name, sc.method, sc.path, status, sc.want, body)
			continue
		}
		for _, s := range sc.contains {
			if !strings.Contains(body, s) {
				t.Errorf("%s: body %s lacks %q", sc.name, body, s)
			}
		}
		for _, s := range sc.notContains {
			if strings.Contains(body, s) {
				t.Errorf("%s: body %s has %q", sc.name, body, s)
			}
		}
	}
}

// do sends one request from 127.0.0.1.
func do(t *testing.T, ts *testutil.TestServer, method, path, body, token string) (int, string, http.Header) {
	t.Helper()
	return doFrom(t, http.DefaultClient, ts, method, path, body, token)
}

// doFrom sends one request with client c.
func doFrom(t *testing.T, c *http.Client, ts *testutil.TestServer, method, path, body, token string) (int, string, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.DefaultWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, c, req, body)
}

// send makes a request (body is what req carries) with client c and
// returns the answer's status, body and header. Every request of the API
// tests goes through here, and every answer must be one the OpenAPI
// document describes (see checkResponse).
func send(t *testing.T, c *http.Client, req *http.Request, body string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	if ct := resp.Header.Get("Content-Type"); len(b) > 0 && !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, body %s", req.Method, req.URL.Path, ct, b)
	}
	checkResponse(t, req, body, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, string(b), resp.Header
}

// clientFrom returns an HTTP client whose connections come from the given
// loopback address, so tests can act as several client addresses.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: testutil.DefaultWait}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// tokens is a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    string `json:"expires_at"`
	User         struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		Admin    bool   `json:"admin"`
	} `json:"user"`
}

// signUp registers username and returns its tokens.
func signUp(t *testing.T, ts *testutil.TestServer, username string) tokens {
	t.Helper()
	status, body, _ := do(t, ts, "POST", "/api/v1/auth/register",
		`{"username":"`+username+`","password":"`+password+`"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("register %s = %d %s", username, status, body)
	}
	return decodeJSON[tokens](t, body)
}

func decodeJSON[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// dialAs opens a WebSocket with an access token in the Authorization header
// and reads the welcome.
func dialAs(t *testing.T, ts *testutil.TestServer, token string) *testutil.Client {
	t.Helper()
	c, resp, err := ts.DialWith(t, "/ws", testutil.DialOptions{Header: bearerHeader(token)})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial with token: %v (status %d)", err, status)
	}
	c.Welcome()
	return c
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// wsError is the body of a WebSocket error frame.
type wsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
