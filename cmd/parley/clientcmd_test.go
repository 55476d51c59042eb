package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

const cmdWait = 10 * time.Second

// binEnv is the environment of the client commands under test: the test's
// own, without the credentials a developer may have set, plus extra.
func binEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "PARLEY_SERVER", "PARLEY_TOKEN", "PARLEY_USER", "PARLEY_PASSWORD":
		default:
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runBin runs the built binary to its end with stdin as its standard
// input and returns what it wrote and its exit status.
func runBin(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildParley(t), args...)
	cmd.Env = binEnv(t, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run parley %v: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

// watcher dials ts as a guest that joins room, to see what the commands
// under test send.
func watcher(t *testing.T, ts *testutil.TestServer, room string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdWait)
	defer cancel()
	c, err := client.Dial(ctx, ts.WSURL+"/ws", client.Options{Name: "watcher", Reconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	return c
}

// nextMessage returns the next message event of c.
func nextMessage(t *testing.T, c *client.Client) *client.Message {
	t.Helper()
	timeout := time.After(cmdWait)
	for {
		select {
		case ev := <-c.Events():
			if ev.Type == client.EventMessage {
				return ev.Message
			}
		case <-timeout:
			t.Fatal("no message")
		}
	}
}

func TestSendExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	ts := testutil.StartServer(t, func(c *config.Config) { c.MaxMessageLength = 20 })
	w := watcher(t, ts, "lobby")
	server := "--server=" + ts.URL

	stdout, stderr, code := runBin(t, nil, "", "send", server, "--guest", "bot", "Lobby", "hello there", "--json")
	var ack client.Ack
	if code != 0 || stderr != "" || json.Unmarshal([]byte(stdout), &ack) != nil || ack.Room != "lobby" || ack.Seq != 1 {
		t.Fatalf("acknowledged send: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if m := nextMessage(t, w); m.Text != "hello there" || m.From.Name != "bot" || m.ID != ack.MessageID {
		t.Fatalf("the watcher got %+v", m)
	}

	// The text from standard input, and the server from PARLEY_SERVER.
	if _, stderr, code := runBin(t, []string{"PARLEY_SERVER=" + ts.WSURL}, "piped text\n", "send", "--guest", "bot", "lobby", "-"); code != 0 {
		t.Fatalf("send from stdin: exit %d, stderr %q", code, stderr)
	}
	if m := nextMessage(t, w); m.Text != "piped text" {
		t.Fatalf("the watcher got %q, want the piped text without its newline", m.Text)
	}

	// An account signed in from PARLEY_USER and PARLEY_PASSWORD.
	if _, err := client.Register(context.Background(), ts.URL, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	account := []string{"PARLEY_USER=alice", "PARLEY_PASSWORD=correct horse battery"}
	if _, stderr, code := runBin(t, account, "", "send", server, "lobby", "from an account"); code != 0 {
		t.Fatalf("send as an account: exit %d, stderr %q", code, stderr)
	}
	if m := nextMessage(t, w); m.Text != "from an account" || m.From.Name != "alice" || m.From.Guest {
		t.Fatalf("the watcher got %+v, want alice's message", m)
	}

	for _, tt := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"refused by the server", nil, []string{"send", server, "--guest", "bot", "lobby", "far more than twenty characters"}, 1,
			"parley send: not sent to lobby: the server refused: text has 31 characters, the limit is 20 (too_long)\n"},
		{"a room that cannot exist", nil, []string{"send", server, "--guest", "bot", "no spaces", "hi"}, 1,
			"parley send: not sent to no spaces: the server refused: "},
		{"wrong password", []string{"PARLEY_USER=alice", "PARLEY_PASSWORD=wrong password"}, []string{"send", server, "lobby", "hi"}, 1,
			"parley send: wrong username or password for alice\n"},
		{"a bad token", nil, []string{"send", server, "--token", "nonsense", "lobby", "hi"}, 1,
			"parley send: the server refused the token: it is invalid, expired or signed out; sign in again\n"},
		{"unreachable", nil, []string{"send", "--server", "http://" + freeAddr(t), "--guest", "bot", "lobby", "hi"}, 1,
			"connection refused (is it running?)\n"},
		{"no credentials", nil, []string{"send", server, "lobby", "hi"}, 2,
			"parley send: who are you? give --guest NAME, --token (or PARLEY_TOKEN) or --user (or PARLEY_USER); see 'parley send --help'\n"},
		{"two identities", nil, []string{"send", server, "--guest", "a", "--token", "t", "lobby", "hi"}, 2,
			"parley send: give one of --token, --user and --guest; see 'parley send --help'\n"},
		{"empty text", nil, []string{"send", server, "--guest", "bot", "lobby", "-"}, 2,
			"parley send: the text is empty; see 'parley send --help'\n"},
		{"a missing argument", nil, []string{"send", "lobby"}, 2,
			"parley send: missing TEXT; see 'parley send --help'\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBin(t, tt.env, "", tt.args...)
			if code != tt.code || stdout != "" || !strings.HasPrefix(stderr, "parley send: ") || !strings.Contains(stderr, tt.want) ||
				strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, stdout, stderr, tt.code, tt.want)
			}
		})
	}
	// Nothing refused was stored.
	page, err := w.History(context.Background(), "lobby", client.HistoryOptions{})
	if err != nil || len(page) != 3 {
		t.Fatalf("%d messages stored (%v), want the 3 acknowledged", len(page), err)
	}
}

