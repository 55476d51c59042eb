package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/testutil"
)

// badge is the unread badge of a sidebar entry ("" for none), by room key.
func badgeJS(key string) string {
	return `(document.querySelector('#sidebar a[data-key=` + js(key) + `] .badge')?.textContent ?? "")`
}

// unreadOf asks the API how many unread messages a user has in a room.
func unreadOf(t *testing.T, base, token, room string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/unread", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/unread: %v", err)
	}
	defer res.Body.Close()
	var body struct {
		Rooms []struct {
			Room   string `json:"room"`
			Unread int    `json:"unread"`
		} `json:"rooms"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET /api/v1/unread: %v", err)
	}
	for _, r := range body.Rooms {
		if r.Room == room {
			return r.Unread
		}
	}
	return -1
}

// TestBrowserPrivateAndUnread: a private room made in the app and an
// invitation by username reach the invitee at once and nobody else; a
// private message reaches only its recipient; unread badges count what
// arrives in rooms not open, and clear when the room is opened, for good
// (the read marker is stored: a reload shows none).
func TestBrowserPrivateAndUnread(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	bobToken, _ := signUpAPI(t, ts.URL, "bob")
	alice := newTab(t, "alice", 1200, 800)
	bob := newTab(t, "bob", 1200, 800)
	carol := newTab(t, "carol", 1200, 800)
	alice.signUp(ts.URL, "alice")
	bob.signIn(ts.URL, "bob", false)
	carol.signUp(ts.URL, "carol")
	for _, p := range []*tab{alice, bob, carol} {
		p.joinRoom("lobby")
	}

	// A private room, and bob invited to it by name.
	alice.do(
		chromedp.Click(chromedp.CSS("#new-room")),
		chromedp.SendKeys(chromedp.CSS(`#dlg-create input[name=name]`), "secret"),
		chromedp.SendKeys(chromedp.CSS(`#dlg-create input[name=topic]`), "plans"),
		chromedp.Click(chromedp.CSS(`#dlg-create input[name=private]`)),
		chromedp.Click(chromedp.CSS(`#dlg-create button[type=submit]`)),
	)
	alice.waitFor("the private room open", `document.getElementById("room-title").textContent === "🔒 secret" && document.getElementById("room-topic").textContent === "plans"`)
	alice.do(
		chromedp.Click(chromedp.CSS("#invite")),
		chromedp.SendKeys(chromedp.CSS(`#dlg-invite input[name=username]`), "bob"),
		chromedp.Click(chromedp.CSS(`#dlg-invite button[type=submit]`)),
	)
	alice.waitFor("the invitation done", `document.querySelector("#dlg-invite .ok").textContent.startsWith("bob")`)
	alice.do(chromedp.Click(chromedp.CSS(`#dlg-invite button[value=cancel]`)))
	bob.waitFor("the room he was invited to", `document.querySelector('#sidebar a[data-key="secret"]') !== null`)

	// Unread: alice writes in secret while bob has lobby open.
	for _, text := range []string{"one", "two", "three"} {
		alice.say(text)
	}
	alice.waitMessages("one", "two", "three")
	bob.waitFor("a badge of 3", badgeJS("secret")+` === "3"`)
	bob.waitFor("the count in the title", `document.title === "(3) Parley"`)
	bob.screenshot("unread")
	if got := eval[string](carol, `document.getElementById("room-list").textContent`); strings.Contains(got, "secret") {
		t.Fatalf("carol's room list shows the private room: %q", got)
	}
	bob.do(chromedp.Click(chromedp.CSS(`#sidebar a[data-key="secret"]`)))
	bob.waitMessages("one", "two", "three")
	bob.waitFor("the badge cleared", badgeJS("secret")+` === "" && document.title === "Parley"`)
	testutil.Eventually(t, wait, func() bool { return unreadOf(t, ts.URL, bobToken, "secret") == 0 }, "bob's read marker stored")
	bob.do(chromedp.Navigate(ts.URL + "/#/r/lobby"))
	bob.do(chromedp.Reload())
	bob.waitFor("the room list after a reload", `document.querySelector('#sidebar a[data-key="secret"]') !== null`)
	if b := eval[string](bob, badgeJS("secret")); b != "" {
		t.Fatalf("after a reload, secret has a badge %q; it was read", b)
	}

	// A private message: alice to bob; bob sees it counted, carol nowhere.
	alice.do(
		chromedp.Click(chromedp.CSS("#new-dm")),
		chromedp.SendKeys(chromedp.CSS(`#dlg-dm input[name=username]`), "bob"),
		chromedp.Click(chromedp.CSS(`#dlg-dm button[type=submit]`)),
	)
	alice.waitFor("the conversation open", `document.getElementById("room-title").textContent === "@bob"`)
	alice.say("psst, bob")
	alice.waitMessages("psst, bob")
	bob.waitFor("the conversation with a badge", `[...document.querySelectorAll("#dm-list a")].some((a) => a.textContent.startsWith("@alice") && a.querySelector(".badge")?.textContent === "1")`)
	bob.do(chromedp.Click(chromedp.CSS(`#dm-list a`)))
	bob.waitMessages("psst, bob")
	bob.say("what is it?")
	alice.waitMessages("psst, bob", "what is it?")
	bob.screenshot("private")
	if got := carol.text(); strings.Contains(got, "psst") || strings.Contains(got, "what is it") || !strings.Contains(got, "No conversations yet") {
		t.Fatalf("carol's page shows the private conversation:\n%s", got)
	}
}
