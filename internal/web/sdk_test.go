package web

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestSDK runs the JavaScript SDK's own suite, sdk/test/*.test.mjs, with
// node --test against the real parley binary, built here once: the tests
// stop and restart it mid-conversation, so they need a process they can
// signal rather than an in-process server. It skips, saying how to run it,
// when node (20 or later, for its WebSocket) is not installed.
func TestSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs node; skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; install Node.js 22+ (or 20 with --experimental-websocket) to run the SDK tests")
	}
	var flags []string
	if out, err := exec.Command(node, "-e", "process.stdout.write(typeof WebSocket)").Output(); err != nil {
		t.Fatalf("node: %v", err)
	} else if string(out) != "function" {
		flags = append(flags, "--experimental-websocket")
		if out, _ := exec.Command(node, "--experimental-websocket", "-e", "process.stdout.write(typeof WebSocket)").Output(); string(out) != "function" {
			t.Skip("this node has no WebSocket, even with --experimental-websocket; the SDK tests need Node.js 22+ (or 20.10+)")
		}
	}

	bin := filepath.Join(t.TempDir(), "parley")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "../../cmd/parley")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build parley: %v\n%s", err, out)
	}

	files, err := filepath.Glob("sdk/test/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in sdk/test (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A test that hangs is cancelled after a minute; the clients and
	// servers it started are closed by its t.after hooks.
	args := append(flags, "--test", "--test-reporter=spec", "--test-concurrency=1", "--test-timeout=60000")
	cmd := exec.CommandContext(ctx, node, append(args, files...)...)
	cmd.Env = append(os.Environ(), "PARLEY_TEST_BIN="+bin, "PARLEY_TEST_REPORT=1", "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("node --test: %v (the output above says which test failed)", err)
	}
}
