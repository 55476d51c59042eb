package app_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestBrowserChat: two people sign up in two browser contexts, join a
// room and chat both ways; the typing indicator appears and clears; who
// is online is listed; a message is edited, reacted to and deleted, and
// the other side sees each change; a read receipt reaches the sender.
// It also measures the time from opening "/" to the first message shown.
func TestBrowserChat(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	alice := newTab(t, "alice", 1200, 800)
	bob := newTab(t, "bob", 1200, 800)
	alice.signUp(ts.URL, "alice")
	bob.signUp(ts.URL, "bob")
	alice.joinRoom("lobby")
	bob.joinRoom("lobby")
	alice.waitFor("bob online", `document.getElementById("show-members").textContent === "2 online"`)

	// Enter sends.
	alice.do(chromedp.SendKeys(chromedp.CSS("#input"), "hello bob"), chromedp.KeyEvent("\r"))
	bob.waitMessages("hello bob")
	alice.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("input").value = ""`))
	bob.say("hi alice")
	alice.waitMessages("hello bob", "hi alice")
	bob.waitMessages("hello bob", "hi alice")
	if pending := eval[int](alice, `document.querySelectorAll("#timeline li.pending").length`); pending != 0 {
		t.Fatalf("%d messages still pending after their ack", pending)
	}
	if sent := eval[string](alice, `[...document.querySelectorAll("#timeline li.msg .sent")].map((e) => e.closest("li").querySelector(".text").textContent).join()`); sent != "hello bob" {
		t.Fatalf("messages marked sent: %q, want alice's own one only", sent)
	}

	// Typing shows on the other side, and clears when the input is cleared.
	bob.do(chromedp.SendKeys(chromedp.CSS("#input"), "typing something"))
	alice.waitFor("bob is typing", `document.getElementById("typing").textContent === "bob is typing…"`)
	alice.screenshot("chat-typing")
	bob.do(chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById("input"); i.value = ""; i.dispatchEvent(new Event("input")); })()`))
	alice.waitFor("the typing indicator to clear", `document.getElementById("typing").textContent === ""`)

	// Edit: alice changes her message; bob sees the new text, marked edited.
	alice.do(
		chromedp.Click(chromedp.CSS(`#timeline li.mine button[aria-label=Edit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline .edit-input`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#timeline .edit-input").value = ""`),
		chromedp.SendKeys(chromedp.CSS(`#timeline .edit-input`), "hello bob, again"),
		chromedp.KeyEvent("\r"),
	)
	bob.waitMessages("hello bob, again", "hi alice")
	bob.waitFor("the edited mark", `document.querySelector("#timeline li.msg .edited") !== null`)

	// Reaction: bob reacts to alice's message; both see it, alice's count is 1.
	bob.do(
		chromedp.Click(chromedp.CSS(`#timeline li.msg:not(.mine) button[aria-label=React]`)),
		chromedp.Click(chromedp.CSS(`#timeline .picker button`)),
	)
	alice.waitFor("bob's reaction", `[...document.querySelectorAll("#timeline li.mine .reaction")].some((b) => b.textContent === "👍 1")`)
	bob.waitFor("his own reaction pressed", `document.querySelector("#timeline .reaction[aria-pressed=true]") !== null`)

	// Read receipt: alice has the room open, so bob's message is read; bob sees it.
	bob.waitFor("seen by alice", `[...document.querySelectorAll("#timeline li.mine .seen")].some((p) => !p.hidden && p.textContent === "Seen by alice")`)
	bob.screenshot("chat")

	// Delete: bob deletes his message; alice sees it deleted.
	bob.do(
		chromedp.Click(chromedp.CSS(`#timeline li.mine button[aria-label=Delete]`)),
		chromedp.Click(chromedp.CSS(`#timeline .confirm button.danger`)),
	)
	alice.waitMessages("hello bob, again", "This message was deleted.")

	// Time to the first message: a fresh load of the room (a reload: the
	// same URL with a fragment would not load the page again), read from
	// the app's performance marks, which count from the start of the
	// navigation. Once with the browser's cache emptied, once warm.
	for _, cold := range []bool{true, false} {
		if cold {
			alice.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{})
				return err
			}))
		}
		alice.do(chromedp.Reload())
		alice.waitFor("the first message", `performance.getEntriesByName("parley:first-message").length > 0`)
		ms := eval[float64](alice, `performance.getEntriesByName("parley:first-message")[0].startTime`)
		connected := eval[float64](alice, `performance.getEntriesByName("parley:connected")[0]?.startTime ?? -1`)
		t.Logf("time from opening the page to the first message shown (cache emptied: %v): %.0f ms (connected after %.0f ms)", cold, ms, connected)
	}
}
