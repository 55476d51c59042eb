package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

// TestBrowserSignIn: a person signs up, reloads and is still signed in
// (the tab's sessionStorage), signs out, signs in again; a guest enters
// with a name and is the same guest, in the same rooms, after a reload; a
// server without guests offers no guest tab; a look-alike username is
// refused in the server's words. The page logs
// no error (a CSP or Trusted Types violation would be one).
func TestBrowserSignIn(t *testing.T) {
	ts := testutil.StartServer(t, nil)
	p := newTab(t, "alice", 1200, 800)
	logged := p.console()
	p.signUp(ts.URL, "alice")
	p.screenshot("chat-empty")
	if got := eval[string](p, `document.getElementById("me-name").textContent`); got != "alice" {
		t.Fatalf("signed in as %q, want alice", got)
	}
	if got := eval[string](p, `JSON.parse(sessionStorage.getItem("parley.session")).kind + "," + (localStorage.getItem("parley.session") === null)`); got != "account,true" {
		t.Fatalf("stored session: %s, want an account in sessionStorage and nothing in localStorage", got)
	}
	p.do(chromedp.Reload())
	p.waitFor("the chat after a reload", `document.body.dataset.screen === "chat" && document.getElementById("me-name").textContent === "alice"`)

	p.do(chromedp.Click(chromedp.CSS("#signout")))
	p.waitFor("the sign-in screen", `document.body.dataset.screen === "signin" && !document.getElementById("form-login").hidden`)
	if got := eval[bool](p, `sessionStorage.getItem("parley.session") === null`); !got {
		t.Fatal("the session is still stored after signing out")
	}
	p.screenshot("signin")
	// A wrong password is refused with a sentence, not a code.
	p.do(
		chromedp.SendKeys(chromedp.CSS(`#form-login input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#form-login input[name=password]`), "wrong password"),
		chromedp.Click(chromedp.CSS(`#form-login button[type=submit]`)),
	)
	p.waitFor("the error", `document.querySelector("#form-login .error").textContent === "Wrong username or password."`)
	// A look-alike of a taken name (Cyrillic а) is refused with the
	// server's sentence, which names the taken name.
	p.do(
		chromedp.Click(chromedp.CSS("#tab-register")),
		chromedp.SendKeys(chromedp.CSS(`#form-register input[name=username]`), "\u0430lice"),
		chromedp.SendKeys(chromedp.CSS(`#form-register input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`#form-register button[type=submit]`)),
	)
	p.waitFor("the look-alike error", `document.querySelector("#form-register .error").textContent.includes('looks too much like the existing username "alice"')`)

	p.signIn(ts.URL, "alice", true)
	if got := eval[bool](p, `localStorage.getItem("parley.session") !== null && sessionStorage.getItem("parley.session") === null`); !got {
		t.Fatal(`"stay signed in" did not keep the session in localStorage`)
	}
	p.do(chromedp.Click(chromedp.CSS("#signout")))
	p.waitFor("the sign-in screen", `document.body.dataset.screen === "signin"`)

	g := newTab(t, "guest", 1200, 800)
	g.open(ts.URL, "")
	g.do(
		chromedp.Click(chromedp.CSS("#tab-guest")),
		chromedp.SendKeys(chromedp.CSS(`#form-guest input[name=name]`), "visitor"),
		chromedp.Click(chromedp.CSS(`#form-guest button[type=submit]`)),
	)
	g.waitFor("the guest in the chat", `document.getElementById("me-name").textContent === "visitor (guest)"`)
	g.joinRoom("lobby")
	g.say("hello as a guest")
	g.waitMessages("hello as a guest")
	// A reload comes back as the same guest (the guest token), in the same rooms.
	g.do(chromedp.Reload())
	g.waitFor("the guest's room after a reload", `document.getElementById("me-name").textContent === "visitor (guest)" && document.querySelector('#sidebar a[data-key="lobby"]') !== null`)
	g.waitMessages("hello as a guest")
	if mine := eval[int](g, `document.querySelectorAll("#timeline li.mine").length`); mine != 1 {
		t.Errorf("after a reload the guest's own message is not shown as theirs (%d mine): a new guest?", mine)
	}

	closed := testutil.StartServer(t, func(c *config.Config) { c.Guests = false })
	p.open(closed.URL, "")
	p.waitFor("the sign-in screen", `document.body.dataset.screen === "signin" && !document.getElementById("tab-register").hidden`)
	if hidden := eval[bool](p, `document.getElementById("tab-guest").hidden`); !hidden {
		t.Error("a server without guests shows the guest tab")
	}
	if errs := logged(); len(errs) > 0 {
		// A refused sign-in (401) or sign-up (409) is logged by the
		// browser; nothing else may appear.
		for _, e := range errs {
			if !strings.Contains(e, "401") && !strings.Contains(e, "409") {
				t.Errorf("the page logged: %s", e)
			}
		}
	}
}
