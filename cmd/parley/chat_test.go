package main

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/testutil"
)

// screen collects what a program writes to its terminal, without the
// escape sequences that draw it.
type screen struct {
	mu  sync.Mutex
	raw strings.Builder
}

var escapes = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHM])`)

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.Write(p)
}

// text returns everything written so far, as plain text.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return escapes.ReplaceAllString(s.raw.String(), "")
}

// waitFor waits until the screen has shown want.
func (s *screen) waitFor(t *testing.T, want string) {
	t.Helper()
	testutil.Eventually(t, cmdWait, func() bool { return strings.Contains(s.text(), want) },
		"the terminal never showed %q; it showed:\n%s", want, tail(s.text(), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestChatInATerminal runs parley chat in a pseudo-terminal: it shows the
// room's backlog, another member's messages, presence and typing, and
// what is typed on its input line reaches the other member.
func TestChatInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	ts := testutil.StartServer(t, nil)
	ctx := context.Background()
	bob, err := client.Dial(ctx, ts.WSURL+"/ws", client.Options{Name: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if _, err := bob.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, "lobby", "an earlier message"); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(buildParley(t), "chat", "--server", ts.URL, "--guest", "alice", "Lobby")
	cmd.Env = binEnv(t, "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	var scr screen
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&scr, tty) // ends with an error when the program exits
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = tty.Close()
		<-copied
	})

	scr.waitFor(t, "#lobby")
	scr.waitFor(t, "bob: an earlier message")
	// Bob sees alice arrive, and what she types.
	next := func(want client.EventType) client.Event {
		t.Helper()
		timeout := time.After(cmdWait)
		for {
			select {
			case ev := <-bob.Events():
				if ev.Type == want {
					return ev
				}
			case <-timeout:
				t.Fatalf("bob got no %s event", want)
			}
		}
	}
	if ev := next(client.EventPresence); ev.Presence.User.Name != "alice" || ev.Presence.Event != "join" {
		t.Fatalf("presence %+v", ev.Presence)
	}
	if _, err := tty.Write([]byte("hello from the terminal")); err != nil {
		t.Fatal(err)
	}
	if ev := next(client.EventTyping); ev.Typing.User.Name != "alice" || ev.Typing.State != "start" {
		t.Fatalf("typing %+v", ev.Typing)
	}
	if _, err := tty.Write([]byte("\r")); err != nil {
		t.Fatal(err)
	}
	ev := next(client.EventMessage)
	if m := ev.Message; m.Text != "hello from the terminal" || m.From.Name != "alice" || ev.Room != "lobby" {
		t.Fatalf("bob got %+v", m)
	}
	scr.waitFor(t, "alice: hello from the terminal")

	// Bob's typing and message show up on alice's screen.
	if err := bob.Typing(ctx, "lobby", true); err != nil {
		t.Fatal(err)
	}
	scr.waitFor(t, "bob is typing…")
	if _, err := bob.Send(ctx, "lobby", "hi alice"); err != nil {
		t.Fatal(err)
	}
	scr.waitFor(t, "bob: hi alice")

	// Ctrl-C leaves, with exit status 0.
	if _, err := tty.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("chat ended with %v", err)
		}
	case <-time.After(cmdWait):
		t.Fatal("chat did not end on Ctrl-C")
	}
	if ev := next(client.EventPresence); ev.Presence.Event != "leave" {
		t.Fatalf("presence %+v, want alice's leave", ev.Presence)
	}
}

// TestChatNeedsATerminal: without one, chat says what to use instead.
func TestChatNeedsATerminal(t *testing.T) {
	_, stderr, code := runIn(nil, "chat", "--guest", "x", "lobby")
	if code != 1 || stderr != "parley chat: chat needs a terminal; in scripts, use parley send and parley listen\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
