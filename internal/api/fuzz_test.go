package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/testutil"
)

// fuzzCred says which credential a fuzzed request carries.
type fuzzCred int

const (
	credNone  fuzzCred = iota // the auth endpoints
	credUser                  // a plain account, "fuzzer"
	credAdmin                 // a server administrator, "root"
	credKey                   // an API key with every scope
)

// fuzzEndpoints are the API's endpoints that read a JSON body, one valid
// body each as a seed; FuzzAPIBodies posts fuzzed bodies to them. The
// paths name the rooms and users fuzzSetup makes.
var fuzzEndpoints = []struct {
	method, path string
	cred         fuzzCred
	seed         string
}{
	{"POST", "/api/v1/auth/register", credNone, `{"username":"fz1","password":"correct horse battery","display_name":"F"}`},
	{"POST", "/api/v1/auth/login", credNone, `{"username":"fuzzer","password":"not the password"}`},
	{"POST", "/api/v1/auth/refresh", credNone, `{"refresh_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
	{"POST", "/api/v1/auth/logout", credNone, `{"refresh_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
	{"PATCH", "/api/v1/me", credUser, `{"name":"Ada"}`},
	{"POST", "/api/v1/me/password", credUser, `{"current_password":"not the password","new_password":"another horse battery"}`},
	{"DELETE", "/api/v1/me", credUser, `{"password":"not the password"}`},
	{"POST", "/api/v1/users", credAdmin, `{"username":"made","password":"correct horse battery","display_name":"M","admin":false}`},
	{"POST", "/api/v1/rooms", credAdmin, `{"name":"fz-new","private":false,"topic":"t"}`},
	{"PATCH", "/api/v1/rooms/fz-room", credAdmin, `{"topic":"x","private":false,"locked":false,"archived":false}`},
	{"PUT", "/api/v1/rooms/fz-room/bans/fuzzer", credAdmin, `{"reason":"spam","duration_seconds":60}`},
	{"PUT", "/api/v1/rooms/fz-room/mutes/fuzzer", credAdmin, `{"reason":"shouting","duration_seconds":60}`},
	{"PUT", "/api/v1/rooms/fz-room/members/fuzzer", credAdmin, `{"role":"member"}`},
	{"DELETE", "/api/v1/connections/fuzzer", credAdmin, `{"reason":"bye"}`},
	{"POST", "/api/v1/admin/webhooks", credAdmin, `{"url":"https://hooks.example/parley","events":["message"],"secret":"0123456789abcdef"}`},
	{"POST", "/api/v1/admin/keys", credAdmin, `{"name":"k","scopes":["publish"]}`},
	{"POST", "/api/v1/rooms/fz-room/messages", credKey, `{"text":"hi","client_id":"c1","as":"bot","name":"Bot"}`},
	{"POST", "/api/v1/messages", credKey, `{"messages":[{"room":"fz-room","text":"hi","client_id":"c2"}]}`},
	{"POST", "/api/v1/conversations/fuzzer/messages", credKey, `{"text":"hi","client_id":"c3","from":"bot","name":"Bot"}`},
	{"POST", "/api/v1/notices", credKey, `{"room":"fz-room","text":"maintenance at noon"}`},
	{"POST", "/api/v1/notifications", credKey, `{"topic":"news","title":"t","body":"b","data":{"k":1},"link":"https://x.example/"}`},
	{"POST", "/api/v1/notifications/read", credUser, `{"ids":["n_1"],"all":false}`},
}

// fuzzServer is the server a fuzz target drives and its credentials.
type fuzzServer struct {
	ts                *testutil.TestServer
	user, admin, key  string
	userID            string
	historyRoom       string
	historyLimit, max int64 // the default page size; the history room's last seq
}

// fuzzRequest sends one request and returns its status and body; tb may
// be the fuzz target's *testing.F, which the scenario helpers do not take.
func fuzzRequest(tb testing.TB, ts *testutil.TestServer, method, path, body, token string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.DefaultWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// fuzzSetup starts a server with an account, an administrator, an API key
// with every scope, a room and a room of history messages 1..historyMsgs.
func fuzzSetup(f *testing.F) *fuzzServer {
	fs := &fuzzServer{ts: testutil.StartServer(f, nil), historyRoom: "fz-history", historyLimit: 100, max: historyMsgs}
	must := func(want int, method, path, body, token string) string {
		status, b := fuzzRequest(f, fs.ts, method, path, body, token)
		if status != want {
			f.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
		}
		return b
	}
	var tok struct {
		AccessToken string              `json:"access_token"`
		User        struct{ ID string } `json:"user"`
	}
	for _, name := range []string{"root", "fuzzer"} {
		if err := json.Unmarshal([]byte(must(201, "POST", "/api/v1/auth/register",
			`{"username":"`+name+`","password":"`+password+`"}`, "")), &tok); err != nil {
			f.Fatal(err)
		}
		if name == "root" {
			fs.ts.SetAdmin(f, tok.User.ID)
			_ = json.Unmarshal([]byte(must(200, "POST", "/api/v1/auth/login",
				`{"username":"root","password":"`+password+`"}`, "")), &tok)
			fs.admin = tok.AccessToken
		} else {
			fs.user, fs.userID = tok.AccessToken, tok.User.ID
		}
	}
	var key struct{ Key string }
	_ = json.Unmarshal([]byte(must(201, "POST", "/api/v1/admin/keys",
		`{"name":"fuzz","scopes":["publish","rooms","users","presence"]}`, fs.admin)), &key)
	fs.key = key.Key
	for _, room := range []string{"fz-room", fs.historyRoom} {
		must(201, "POST", "/api/v1/rooms", `{"name":"`+room+`"}`, fs.admin)
	}
	for i := 1; i <= historyMsgs; i++ {
		must(201, "POST", "/api/v1/rooms/"+fs.historyRoom+"/messages", fmt.Sprintf(`{"text":"m%d"}`, i), fs.key)
	}
	return fs
}

// historyMsgs is how many messages the history room holds.
const historyMsgs = 30

func (fs *fuzzServer) token(c fuzzCred) string {
	return [...]string{credNone: "", credUser: fs.user, credAdmin: fs.admin, credKey: fs.key}[c]
}

// documentedCodes are the error codes docs/API.md and the OpenAPI
// document list.
var documentedCodes = []string{protocol.CodeBadFrame, protocol.CodeUnknownType, protocol.CodeInvalid, protocol.CodeTooLong,
	protocol.CodeInvalidRoom, protocol.CodeNotJoined, protocol.CodeTooManyRooms, protocol.CodeRateLimited,
	protocol.CodeForbidden, protocol.CodeNotFound, protocol.CodeUnauthorized, protocol.CodeUnavailable}

// checkAnswer fails t on a 5xx, and on an error answer that is not a
// documented code with a sentence; the OpenAPI document must describe the
// answer too (send checks that).
func checkAnswer(t *testing.T, what string, status int, body string) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s = %d %s", what, status, body)
	}
	if status < 400 {
		return
	}
	var e struct{ Error protocol.ErrorBody }
	if err := json.Unmarshal([]byte(body), &e); err != nil || !slices.Contains(documentedCodes, e.Error.Code) ||
		len(e.Error.Message) < 8 {
		t.Fatalf("%s = %d %s: want a documented error code and a sentence", what, status, body)
	}
}

// FuzzAPIBodies posts fuzzed bodies to every endpoint that reads one (the
// first byte picks it from fuzzEndpoints) on a real server: no answer may
// be a 5xx, every error carries a documented code and a sentence, and the
// OpenAPI document describes every answer and every body the server takes.
func FuzzAPIBodies(f *testing.F) {
	for i, ep := range fuzzEndpoints {
		for _, body := range []string{ep.seed, "", "{}", "null", "[]", `{"x":1}`, ep.seed + ep.seed} {
			f.Add(uint8(i), []byte(body))
		}
	}
	fs := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		ep := fuzzEndpoints[int(which)%len(fuzzEndpoints)]
		ctx, cancel := context.WithTimeout(context.Background(), testutil.DefaultWait)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, ep.method, fs.ts.URL+ep.path, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if tok := fs.token(ep.cred); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		// A body of white space counts as none (docs/API.md), which is
		// how the document must see it too.
		reqBody := string(body)
		if strings.TrimSpace(reqBody) == "" {
			reqBody = ""
		}
		status, answer, _ := send(t, http.DefaultClient, req, reqBody)
		checkAnswer(t, ep.method+" "+ep.path, status, answer)
	})
}

