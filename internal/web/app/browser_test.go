package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the real web app in a real Chromium (Debian's
// chromium package) against a real server. One browser process serves the
// whole package; each user gets a browser context of their own (separate
// storage, like a separate profile), with a fresh profile directory for
// the process. They skip, saying how to run them, when there is no
// Chromium, and with -short.

// envChromium names the variable that points the tests at a Chromium
// binary other than the one on PATH.
const envChromium = "PARLEY_CHROMIUM"

// envArtifacts names the folder where the tests write screenshots; by
// default testdata/artifacts (gitignored).
const envArtifacts = "PARLEY_TEST_ARTIFACTS"

// wait bounds every wait for something to appear in a page.
const wait = 15 * time.Second

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

func chromiumPath() string {
	if p := os.Getenv(envChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser returns the package's browser, starting it the first time.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium found: install it (apt-get install -y chromium) or set " + envChromium + " to its path to run the browser tests")
	}
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			// As root (CI, containers) Chromium refuses to start with its sandbox.
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.WindowSize(1200, 800),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCtx = ctx
		browserCancel = func() {
			cancelCtx()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		// The first run starts the browser; it must use the context itself,
		// not one derived with a deadline, whose end would close it.
		browserErr = chromedp.Do(ctx)
	})
	if browserErr != nil {
		t.Fatalf("start Chromium: %v", browserErr)
	}
	return browserCtx
}

// page is one person's tab, in a browser context of its own.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// newTab opens a tab in a new browser context, width × height CSS pixels.
func newTab(t *testing.T, name string, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &tab{t: t, ctx: ctx, name: name}
	// Open the tab with its own context (see browser), then size it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p.do(chromedp.EmulateViewport(width, height))
	return p
}

func (p *tab) run(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// do runs actions, failing the test (with a screenshot) if one fails.
func (p *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := p.run(wait, actions...); err != nil {
		p.screenshot("failed-" + p.name)
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value into T.
func eval[T any](p *tab, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, js, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy in the page.
func (p *tab) waitFor(what, js string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(wait)))
	if err != nil {
		p.screenshot("failed-" + p.name)
		p.t.Fatalf("%s: waiting for %s (%s): %v\npage text: %s", p.name, what, js, err, p.text())
	}
}

// text is the visible text of the page, for failure messages.
func (p *tab) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	return s
}

// js writes v as a JavaScript literal (JSON, with "<" and ">" as they are:
// the page compares them with its own text).
func js(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// screenshot writes a PNG of the tab to the artifacts folder.
func (p *tab) screenshot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv(envArtifacts)
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

// darkMode makes the page prefer a dark colour scheme.
func (p *tab) darkMode(on bool) {
	p.t.Helper()
	value := "light"
	if on {
		value = "dark"
	}
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}},
		})
		return err
	}))
}

// dialogs counts the JavaScript dialogs (alert, confirm, prompt) the page
// opens from now on, dismissing each.
func (p *tab) dialogs() func() []string {
	var mu sync.Mutex
	var seen []string
	events := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// open loads the app at base (plus a route such as "#/r/lobby").
func (p *tab) open(base, route string) {
	p.t.Helper()
	p.do(chromedp.Navigate(base + "/" + route))
}

// signUp creates an account through the sign-up form and waits for the chat.
func (p *tab) signUp(base, username string) {
	p.t.Helper()
	p.open(base, "")
	p.do(
		chromedp.WaitVisible(chromedp.CSS("#tab-register")),
		chromedp.Click(chromedp.CSS("#tab-register")),
		chromedp.SendKeys(chromedp.CSS(`#form-register input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`#form-register input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`#form-register button[type=submit]`)),
	)
	p.waitFor("the chat screen", `document.body.dataset.screen === "chat" && document.getElementById("me-name").textContent !== ""`)
}

// signIn signs in through the form.
func (p *tab) signIn(base, username string, stay bool) {
	p.t.Helper()
	p.open(base, "")
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS("#form-login")),
		chromedp.SendKeys(chromedp.CSS(`#form-login input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`#form-login input[name=password]`), password),
	}
	if stay {
		actions = append(actions, chromedp.Click(chromedp.CSS(`#form-login input[name=stay]`)))
	}
	p.do(append(actions, chromedp.Click(chromedp.CSS(`#form-login button[type=submit]`)))...)
	p.waitFor("the chat screen", `document.body.dataset.screen === "chat" && document.getElementById("me-name").textContent !== ""`)
}

// joinRoom joins (or creates) a public room through the Find dialog and waits until it is open.
func (p *tab) joinRoom(name string) {
	p.t.Helper()
	p.do(
		chromedp.Click(chromedp.CSS("#find-room")),
		chromedp.WaitVisible(chromedp.CSS(`#dlg-find input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`#dlg-find input[name=name]`), name),
		chromedp.Click(chromedp.CSS(`#dlg-find button[type=submit]`)),
	)
	p.waitFor("room "+name+" open", `document.getElementById("room-title").textContent.endsWith(`+js(name)+`) && !document.getElementById("composer").hidden`)
}

// say types text in the composer and sends it with the Send button.
// (Enter sends too, see TestBrowserChat; a synthetic Enter also types a
// line break the page cannot cancel, which would linger in the input.)
func (p *tab) say(text string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.CSS("#input"), text), chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)))
}

// messages is the text of every stored message in the open timeline, in order.
func (p *tab) messages() []string {
	return eval[[]string](p, `[...document.querySelectorAll("#timeline li.msg:not(.pending) .text")].map((e) => e.textContent)`)
}

// waitMessages waits until the open timeline's messages are exactly want.
func (p *tab) waitMessages(want ...string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("messages %q", want), `JSON.stringify([...document.querySelectorAll("#timeline li.msg:not(.pending) .text")].map((e) => e.textContent)) === JSON.stringify(`+js(want)+`)`)
}

const password = "correct horse battery"

// signUpAPI makes an account over the HTTP API and returns its tokens.
func signUpAPI(t *testing.T, base, username string) (accessToken, userID string) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%s,"password":%s}`, js(username), js(password))
	res, err := http.Post(base+"/api/v1/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&tok) != nil {
		t.Fatalf("register %s: status %d", username, res.StatusCode)
	}
	return tok.AccessToken, tok.User.ID
}

// console records what the page logs from now on: errors, warnings and
// uncaught exceptions (a CSP or Trusted Types violation is one of them).
func (p *tab) console() func() []string {
	var mu sync.Mutex
	var seen []string
	messages := chromedp.Console(p.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				seen = append(seen, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// call makes an HTTP API request with a bearer token and a JSON body
// (body "" for none), and returns the status and the answer.
func call(t *testing.T, base, method, path, token, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}
