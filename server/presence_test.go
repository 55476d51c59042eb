package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

type presenceDiffBody struct {
	Room  string `json:"room"`
	Joins []struct {
		ID string `json:"id"`
	} `json:"joins"`
	Leaves []struct {
		ID string `json:"id"`
	} `json:"leaves"`
	MemberCount int  `json:"member_count"`
	Truncated   bool `json:"truncated"`
}

// TestBusyRoomsGatherPresence: past the threshold, a room's joins and
// leaves reach its members as one presence_diff per interval, each user
// once by their last change, instead of a frame per change; a quiet room
// keeps its presence events one by one.
func TestBusyRoomsGatherPresence(t *testing.T) {
	ts := testutil.StartServer(t, func(c *config.Config) {
		c.PresenceBatchAbove = 2
		c.PresenceInterval = 200 * time.Millisecond
	})
	watcher := connect(t, ts, "watcher", "hall")
	second := connect(t, ts, "second", "hall")
	var p presenceBody
	watcher.Expect("presence").Decode(t, &p) // two in the room: one by one
	if p.User.ID != second.ID() || p.Event != "join" {
		t.Fatalf("watcher got %+v, want second's join", p)
	}

	// A burst of joins into the busy room: gathered.
	var joiners []*testutil.Client
	for i := range 5 {
		joiners = append(joiners, connect(t, ts, fmt.Sprint("joiner", i), "hall"))
	}
	joiners[4].Close() // joined and left within the interval
	seen := map[string]bool{}
	var diffs int
	for len(seen) < 4 {
		f := watcher.Next()
		if f.Type == "presence" {
			t.Fatalf("a busy room sent a presence frame: %s", f.Raw)
		}
		if f.Type != "presence_diff" {
			continue
		}
		diffs++
		var d presenceDiffBody
		f.Decode(t, &d)
		for _, u := range d.Joins {
			seen[u.ID] = true
		}
	}
	for _, j := range joiners[:4] {
		if !seen[j.ID()] {
			t.Fatalf("%s's join was not in the diffs", j.ID())
		}
	}
	if diffs > 3 {
		t.Fatalf("5 joins in a burst came in %d diffs; they should share one or two", diffs)
	}
	if seen[joiners[4].ID()] {
		// Its join and leave may straddle two intervals; then its leave
		// must follow.
		for {
			f := watcher.Next()
			var d presenceDiffBody
			if f.Type == "presence_diff" {
				f.Decode(t, &d)
				if len(d.Leaves) == 1 && d.Leaves[0].ID == joiners[4].ID() {
					break
				}
			}
		}
	}
}

// TestPresenceDiffCountsEveryNode: a busy room's diff counts the room's
// users through every node of a cluster, not only the node's own.
func TestPresenceDiffCountsEveryNode(t *testing.T) {
	nodes := startClusterWith(t, 2, func(c *config.Config) {
		c.PresenceBatchAbove = 1
		c.PresenceInterval = 200 * time.Millisecond
	})
	watcher := connect(t, nodes[0], "watcher", "hall")
	connect(t, nodes[0], "other", "hall") // two here: the room is busy on node 0
	for i := range 3 {
		connect(t, nodes[1], fmt.Sprint("joiner", i), "hall")
	}
	// Other's join and the joiners' (through the broker) come in one diff
	// or several; the last one counts all five users.
	joins := 0
	for joins < 4 {
		f := watcher.Next()
		if f.Type != "presence_diff" {
			continue
		}
		var d presenceDiffBody
		f.Decode(t, &d)
		joins += len(d.Joins)
		if d.Truncated || d.MemberCount < 1+joins || d.MemberCount > 5 {
			t.Fatalf("after %d joins: %s; want member_count counting both nodes", joins, f.Raw)
		}
		if joins == 4 && d.MemberCount != 5 {
			t.Fatalf("the last diff counts %d users, want 5 over two nodes: %s", d.MemberCount, f.Raw)
		}
	}
}
