package server_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// TestNodeChatExample runs the walkthrough's client, docs/examples/chat.mjs,
// with the machine's Node.js: what it types reaches another member, and it
// prints what the server sends. Skipped, saying so, without Node.js.
func TestNodeChatExample(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the walkthrough's Node.js client is not tested")
	}
	ts := testutil.StartServer(t, nil)
	alice := connect(t, ts, "alice", "lobby")

	args := []string{"../docs/examples/chat.mjs", ts.WSURL + "/ws/lobby?name=bob"}
	if exec.Command(node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)").Run() != nil {
		args = append([]string{"--experimental-websocket"}, args...) // Node 20 and 21
	}
	cmd := exec.Command(node, args...)
	cmd.Stdin = strings.NewReader("hello from node\n")
	done := make(chan struct{})
	var out []byte
	go func() { defer close(done); out, err = cmd.CombinedOutput() }()

	var m msgBody
	alice.Expect("message", "presence").Decode(t, &m)
	if m.Text != "hello from node" || m.From.Name != "bob" {
		t.Fatalf("alice got %+v", m)
	}
	select {
	case <-done:
	case <-time.After(testutil.DefaultWait):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the example did not end after its input did; it printed:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the example failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"type":"welcome"`, `"type":"joined"`, `"type":"ack"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the example's output lacks %s:\n%s", want, out)
		}
	}
}
