package server_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/server"
)

// Example embeds a Parley server in a Go program and talks to it with the
// Go client, using nothing but the two public packages.
func Example() {
	dir, err := os.MkdirTemp("", "parley-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Guests = true           // let clients in with just a name
	cfg.RoomCreation = "anyone" // and create rooms by joining them
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
	joined, err := c.Join(ctx, "Lobby")
	if err != nil {
		log.Fatal(err)
	}
	ack, err := c.Send(ctx, joined.Room, "hello from an embedded server")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("joined", joined.Room, "and stored message", ack.Seq)

	c.Close()
	stop()
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	// Output: joined lobby and stored message 1
}
