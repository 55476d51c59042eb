package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/server"
)

// call makes an API request and returns the status and body.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
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
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOperatorLogsAndMetrics drives a server through sign-ups, sign-ins
// (one wrong, one locked out), API calls as a user, a key and nobody, and a
// WebSocket session, then reads its info log and /metrics as an operator
// would: an access line per API request with the caller and no secrets,
// a connected and a disconnected line per session, and the API and login
// counters by route pattern and result.
func TestOperatorLogsAndMetrics(t *testing.T) {
	cfg := startupConfig(t)
	cfg.Guests = true
	cfg.RoomCreation = "anyone"
	cfg.LoginRatePerMinute = 2
	logs := &syncBuffer{}
	srv, err := server.New(context.Background(), cfg, server.Options{LogOutput: logs})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()

	const password = "correct horse battery"
	status, body := call(t, "POST", base+"/api/v1/auth/register", "", `{"username":"alice","password":"`+password+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, body)
	}
	var reg struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct{ ID string }
	}
	_ = json.Unmarshal([]byte(body), &reg)
	for _, tc := range []struct {
		password string
		want     int
	}{{"wrong password!", 401}, {password, 200}, {password, 429}} {
		if status, body := call(t, "POST", base+"/api/v1/auth/login", "", `{"username":"alice","password":"`+tc.password+`"}`); status != tc.want {
			t.Fatalf("login: %d %s, want %d", status, body, tc.want)
		}
	}
	if status, body := call(t, "GET", base+"/api/v1/users/alice", reg.AccessToken, ""); status != 200 {
		t.Fatalf("GET users/alice: %d %s", status, body)
	}
	if status, _ := call(t, "GET", base+"/api/v1/no/such/thing", "", ""); status != 405 { // only OPTIONS matches /api/v1/ there
		t.Fatalf("an unknown path answered %d", status)
	}
	// An API key, made beside the running server as parley apikey does.
	st, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, k, err := auth.CreateAPIKey(context.Background(), st, "backend", []string{auth.ScopeRooms}, "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, "GET", base+"/api/v1/rooms", key, ""); status != 200 {
		t.Fatalf("GET rooms with a key: %d %s", status, body)
	}

	c, _, err := testutil.DialURL(t, "ws://"+ln.Addr().String()+"/ws/lobby?name=carol", testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Expect("joined", "welcome", "presence")
	c.Send("chat", "1", map[string]string{"room": "lobby", "text": "hi"})
	c.Expect("ack", "message", "presence")
	c.Close()
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), `msg=disconnected`) },
		"no disconnect logged:\n%s", logs)

	out := logs.String()
	for _, re := range []string{
		`msg="api request" method=POST path=/api/v1/auth/register route=/api/v1/auth/register status=201 duration=\S+ bytes=\d+ remote=127\.0\.0\.1:\d+ caller=anonymous`,
		`msg="api request" method=POST path=/api/v1/auth/login route=/api/v1/auth/login status=429 .* caller=anonymous`,
		`msg="api request" method=GET path=/api/v1/users/alice route=/api/v1/users/\{username\} status=200 .* caller=user user=` + regexp.QuoteMeta(reg.User.ID),
		`msg="api request" method=GET path=/api/v1/no/such/thing route=unmatched status=405 .* caller=anonymous`,
		`msg="api request" method=GET path=/api/v1/rooms route=/api/v1/rooms status=200 .* caller=key key=` + regexp.QuoteMeta(k.ID),
		`msg=connected conn=\S+ user=guest:\S+ name=carol guest=true remote=127\.0\.0\.1:\d+ room=lobby`,
		`msg=disconnected conn=\S+ user=guest:\S+ name=carol remote=127\.0\.0\.1:\d+ code=1000 duration=\S+ frames_in=1 frames_out=[1-9]`,
		`msg="parley listening" url=http://127\.0\.0\.1:\d+ websocket=ws://127\.0\.0\.1:\d+/ws .* data_dir=\S+ signing_key=\S+ metrics=http://\S+/metrics`,
		`msg="connection limits" max_conns=[1-9]\d* max_conns_per_address=2000 accept_rate=2000 accept_wait=5s trusted_proxies=0 client_ip_header="\(ignored: no trusted proxies\)"`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the log has no line matching\n  %s", re)
		}
	}
	for _, secret := range []string{reg.AccessToken, reg.RefreshToken, key, password} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains a secret: %.12s…", secret)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}

	_, m := call(t, "GET", base+"/metrics", "", "")
	for _, want := range []string{
		`parley_api_requests_total{code="201",method="POST",route="/api/v1/auth/register"} 1`,
		`parley_api_requests_total{code="200",method="GET",route="/api/v1/users/{username}"} 1`,
		`parley_api_requests_total{code="405",method="GET",route="unmatched"} 1`,
		`parley_api_request_seconds_count{route="/api/v1/auth/login"} 3`,
		`parley_logins_total{result="success"} 1`,
		`parley_logins_total{result="failure"} 1`,
		`parley_logins_total{result="locked"} 1`,
		// The limits are there from the start, at 0, so alerts on rates work.
		`parley_rate_limited_total{limit="user_messages"} 0`,
		`parley_rate_limited_total{limit="connection_frames"} 0`,
		`parley_connections_refused_total{reason="address"} 0`,
		`parley_connections_refused_total{reason="busy"} 0`,
		`parley_accept_paced_total 0`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, `route="/api/v1/users/alice"`) {
		t.Error("a raw path is a route label")
	}
}
