package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// embedProgram is a program of another module that embeds Parley and
// talks to it through the public packages only.
const embedProgram = `package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/server"
)

func main() {
	cfg := server.DefaultConfig()
	cfg.DataDir = os.Args[1]
	cfg.Guests = true
	cfg.RoomCreation = "anyone"
	cfg.LogLevel = "error"
	ctx, stop := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/ws", client.Options{Name: "ada"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Join(ctx, "lobby"); err != nil {
		log.Fatal(err)
	}
	ack, err := c.Send(ctx, "lobby", "hello")
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	stop()
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stored seq %d\n", ack.Seq)
}
`

// TestEmbeddingFromAnotherModule builds and runs a program of a module of
// its own that requires Parley (replaced by this checkout): a Go program
// outside this module cannot import internal packages, so this is what
// proves that server and client are enough to embed Parley.
func TestEmbeddingFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program of another module; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/embedder\n\ngo 1.26.8\n\n" +
			"require github.com/parley-chat/parley v0.0.0\n\n" +
			"replace github.com/parley-chat/parley => " + root + "\n",
		"go.sum":  string(sum),
		"main.go": embedProgram,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goBin, "run", ".", filepath.Join(dir, "data"))
	cmd.Dir = dir
	// Offline: every module it needs is this checkout's, already in the
	// module cache; -mod=mod lets go complete the new go.mod from them.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the embedding program failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "stored seq 1") {
		t.Fatalf("the embedding program said:\n%s", out)
	}
}
