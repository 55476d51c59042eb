package ws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
)

// tokenTable authenticates the tokens it lists and nothing else; the
// token "down" stands for an auth store that does not answer. (The real
// authenticator lives in the server package; here only the transport's
// handling of its answers is under test.)
type tokenTable map[string]string

func (tokenTable) Request(context.Context, *http.Request) (Principal, error) {
	return Principal{}, ErrNoCredentials
}

func (tt tokenTable) Token(_ context.Context, token string) (Principal, error) {
	if token == "down" {
		return Principal{}, fmt.Errorf("auth store: %w", ErrUnavailable)
	}
	if user, ok := tt[token]; ok {
		return Principal{Identity: hub.Identity{User: protocol.User{ID: user}}}, nil
	}
	return Principal{}, errors.New("unknown token")
}

// TestTheFirstFrameMustAuthenticateInTime: a connection without
// credentials in its request is closed with 4001 when it sends nothing
// within the auth deadline (not before it), when its first frame is not
// auth, carries no token or a bad one; with 1013 when the token cannot be
// checked now; and a good token in time authenticates it.
func TestTheFirstFrameMustAuthenticateInTime(t *testing.T) {
	const deadline = 300 * time.Millisecond
	for _, tc := range []struct {
		name  string
		first string // "" sends nothing
		code  int    // 0: authenticated
	}{
		{"nothing sent", "", protocol.CloseUnauthorized},
		{"not an auth frame", `{"type":"ping","id":"p"}`, protocol.CloseUnauthorized},
		{"not JSON", `hello`, protocol.CloseUnauthorized},
		{"auth without a token", `{"type":"auth","id":"a","body":{}}`, protocol.CloseUnauthorized},
		{"a bad token", `{"type":"auth","id":"a","body":{"token":"forged"}}`, protocol.CloseUnauthorized},
		{"the auth store down", `{"type":"auth","id":"a","body":{"token":"down"}}`, protocol.CloseTryAgainLater},
		{"a good token", `{"type":"auth","id":"a","body":{"token":"good"}}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newWorkerServer(t, Config{AuthTimeout: deadline}, 1)
			s.auth = tokenTable{"good": "u_ann"}
			c, client := loopbackWS(t, s)
			type result struct {
				p  Principal
				ok bool
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				p, ok := c.awaitAuth(context.Background())
				done <- result{p, ok}
			}()
			if tc.first != "" {
				if err := client.WriteMessage(websocket.TextMessage, []byte(tc.first)); err != nil {
					t.Fatal(err)
				}
			}
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("awaitAuth did not return within 10 s")
			}
			if tc.code == 0 {
				if !r.ok || r.p.User.ID != "u_ann" {
					t.Fatalf("a good token: %+v, %v; want u_ann authenticated", r.p, r.ok)
				}
				return
			}
			if r.ok {
				t.Fatalf("authenticated %+v, want a close with %d", r.p, tc.code)
			}
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := client.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("the client read %v, want close %d", err, tc.code)
			}
			if waited := time.Since(start); tc.first == "" && waited < deadline {
				t.Fatalf("closed after %v, before the %v deadline", waited, deadline)
			}
		})
	}
}