// fuzzPages are the endpoints that page with a cursor in their query.
var fuzzPages = []struct {
	path string
	cred fuzzCred
	seed string
}{
	{"/api/v1/rooms/fz-history/messages", credKey, "before=10&limit=5"},
	{"/api/v1/conversations/root/messages", credUser, "after=0&limit=3"},
	{"/api/v1/notifications", credUser, "before=n_1&unread=true&limit=10"},
	{"/api/v1/admin/audit", credAdmin, "before=a_1&action=room.create&limit=2"},
}

// FuzzHistoryQuery sends fuzzed query strings (cursors, limits) to the
// endpoints that page (the first byte picks one): no 5xx, errors with a
// documented code, answers the OpenAPI document describes; and a room's
// history page must be exactly the one the query asks for, worked out
// here from the room's messages 1..historyMsgs.
func FuzzHistoryQuery(f *testing.F) {
	for i, p := range fuzzPages {
		for _, q := range []string{p.seed, "", "before=0", "after=29", "after=30&limit=1000", "limit=0", "limit=1001",
			"before=-1", "before=1&after=1", "before=9223372036854775807", "before=9223372036854775808", "after=%2B5",
			"limit=+7", "before=1e3", "before=&after=", "limit=5&limit=6"} {
			f.Add(uint8(i), q)
		}
	}
	fs := fuzzSetup(f)
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		p := fuzzPages[int(which)%len(fuzzPages)]
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' }) {
			return // not a request line a client could send; net/http itself refuses it
		}
		u, err := url.Parse(fs.ts.URL + p.path + "?" + query)
		if err != nil || u.Path != p.path {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), testutil.DefaultWait)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+fs.token(p.cred))
		status, answer, _ := send(t, http.DefaultClient, req, "")
		checkAnswer(t, "GET "+p.path+"?"+query, status, answer)
		if p.path == "/api/v1/rooms/fz-history/messages" {
			fs.checkPage(t, req.URL.Query(), status, answer)
		}
	})
}

