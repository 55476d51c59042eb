package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// TestWebhookOutboxSurvivesKill9: an event whose delivery is being retried
// when the server is killed with SIGKILL is delivered after the restart,
// from the outbox in the database.
func TestWebhookOutboxSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	var mu sync.Mutex
	failing := true
	attempts := map[string]int{} // event id -> requests
	delivered := map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Parley-Event") != "message.created" {
			return // 200 for the others
		}
		id := r.Header.Get("Parley-Event-Id")
		attempts[id]++
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered[id] = true
	}))
	defer hook.Close()

	bin := buildParley(t)
	dataDir, addr := t.TempDir(), freeAddr(t)
	// A delivery being sent at the kill is claimed for the request timeout
	// and 5 s more; a short timeout keeps the wait after the restart short.
	flags := []string{"--webhook-retry-min", "50ms", "--webhook-timeout", "1s"}
	proc := startParleyWith(t, bin, addr, dataDir, os.Stderr, flags...)
	admin := adminBin{t: t, bin: bin, storeArgs: []string{"--data-dir", dataDir}}
	var key struct{ Key string }
	if err := json.Unmarshal([]byte(admin.ok("", nil, "apikey", "create", "--name", "ops", "--scopes", "admin", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	if status, body := request(t, "POST", addr, "/api/v1/admin/webhooks", key.Key, `{"url":"`+hook.URL+`","events":["message.created"]}`); status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	c, _, err := testutil.DialURL(t, "ws://"+addr+"/ws/lobby?name=ann", testutil.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Expect("joined", "welcome")
	const sent = 5
	for i := range sent {
		c.Send("chat", fmt.Sprint(i), map[string]any{"room": "lobby", "text": fmt.Sprint("m", i)})
		c.Expect("ack")
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		retried := 0
		for _, n := range attempts {
			if n >= 2 {
				retried++
			}
		}
		return retried == sent
	}, "the %d events were not each tried twice", sent)

	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	c.Close()
	mu.Lock()
	failing = false
	mu.Unlock()

	startParleyWith(t, bin, addr, dataDir, os.Stderr, flags...)
	testutil.Eventually(t, 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == sent
	}, "after the restart, not every event was delivered")
	mu.Lock()
	defer mu.Unlock()
	for id := range attempts {
		if !delivered[id] {
			t.Errorf("event %s was tried %d times and never delivered", id, attempts[id])
		}
	}
}
