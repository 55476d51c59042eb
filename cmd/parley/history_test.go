package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestHistoryOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	ts := testutil.StartServer(t, nil)
	w := watcher(t, ts, "lobby")
	ctx := context.Background()
	var acks []client.Ack
	for i := 1; i <= 5; i++ {
		ack, err := w.Send(ctx, "lobby", fmt.Sprintf("m%d", i))
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack)
	}
	if _, err := w.Edit(ctx, "lobby", acks[1].MessageID, "m2, edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Delete(ctx, "lobby", acks[2].MessageID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.React(ctx, "lobby", acks[3].MessageID, "👍"); err != nil {
		t.Fatal(err)
	}
	server := "--server=" + ts.URL

	// Text, the newest three, oldest first.
	stdout, stderr, code := runBin(t, nil, "", "history", server, "--guest", "reader", "Lobby", "--limit", "3")
	line := regexp.MustCompile(`^#(\d+) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d watcher: (.*)$`)
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not #SEQ TIME NAME: TEXT", l)
		}
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{"3 (deleted)", "4 m4 [👍 1]", "5 m5"}
	if code != 0 || stderr != "" || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("exit %d, stderr %q, lines %q, want %q", code, stderr, got, want)
	}

	// JSON, everything before seq 3.
	stdout, stderr, code = runBin(t, nil, "", "history", server, "--guest", "reader", "lobby", "--before", "3", "--limit", "0", "--json")
	var msgs []client.Message
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var m client.Message
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		msgs = append(msgs, m)
	}
	if code != 0 || stderr != "" || len(msgs) != 2 || msgs[0].Text != "m1" || msgs[1].Text != "m2, edited" || msgs[1].EditedAt == "" {
		t.Fatalf("exit %d, stderr %q, messages %+v", code, stderr, msgs)
	}

	_, stderr, code = runBin(t, nil, "", "history", server, "--guest", "reader", "nowhere")
	if code != 1 || stderr != "parley history: there is no room nowhere\n" {
		t.Fatalf("an unknown room: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runBin(t, nil, "", "history", server, "--guest", "reader", "lobby", "--limit", "-1")
	if code != 2 || !strings.Contains(stderr, "must not be negative") {
		t.Fatalf("a negative limit: exit %d, stderr %q", code, stderr)
	}
}