// checkPage compares a history answer with the page q asks for.
func (fs *fuzzServer) checkPage(t *testing.T, q url.Values, status int, answer string) {
	t.Helper()
	want, ok := fs.page(q)
	if !ok {
		if status != http.StatusBadRequest {
			t.Fatalf("query %v = %d %s, want 400", q, status, answer)
		}
		return
	}
	if status != http.StatusOK {
		t.Fatalf("query %v = %d %s, want 200 %v", q, status, answer, want)
	}
	var h history
	if err := json.Unmarshal([]byte(answer), &h); err != nil {
		t.Fatal(err)
	}
	got := []int64{}
	for _, m := range h.Messages {
		got = append(got, m.Seq)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("query %v gave seqs %v, want %v", q, got, want)
	}
}

// page is the model of a history query on messages 1..fs.max: the seqs it
// answers with, or false for a query the API must refuse.
func (fs *fuzzServer) page(q url.Values) ([]int64, bool) {
	num := func(name string) (int64, bool, bool) {
		if !q.Has(name) {
			return 0, false, true
		}
		n, err := strconv.ParseInt(q.Get(name), 10, 64)
		return n, true, err == nil && n >= 0
	}
	before, hasBefore, ok1 := num("before")
	after, hasAfter, ok2 := num("after")
	limit, hasLimit, ok3 := num("limit")
	if !ok1 || !ok2 || !ok3 || (hasLimit && (limit < 1 || limit > 1000)) || (hasBefore && hasAfter) {
		return nil, false
	}
	if !hasLimit {
		limit = fs.historyLimit
	}
	out := []int64{}
	if hasAfter {
		for s := after + 1; s <= fs.max && s > 0 && int64(len(out)) < limit; s++ {
			out = append(out, s)
		}
		return out, true
	}
	top := fs.max
	if before > 0 {
		top = min(before-1, fs.max)
	}
	for s := top; s >= 1 && int64(len(out)) < limit; s-- {
		out = append(out, s)
	}
	return out, true
}

// TestFuzzFindings keeps what the fuzz targets found as plain scenarios:
// member names that differ only in case, null bodies and empty query
// parameters are refused with 400 rather than taken.
func TestFuzzFindings(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	root := admin(t, ts)
	key := newKey(t, ts, root, "findings", "publish", "rooms").Key
	alice := signUp(t, ts, "alice")
	runScenarios(t, ts, []scenario{
		{name: "make lobby", method: "POST", path: "/api/v1/rooms", body: `{"name":"lobby"}`, token: root, want: 201},
		{name: "field name in another case", method: "POST", path: "/api/v1/rooms/lobby/messages", body: `{"TEXT":"hi"}`,
			token: key, want: 400, contains: []string{`unknown field \"TEXT\"`, "case-sensitive"}},
		{name: "nested field name in another case", method: "POST", path: "/api/v1/messages",
			body: `{"messages":[{"room":"lobby","Text":"hi"}]}`, token: key, want: 400, contains: []string{"case-sensitive"}},
		{name: "null body where one is optional", method: "DELETE", path: "/api/v1/connections/" + alice.User.ID, body: `null`,
			token: root, want: 400, contains: []string{"must be a JSON object"}},
		{name: "empty limit", method: "GET", path: "/api/v1/notifications?limit=", token: alice.AccessToken, want: 400,
			contains: []string{"limit is empty"}},
		{name: "empty unread", method: "GET", path: "/api/v1/notifications?unread", token: alice.AccessToken, want: 400},
		{name: "empty audit action", method: "GET", path: "/api/v1/admin/audit?action=", token: root, want: 400,
			contains: []string{"action is empty"}},
		{name: "exact names still pass", method: "POST", path: "/api/v1/rooms/lobby/messages", body: `{"text":"hi"}`,
			token: key, want: 201},
	})
}
