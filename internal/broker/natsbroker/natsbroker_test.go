package natsbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/broker"
	"github.com/parley-chat/parley/internal/broker/brokertest"
	"github.com/parley-chat/parley/internal/broker/natsbroker"
	"github.com/parley-chat/parley/internal/testutil/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// prefix keeps each test's subjects apart on a shared NATS.
func prefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "parleytest" + hex.EncodeToString(b[:])
}

func open(t *testing.T, url, pfx string) *natsbroker.Broker {
	t.Helper()
	b, err := natsbroker.Open(natsbroker.Config{URLs: url, Prefix: pfx, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	url := natstest.URL(t)
	brokertest.Run(t, func(t *testing.T) broker.Broker { return open(t, url, prefix()) })
}

// TestEventsCrossConnections: what one node publishes reaches the
// subscribers of another — the point of a cluster — whatever the subject
// holds, and not a cluster with another prefix.
func TestEventsCrossConnections(t *testing.T) {
	url := natstest.URL(t)
	pfx := prefix()
	a, b, other := open(t, url, pfx), open(t, url, pfx), open(t, url, prefix())
	defer a.Close()
	defer b.Close()
	defer other.Close()
	for _, subject := range []string{"room.lobby", "room.a.b", "user.guest:k7m2", "user.ext id*>", "room.ünïcode", "notice"} {
		got := make(chan string, 1)
		sub, err := b.Subscribe(subject, func(d []byte) { got <- string(d) })
		if err != nil {
			t.Fatalf("subscribe %q: %v", subject, err)
		}
		stray := make(chan string, 1)
		osub, err := other.Subscribe(subject, func(d []byte) { stray <- string(d) })
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []*natsbroker.Broker{b, other} {
			if err := x.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Publish(context.Background(), subject, []byte("to "+subject)); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			if d != "to "+subject {
				t.Fatalf("%q: got %q", subject, d)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: nothing crossed from one connection to the other", subject)
		}
		select {
		case d := <-stray:
			t.Fatalf("%q: a cluster with another prefix got %q", subject, d)
		case <-time.After(50 * time.Millisecond):
		}
		_ = sub.Unsubscribe()
		_ = osub.Unsubscribe()
	}
}

// TestSubjectsAreValid: every subject maps to one NATS subject of plain
// tokens, and distinct subjects to distinct ones.
func TestSubjectsAreValid(t *testing.T) {
	b := open(t, natstest.URL(t), "p")
	defer b.Close()
	seen := map[string]string{}
	for _, s := range []string{"room.lobby", "room.Lobby", "room.a.b", "room.a_b", "room.~YQ", "room.", "user.a b",
		"user.*", "user.>", "notice", "room.a\tb"} {
		got := b.Subject(s)
		for _, tok := range strings.Split(got, ".") {
			if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
				t.Fatalf("%q maps to %q, which has a bad token %q", s, got, tok)
			}
		}
		if prev, ok := seen[got]; ok {
			t.Fatalf("%q and %q both map to %q", prev, s, got)
		}
		seen[got] = s
	}
}

// TestReadyFollowsTheConnection: Ready fails while NATS is away and
// recovers when it is back on the same address, and events flow again
// after the reconnect.
func TestReadyFollowsTheConnection(t *testing.T) {
	srv := natstest.Start(t)
	b := open(t, srv.ClientURL(), prefix())
	defer b.Close()
	if err := b.Ready(); err != nil {
		t.Fatalf("Ready while connected: %v", err)
	}
	_, portText, _ := net.SplitHostPort(srv.Addr().String())
	port, _ := strconv.Atoi(portText)
	srv.Shutdown()
	srv.WaitForShutdown()
	waitUntil(t, func() bool { return b.Ready() != nil }, "Ready still succeeds with NATS down")
	natstest.StartAt(t, port)
	waitUntil(t, func() bool { return b.Ready() == nil }, "Ready still fails after NATS came back")
	got := make(chan struct{}, 1)
	if _, err := b.Subscribe("room.back", func([]byte) { got <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), "room.back", []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the reconnect")
	}
}

func waitUntil(t *testing.T, ok func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenFailsClearly: no NATS at the address is an error at once that
// names it (without the password).
func TestOpenFailsClearly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = natsbroker.Open(natsbroker.Config{URLs: "nats://parley:secret@" + addr})
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open with no NATS = %v, want an error naming %s without the password", err, addr)
	}
}