// lineReader collects a process's output lines on a channel.
func lineReader(r io.Reader) <-chan string {
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// nextLine returns the next line whose type is typ, failing on a line of
// type message that is not wanted, so that no message is printed twice.
func nextLine(t *testing.T, lines <-chan string, typ string) map[string]any {
	t.Helper()
	timeout := time.After(cmdWait)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended while waiting for a %s line", typ)
			}
			var f map[string]any
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			if f["type"] == typ {
				return f
			}
			if f["type"] == "message" {
				t.Fatalf("unexpected message line while waiting for %s: %s", typ, line)
			}
		case <-timeout:
			t.Fatalf("no %s line within %v", typ, cmdWait)
		}
	}
}

func TestListenPrintsEventsAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	first := testutil.StartServer(t, nil)
	speaker := watcher(t, first, "lobby")
	cmd := exec.Command(buildParley(t), "listen", "--server", first.URL, "--guest", "listener", "lobby", "random")
	cmd.Env = binEnv(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := lineReader(stdout)
	// Its presence says it joined.
	testutil.Eventually(t, cmdWait, func() bool { return len(speaker.Members("lobby")) == 2 }, "listen never joined")

	ack, err := speaker.Send(context.Background(), "lobby", "one")
	if err != nil {
		t.Fatal(err)
	}
	f := nextLine(t, lines, "message")
	body := f["body"].(map[string]any)
	if body["text"] != "one" || body["room"] != "lobby" || body["id"] != ack.MessageID || body["seq"] != 1.0 {
		t.Fatalf("message line %v", f)
	}
	if _, err := speaker.Edit(context.Background(), "lobby", ack.MessageID, "one, edited"); err != nil {
		t.Fatal(err)
	}
	if f := nextLine(t, lines, "update"); f["body"].(map[string]any)["kind"] != "edit" {
		t.Fatalf("update line %v", f)
	}

	// The server restarts; what is said meanwhile is printed once.
	if err := first.Stop(t); err != nil {
		t.Fatal(err)
	}
	second := testutil.StartServer(t, func(c *config.Config) {
		c.Addr = strings.TrimPrefix(first.URL, "http://")
		c.DataDir = first.Config.DataDir
		c.DatabaseURL = first.Config.DatabaseURL
	})
	if _, err := speaker.Send(context.Background(), "lobby", "two"); err != nil {
		t.Fatal(err)
	}
	nextLine(t, lines, "reconnected")
	if f := nextLine(t, lines, "message"); f["body"].(map[string]any)["text"] != "two" {
		t.Fatalf("after the restart: %v", f)
	}
	_ = second
	// A message after that, to show "two" was not printed twice.
	if _, err := speaker.Send(context.Background(), "lobby", "three"); err != nil {
		t.Fatal(err)
	}
	if f := nextLine(t, lines, "message"); f["body"].(map[string]any)["text"] != "three" {
		t.Fatalf("after two: %v", f)
	}

	// Interrupted, it ends with status 0.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("listen after SIGINT: %v; stderr %q", err, stderr.String())
	}
}

func TestListenEndsWhenDisconnected(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	ts := testutil.StartServer(t, nil)
	tok, err := client.Register(context.Background(), ts.URL, "root", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	ts.SetAdmin(t, tok.User.ID)
	admin, _ := client.Login(context.Background(), ts.URL, "root", "correct horse battery")
	if _, err := client.Register(context.Background(), ts.URL, "mallory", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	speaker := watcher(t, ts, "lobby")
	cmd := exec.Command(buildParley(t), "listen", "--server", ts.URL, "lobby")
	cmd.Env = binEnv(t, "PARLEY_USER=mallory", "PARLEY_PASSWORD=correct horse battery")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testutil.Eventually(t, cmdWait, func() bool { return len(speaker.Members("lobby")) == 2 }, "listen never joined")
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/users/mallory/disable", nil)
	req.Header.Set("Authorization", "Bearer "+admin.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("disable: %v %v", resp, err)
	}
	resp.Body.Close()
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("listen after the account was disabled: %v", err)
	}
	if got := stderr.String(); !strings.HasPrefix(got, "parley listen: the server ended this session: ") || strings.Count(got, "\n") != 1 {
		t.Fatalf("stderr %q", got)
	}
}
