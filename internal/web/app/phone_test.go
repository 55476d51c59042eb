package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/testutil"
)

// noHorizontalScroll is true when the page is no wider than the screen.
const noHorizontalScroll = `document.documentElement.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth`

// inputReachable is true when the message input is on screen, whole.
const inputReachable = `(() => { const r = document.getElementById("input").getBoundingClientRect();
  return r.width > 100 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight; })()`

// TestBrowserPhone: at 390 CSS pixels (a phone), in light and dark, the
// sign-in screen, the room list and a room fit the width with no
// horizontal scroll, the input is on screen and reachable with the Tab
// key, and long words and links wrap instead of widening the page.
func TestBrowserPhone(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	p := newTab(t, "phone", 390, 844)
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
	p.open(ts.URL, "")
	p.waitFor("the sign-in screen", `document.body.dataset.screen === "signin"`)
	p.waitFor("no horizontal scroll on the sign-in screen", noHorizontalScroll)
	p.screenshot("phone-signin")

	p.signUp(ts.URL, "alice")
	p.waitFor("the room list alone", `getComputedStyle(document.getElementById("sidebar")).display !== "none" && getComputedStyle(document.getElementById("room")).display === "none"`)
	p.joinRoom("lobby")
	p.waitFor("the room alone", `getComputedStyle(document.getElementById("sidebar")).display === "none"`)
	p.say("a-very-long-word-" + strings.Repeat("x", 120))
	p.say("https://example.com/" + strings.Repeat("path/", 30))
	p.say("hello from a phone")
	p.waitFor("three messages", `document.querySelectorAll("#timeline li.msg:not(.pending)").length === 3`)
	p.waitFor("no horizontal scroll in the room", noHorizontalScroll+` && document.getElementById("scroller").scrollWidth <= document.getElementById("scroller").clientWidth`)
	p.waitFor("the input on screen", inputReachable)
	p.screenshot("phone-room")

	// The keyboard reaches the input: Tab from the top of the page.
	p.do(chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`))
	reached := false
	for range 40 {
		p.do(chromedp.KeyEvent("\t"))
		if eval[bool](p, `document.activeElement?.id === "input"`) {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reached the message input")
	}

	p.darkMode(true)
	p.waitFor("dark colours", `getComputedStyle(document.body).backgroundColor === "rgb(22, 24, 29)"`)
	p.screenshot("phone-room-dark")
	p.do(chromedp.Click(chromedp.CSS("#back")))
	p.waitFor("the room list again", `getComputedStyle(document.getElementById("sidebar")).display !== "none"`)
	p.waitFor("no horizontal scroll in the list", noHorizontalScroll)
	p.screenshot("phone-list-dark")
	p.darkMode(false)
}
