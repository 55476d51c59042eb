package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/testutil"
)

// account is a registered account's access token and user id.
type account struct {
	token, id string
}

// register signs up username over the HTTP API.
func register(t *testing.T, ts *testutil.TestServer, username string) account {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	apiCall(t, ts, "", "POST", "/api/v1/auth/register",
		`{"username":"`+username+`","password":"correct horse battery"}`, http.StatusCreated, &out)
	return account{token: out.AccessToken, id: out.User.ID}
}

// apiCall makes one HTTP API request with token (none when "") and wants
// the status want; the answer is decoded into out when out is not nil.
func apiCall(t *testing.T, ts *testutil.TestServer, token, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// publishKey makes an API key with the publish and rooms scopes.
func publishKey(t *testing.T, ts *testutil.TestServer) string {
	t.Helper()
	var out struct {
		Key string `json:"key"`
	}
	apiCall(t, ts, adminToken(t, ts), "POST", "/api/v1/admin/keys",
		`{"name":"tests","scopes":["publish","rooms"]}`, http.StatusCreated, &out)
	return out.Key
}

// noEvent checks that c has no event of a type in unwanted queued after a
// ping's round trip, which orders everything the server sent before it.
func noEvent(t *testing.T, c *client.Client, unwanted ...client.EventType) {
	t.Helper()
	if _, err := c.Ping(ctx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	for {
		select {
		case ev := <-c.Events():
			for _, u := range unwanted {
				if ev.Type == u {
					t.Fatalf("unexpected %s event: %+v", ev.Type, ev)
				}
			}
		default:
			return
		}
	}
}
