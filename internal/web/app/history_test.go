package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestBrowserHistory: a room with 130 messages opens on the newest page;
// scrolling up brings the older pages in order, keeping the message that
// was on top where it was, down to "the start of" the room. A message the
// server refuses shows "Not sent" with Retry and Discard.
func TestBrowserHistory(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	rootToken, rootID := signUpAPI(t, ts.URL, "root")
	ts.SetAdmin(t, rootID)
	rootToken = login(t, ts.URL, "root")
	if status, body := call(t, ts.URL, "POST", "/api/v1/rooms", rootToken, `{"name":"history"}`); status != http.StatusCreated {
		t.Fatalf("create the room: %d %s", status, body)
	}
	status, body := call(t, ts.URL, "POST", "/api/v1/admin/keys", rootToken, `{"name":"bot","scopes":["publish"]}`)
	var key struct {
		Key string `json:"key"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &key) != nil {
		t.Fatalf("create a key: %d %s", status, body)
	}
	var want []string
	for from := 1; from <= 130; from += 100 {
		var batch []string
		for i := from; i < from+100 && i <= 130; i++ {
			want = append(want, fmt.Sprintf("m %d", i))
			batch = append(batch, fmt.Sprintf(`{"room":"history","text":"m %d"}`, i))
		}
		if status, body := call(t, ts.URL, "POST", "/api/v1/messages", key.Key, `{"messages":[`+strings.Join(batch, ",")+`]}`); status != http.StatusOK {
			t.Fatalf("post messages: %d %s", status, body)
		}
	}

	p := newTab(t, "alice", 1200, 800)
	p.signUp(ts.URL, "alice")
	p.do(chromedp.Navigate(ts.URL + "/#/r/history"))
	p.waitMessages(want[80:]...)
	if end := eval[bool](p, `(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight < 5; })()`); !end {
		t.Error("the room did not open scrolled to its newest message")
	}
	for _, page := range [][]string{want[30:], want} {
		top := eval[string](p, `document.querySelector("#timeline li.msg .text").textContent`)
		// Scroll to the top and measure where the top message is then, in
		// one go: the page asks for older messages only after this.
		before := eval[float64](p, `(() => { document.getElementById("scroller").scrollTop = 0;
			return document.querySelector("#timeline li.msg").getBoundingClientRect().top; })()`)
		p.waitMessages(page...)
		after := eval[float64](p, `[...document.querySelectorAll("#timeline li.msg")].find((li) => li.querySelector(".text").textContent === `+js(top)+`).getBoundingClientRect().top`)
		if diff := after - before; diff < -2 || diff > 2 {
			t.Errorf("the message on top (%s) moved by %.0f px when older ones came in", top, diff)
		}
	}
	p.waitFor("the start of the room", `!document.getElementById("start").hidden && document.getElementById("older").hidden && document.getElementById("start").textContent === "This is the start of history."`)
	p.screenshot("history-start")

	// A refused send: longer than the server allows (typing cannot go past
	// the input's maxlength; a script can).
	p.do(
		chromedp.Evaluate[chromedp.Void](`document.getElementById("input").value = "x".repeat(4001)`),
		chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)),
	)
	failed := `document.querySelector("#timeline li.failed .status")?.textContent.startsWith("Not sent: the message is too long.")`
	p.waitFor("the failed message", failed)
	p.do(chromedp.Click(chromedp.CSS(`#timeline li.failed .status button`))) // Retry
	p.waitFor("the retry to fail too", failed+` && document.querySelectorAll("#timeline li.pending").length === 1`)
	p.screenshot("failed-send")
	p.do(chromedp.Click(chromedp.CSS(`#timeline li.failed .status button:last-child`))) // Discard
	p.waitFor("the failed message discarded", `document.querySelectorAll("#timeline li.pending").length === 0`)
	p.say("short enough")
	p.waitFor("the message stored", `[...document.querySelectorAll("#timeline li.msg:not(.pending) .text")].at(-1).textContent === "short enough"`)
}
