package client_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/server"
)

// Example runs a server on a loopback port (so that it runs anywhere; a
// program would dial its server's address instead) and has two guests
// talk: one sends, edits and reads history, the other receives the
// message and the edit as events.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, stop := exampleServer(ctx)
	defer stop()

	ada, err := client.Dial(ctx, url, client.Options{Name: "ada", Reconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ada.Close()
	bob, err := client.Dial(ctx, url, client.Options{Name: "bob", Reconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	joined, err := ada.Join(ctx, "Lobby")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := bob.Join(ctx, joined.Room); err != nil {
		log.Fatal(err)
	}
	ack, err := ada.Send(ctx, joined.Room, "lunch at noon?")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ada.Edit(ctx, joined.Room, ack.MessageID, "lunch at 12:30?"); err != nil {
		log.Fatal(err)
	}
	for ev := range bob.Events() {
		switch ev.Type {
		case client.EventMessage:
			fmt.Printf("bob got %q from %s in %s (seq %d)\n", ev.Message.Text, ev.Message.From.Name, ev.Room, ev.Message.Seq)
			continue
		case client.EventUpdate:
			fmt.Printf("bob saw it edited to %q (seq %d)\n", ev.Update.Message.Text, ev.Update.Seq)
		default:
			continue // presence and the like
		}
		break
	}

	for page, err := range ada.HistoryPages(ctx, joined.Room, client.HistoryOptions{Limit: 50}) {
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range page {
			fmt.Printf("history: %d %s: %s\n", m.Seq, m.From.Name, m.Text)
		}
	}
	// Output:
	// bob got "lunch at noon?" from ada in lobby (seq 1)
	// bob saw it edited to "lunch at 12:30?" (seq 2)
	// history: 1 ada: lunch at 12:30?
}

// exampleServer starts an embedded server with guests allowed on a free
// loopback port and returns its WebSocket URL and a function that stops it.
func exampleServer(ctx context.Context) (url string, stop func()) {
	dir, err := os.MkdirTemp("", "parley-client-example-")
	if err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Guests = true
	cfg.RoomCreation = "anyone"
	cfg.LogLevel = "error"
	ctx, cancel := context.WithCancel(ctx)
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
	return "ws://" + ln.Addr().String() + "/ws", func() {
		cancel()
		if err := <-served; err != nil {
			log.Print(err)
		}
		os.RemoveAll(dir)
	}
}
