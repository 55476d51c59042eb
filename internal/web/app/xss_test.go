package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testutil"
)

// xssCorpus is text that would run script, inject elements or turn the
// page around if any of it were inserted as markup or used as a link.
var xssCorpus = []string{
	`<img src=x onerror=alert(1)>`,
	`<svg onload=alert(1)>`,
	`<script>alert(1)</script>`,
	`javascript:alert(1)`,
	`[click me](javascript:alert(1))`,
	`<a href="javascript:alert(1)">link</a>`,
	`"><img src=x onerror=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`see http://example.com/?q=<b>x</b>" onmouseover="alert(1)`,
	"\u202egnp.exe\u202c and \u2067isolated\u2069 text",
	`<style>body{display:none}</style>`,
}

// TestBrowserXSS: hostile text in messages, a display name and a room
// topic shows as exactly that text, with no dialog, no element injected,
// no link but http(s) ones (rel noopener), and a bidi override confined
// to its message.
func TestBrowserXSS(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	evil := `<img src=x onerror=alert(7)>`
	res, err := http.Post(ts.URL+"/api/v1/auth/register", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":"mallory","password":%s,"display_name":%s}`, js(password), js(evil))))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("register mallory: %v %v", err, res)
	}
	res.Body.Close()
	malloryToken := login(t, ts.URL, "mallory")
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/rooms", strings.NewReader(`{"name":"xss","topic":"<svg onload=alert(3)>"}`))
	req.Header.Set("Authorization", "Bearer "+malloryToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create the room: %v %v", err, res)
	}
	res.Body.Close()

	alice := newTab(t, "alice", 1200, 800)
	dialogs := alice.dialogs()
	alice.signUp(ts.URL, "alice")
	alice.joinRoom("xss")
	mallory := ts.DialToken(t, "/ws/xss", malloryToken)
	mallory.Expect("joined", "unread", "notifications")
	for i, text := range xssCorpus {
		mallory.Send("chat", fmt.Sprint("x", i), map[string]string{"room": "xss", "text": text})
		mallory.Expect("ack", "presence", "typing", "read", "message")
	}
	alice.waitMessages(xssCorpus...)
	// Her own message takes the other path: shown while sending, then stored.
	alice.say(`<img src=x onerror=alert(2)>`)
	alice.waitMessages(append(append([]string{}, xssCorpus...), `<img src=x onerror=alert(2)>`)...)
	// And a private conversation names mallory by her display name.
	mallory.Send("private", "p1", map[string]string{"to": userID(t, ts.URL, malloryToken, "alice"), "text": `<svg onload=alert(4)>`})
	mallory.Expect("ack", "presence", "typing", "read", "message")
	alice.waitFor("the conversation listed", `document.getElementById("dm-list").textContent.includes(`+js(evil)+`)`)
	alice.screenshot("xss")

	if got := eval[string](alice, `document.getElementById("room-topic").textContent`); got != "<svg onload=alert(3)>" {
		t.Errorf("topic shown as %q", got)
	}
	if got := eval[[]string](alice, `[...document.querySelectorAll("#timeline .author")].map((e) => e.textContent).slice(0, 1)`); len(got) != 1 || got[0] != evil {
		t.Errorf("author shown as %q, want %q", got, evil)
	}
	injected := eval[int](alice, `document.querySelectorAll("#timeline img, #timeline svg, #timeline script, #timeline iframe, #timeline style, #timeline b, #sidebar img, #sidebar svg, #room-h svg, #room-h img").length`)
	if injected != 0 {
		t.Errorf("%d elements were injected into the page", injected)
	}
	links := eval[[]string](alice, `[...document.querySelectorAll("#timeline a")].map((a) => a.protocol + " " + a.href + " " + a.rel)`)
	if len(links) != 1 || links[0] != "http: http://example.com/?q= noopener noreferrer nofollow" {
		t.Errorf("links in messages: %q, want the one http link, stopping at '<', with noopener", links)
	}
	// The bidi override is confined to its message's text: the author and
	// time beside it read as written.
	if got := eval[string](alice, `getComputedStyle(document.querySelector("#timeline .text")).unicodeBidi`); got != "isolate" {
		t.Errorf("message text has unicode-bidi %q, want isolate", got)
	}
	// A last round trip gives any injected handler time to have run.
	alice.say("done")
	alice.waitFor("the last message", `[...document.querySelectorAll("#timeline .text")].some((e) => e.textContent === "done")`)
	if d := dialogs(); len(d) > 0 {
		t.Fatalf("the page opened dialogs: %q", d)
	}
	if title := eval[string](alice, `document.title`); !strings.HasPrefix(title, "Parley") && !strings.HasSuffix(title, "Parley") {
		t.Errorf("page title %q", title)
	}
}

// login signs a user in over the API and returns the access token.
func login(t *testing.T, base, username string) string {
	t.Helper()
	res, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":%s,"password":%s}`, js(username), js(password))))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %v %v", username, err, res)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := decode(res, &tok); err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return tok.AccessToken
}

// userID looks a username up over the API.
func userID(t *testing.T, base, token, username string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/users/"+username, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("look up %s: %v %v", username, err, res)
	}
	defer res.Body.Close()
	var u struct {
		ID string `json:"id"`
	}
	if err := decode(res, &u); err != nil {
		t.Fatalf("look up %s: %v", username, err)
	}
	return u.ID
}

func decode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
