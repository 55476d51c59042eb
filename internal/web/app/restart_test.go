package app_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// parleyBinary builds cmd/parley once for the package.
func parleyBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "parley-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "parley")
		out, err := exec.Command("go", "build", "-o", binPath, "../../../cmd/parley").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// process is the parley binary serving on a fixed address and data
// directory, so it can be stopped and started again as the same server.
type process struct {
	t       *testing.T
	bin     string
	addr    string
	dataDir string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// freePort returns a port below 32768 that 127.0.0.1 can listen on now.
// It is outside the ephemeral range (32768–60999 here), so while the
// server is down no client's outgoing connection can take it.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12768)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port below 32768 on 127.0.0.1")
	return 0
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{t: t, bin: parleyBinary(t), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dataDir: t.TempDir()}
	p.start(args...)
	t.Cleanup(p.stop)
	return p
}

func (p *process) url() string { return "http://" + p.addr }

func (p *process) start(args ...string) {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, append([]string{"serve", "--addr", p.addr, "--data-dir", p.dataDir, "--shutdown-timeout", "2s", "--log-level", "warn"}, args...)...)
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start parley: %v", err)
	}
	p.exited = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.t.Log(sc.Text())
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	testutil.Eventually(p.t, wait, func() bool {
		res, err := http.Get(p.url() + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, "parley to be ready on %s", p.addr)
}

// stop ends the server gracefully (SIGTERM) and waits for it.
func (p *process) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// TestBrowserServerRestart: the server is stopped and started again while
// two people have the app open. The banner says the app is reconnecting
// and goes away by itself; what alice sent while the server was down
// waits as "Sending…" and is stored once; what carol sends as it comes
// back is recovered; both pages end with every message once, in the
// same order, nothing pending.
func TestBrowserServerRestart(t *testing.T) {
	srv := startProcess(t)
	alice := newTab(t, "alice", 1200, 800)
	bob := newTab(t, "bob", 1200, 800)
	alice.signUp(srv.url(), "alice")
	bob.signUp(srv.url(), "bob")
	alice.joinRoom("lobby")
	bob.joinRoom("lobby")
	alice.say("before")
	bob.waitMessages("before")

	srv.stop()
	alice.waitFor("the reconnecting banner", `!document.getElementById("banner").hidden && document.getElementById("banner-text").textContent === "Connection lost. Reconnecting…"`)
	for i := 1; i <= 3; i++ {
		alice.say(fmt.Sprintf("while down %d", i))
	}
	alice.waitFor("three messages sending", `[...document.querySelectorAll("#timeline li.pending .status")].filter((s) => s.textContent === "Sending…").length === 3`)
	alice.screenshot("reconnecting")

	srv.start()
	carolToken, _ := signUpAPI(t, srv.url(), "carol")
	carol, _, err := testutil.DialURL(t, "ws://"+srv.addr+"/ws/lobby", testutil.DialOptions{Header: testutil.Bearer(carolToken)})
	if err != nil {
		t.Fatalf("carol: %v", err)
	}
	carol.Welcome()
	carol.Expect("joined", "unread", "notifications")
	for i := 1; i <= 3; i++ {
		carol.Send("chat", fmt.Sprint("c", i), map[string]string{"room": "lobby", "text": fmt.Sprintf("carol %d", i), "client_id": fmt.Sprint("carol-", i)})
	}
	for range 3 {
		carol.Expect("ack", "message", "presence", "typing", "read", "update")
	}

	all := `[...document.querySelectorAll("#timeline li.msg:not(.pending) .text")].map((e) => e.textContent)`
	for _, p := range []*tab{alice, bob} {
		p.waitFor("all seven messages", all+`.length === 7 && document.querySelectorAll("#timeline li.pending").length === 0`)
		p.waitFor("the banner gone", `document.getElementById("banner").hidden`)
	}
	got := alice.messages()
	if other := bob.messages(); strings.Join(other, "|") != strings.Join(got, "|") {
		t.Fatalf("alice and bob see different timelines:\n%q\n%q", got, other)
	}
	seen := map[string]int{}
	for i, m := range got {
		if _, dup := seen[m]; dup {
			t.Fatalf("%q appears twice: %q", m, got)
		}
		seen[m] = i
	}
	if got[0] != "before" {
		t.Fatalf("timeline %q does not start with what came before the restart", got)
	}
	for _, who := range []string{"while down", "carol"} {
		for i := 1; i < 3; i++ {
			a, ok1 := seen[fmt.Sprintf("%s %d", who, i)]
			b, ok2 := seen[fmt.Sprintf("%s %d", who, i+1)]
			if !ok1 || !ok2 || a > b {
				t.Fatalf("%s's messages missing or out of order: %q", who, got)
			}
		}
	}
	seqs := eval[[]int](alice, `[...document.querySelectorAll("#timeline li.msg:not(.pending)")].map((e) => Number(e.dataset.seq))`)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("alice's timeline is not in seq order: %v", seqs)
		}
	}
	alice.screenshot("after-restart")
}
