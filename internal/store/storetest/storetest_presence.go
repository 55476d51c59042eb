package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// presenceTests cover store.Presence, which every backend implements: the
// record a cluster's nodes share of who is where.
var presenceTests = []namedTest{
	{"JoinAndLeaveAcrossNodes", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		ann := store.PresenceUser{ID: "ann", Name: "Ann"}
		first, err := p.JoinPresence(c, "r", "a", ann)
		noErr(t, err, "JoinPresence on a")
		equal(t, first, true, "first, for ann's first node")
		first, err = p.JoinPresence(c, "r", "b", ann)
		noErr(t, err, "JoinPresence on b")
		equal(t, first, false, "first, for ann's second node")
		first, err = p.JoinPresence(c, "r", "b", ann)
		noErr(t, err, "JoinPresence on b again")
		equal(t, first, false, "first, joining b twice")
		users, total, err := p.RoomPresence(c, "r", 10)
		noErr(t, err, "RoomPresence")
		equal(t, users, []store.PresenceUser{ann}, "users in r")
		equal(t, total, 1, "total in r")
		last, err := p.LeavePresence(c, "r", "a", "ann")
		noErr(t, err, "LeavePresence on a")
		equal(t, last, false, "last, leaving one of two nodes")
		last, err = p.LeavePresence(c, "r", "b", "ann")
		noErr(t, err, "LeavePresence on b")
		equal(t, last, true, "last, leaving the last node")
		users, total, err = p.RoomPresence(c, "r", 10)
		noErr(t, err, "RoomPresence")
		equal(t, len(users)+total, 0, "users in r after everyone left")
	}},
	{"RoomPresenceIsBounded", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		for i := range 5 {
			_, err := p.JoinPresence(c, "big", fmt.Sprint("n", i%2), store.PresenceUser{ID: fmt.Sprint("u", 4-i), Name: "x", Guest: i == 4})
			noErr(t, err, "JoinPresence")
		}
		_, err := p.JoinPresence(c, "other", "n0", store.PresenceUser{ID: "stranger"})
		noErr(t, err, "JoinPresence elsewhere")
		users, total, err := p.RoomPresence(c, "big", 2)
		noErr(t, err, "RoomPresence")
		equal(t, total, 5, "total in big")
		equal(t, users, []store.PresenceUser{{ID: "u0", Name: "x", Guest: true}, {ID: "u1", Name: "x"}}, "the first two, by id")
	}},
	{"DeadNodesAreReaped", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		t0 := store.Timestamp(time.Now())
		noErr(t, p.NodeStarted(c, "a", t0), "NodeStarted a")
		noErr(t, p.NodeStarted(c, "b", t0), "NodeStarted b")
		for _, j := range []struct{ node, user string }{{"a", "both"}, {"b", "both"}, {"b", "onlyb"}, {"a", "onlya"}} {
			_, err := p.JoinPresence(c, "r", j.node, store.PresenceUser{ID: j.user, Name: j.user})
			noErr(t, err, "JoinPresence")
		}
		_, _, err := p.AddConnection(c, "b", "onlyb", 0)
		noErr(t, err, "AddConnection")
		noErr(t, p.NodeAlive(c, "a", t0.Add(10*time.Second)), "NodeAlive a")
		gone, err := p.ReapNodes(c, t0.Add(5*time.Second))
		noErr(t, err, "ReapNodes")
		equal(t, gone, []store.PresenceGone{{Room: "r", User: store.PresenceUser{ID: "onlyb", Name: "onlyb"}}}, "gone with node b")
		users, _, err := p.RoomPresence(c, "r", 10)
		noErr(t, err, "RoomPresence")
		equal(t, len(users), 2, "users left in r")
		n, err := p.Connections(c, "onlyb")
		noErr(t, err, "Connections")
		equal(t, n, 0, "connections of a reaped node's user")
		gone, err = p.ReapNodes(c, t0.Add(5*time.Second))
		noErr(t, err, "ReapNodes again")
		equal(t, len(gone), 0, "reaped twice")
		gone, err = p.ReapNodes(c, t0.Add(time.Minute))
		noErr(t, err, "ReapNodes of a")
		equal(t, len(gone), 2, "gone with node a")
	}},
	{"ARestartedNodeKeepsWhoComesBack", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		now := store.Timestamp(time.Now())
		noErr(t, p.NodeStarted(c, "a", now), "NodeStarted")
		for _, u := range []string{"back", "away"} {
			_, err := p.JoinPresence(c, "r", "a", store.PresenceUser{ID: u, Name: u})
			noErr(t, err, "JoinPresence")
		}
		_, _, err := p.AddConnection(c, "a", "back", 0)
		noErr(t, err, "AddConnection")
		noErr(t, p.NodeStarted(c, "a", now.Add(time.Second)), "NodeStarted again")
		n, err := p.Connections(c, "back")
		noErr(t, err, "Connections")
		equal(t, n, 0, "connections after a restart")
		first, err := p.JoinPresence(c, "r", "a", store.PresenceUser{ID: "back", Name: "back"})
		noErr(t, err, "JoinPresence after the restart")
		equal(t, first, false, "first, for a user who was there before the restart")
		gone, err := p.DropStale(c, "a")
		noErr(t, err, "DropStale")
		equal(t, gone, []store.PresenceGone{{Room: "r", User: store.PresenceUser{ID: "away", Name: "away"}}}, "gone: who did not come back")
		users, _, err := p.RoomPresence(c, "r", 10)
		noErr(t, err, "RoomPresence")
		equal(t, users, []store.PresenceUser{{ID: "back", Name: "back"}}, "users after the stale rows went")
	}},
	{"ConnectionsHaveOneLimit", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		before, ok, err := p.AddConnection(c, "a", "ann", 2)
		noErr(t, err, "AddConnection")
		equal(t, [2]any{before, ok}, [2]any{0, true}, "the first connection")
		before, ok, err = p.AddConnection(c, "b", "ann", 2)
		noErr(t, err, "AddConnection")
		equal(t, [2]any{before, ok}, [2]any{1, true}, "a second, on another node")
		before, ok, err = p.AddConnection(c, "a", "ann", 2)
		noErr(t, err, "AddConnection")
		equal(t, [2]any{before, ok}, [2]any{2, false}, "a third, over the limit")
		left, err := p.RemoveConnection(c, "a", "ann")
		noErr(t, err, "RemoveConnection")
		equal(t, left, 1, "connections left")
		left, err = p.RemoveConnection(c, "b", "ann")
		noErr(t, err, "RemoveConnection")
		equal(t, left, 0, "connections left")
		left, err = p.RemoveConnection(c, "b", "ann")
		noErr(t, err, "RemoveConnection of none")
		equal(t, left, 0, "connections left after one too many removals")

		// Nodes adding at once never pass the limit together.
		var counted atomic.Int64
		var wg sync.WaitGroup
		for n := range 4 {
			wg.Go(func() {
				for range 10 {
					_, ok, err := p.AddConnection(c, fmt.Sprint("node", n), "bob", 10)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						counted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		equal(t, counted.Load(), int64(10), "connections counted by concurrent adds with a limit of 10")
		total, err := p.Connections(c, "bob")
		noErr(t, err, "Connections")
		equal(t, total, 10, "bob's connections")
	}},
	{"NodeStateIsWrittenWhole", func(t *testing.T, s store.Store) {
		p, c := presence(t, s), ctx(t)
		now := store.Timestamp(time.Now())
		noErr(t, p.NodeStarted(c, "a", now), "NodeStarted")
		_, err := p.JoinPresence(c, "r", "a", store.PresenceUser{ID: "old", Name: "old"})
		noErr(t, err, "JoinPresence")
		noErr(t, p.NodeStarted(c, "a", now.Add(time.Second)), "NodeStarted again: old's row is stale")
		_, _, err = p.AddConnection(c, "b", "ann", 0)
		noErr(t, err, "AddConnection on b")
		ann, bob := store.PresenceUser{ID: "ann", Name: "Ann"}, store.PresenceUser{ID: "bob", Name: "Bob", Guest: true}
		noErr(t, p.WriteNodeState(c, "a", []store.NodeConns{{User: "ann", Conns: 3}, {User: "bob", Conns: 1}},
			[]store.NodePresence{{Room: "r", User: ann, In: true}, {Room: "r", User: bob, In: true}, {Room: "s", User: bob, In: true}}, false),
			"WriteNodeState")
		noErr(t, p.WriteNodeState(c, "a", []store.NodeConns{{User: "ann", Conns: 2}}, nil, false), "WriteNodeState again")
		n, err := p.Connections(c, "ann")
		noErr(t, err, "Connections")
		equal(t, n, 3, "ann's connections: 2 on a (set, not added) and 1 on b")
		n, err = p.OtherConnections(c, "a", "ann")
		noErr(t, err, "OtherConnections")
		equal(t, n, 1, "ann's connections on nodes other than a")
		rows, err := p.PresenceNodes(c, "r", "old")
		noErr(t, err, "PresenceNodes")
		equal(t, rows, []store.PresenceRow{{Node: "a", Stale: true}}, "old's stale row")
		rows, err = p.PresenceNodes(c, "r", "ann")
		noErr(t, err, "PresenceNodes")
		equal(t, rows, []store.PresenceRow{{Node: "a"}}, "ann's row")

		// A change to none drops the row; a full write drops what it does
		// not list, except stale rows and other nodes' rows.
		noErr(t, p.WriteNodeState(c, "a", []store.NodeConns{{User: "bob", Conns: 0}},
			[]store.NodePresence{{Room: "s", User: bob}}, false), "WriteNodeState of leaves")
		n, err = p.Connections(c, "bob")
		noErr(t, err, "Connections")
		equal(t, n, 0, "bob's connections after a write of none")
		noErr(t, p.WriteNodeState(c, "a", []store.NodeConns{{User: "cat", Conns: 1}},
			[]store.NodePresence{{Room: "r", User: bob, In: true}}, true), "full WriteNodeState")
		for user, want := range map[string]int{"ann": 1, "bob": 0, "cat": 1} {
			n, err = p.Connections(c, user)
			noErr(t, err, "Connections")
			equal(t, n, want, "connections of "+user+" after a full write")
		}
		users, _, err := p.RoomPresence(c, "r", 10)
		noErr(t, err, "RoomPresence")
		equal(t, users, []store.PresenceUser{bob, {ID: "old", Name: "old"}}, "users in r after a full write")
		users, _, err = p.RoomPresence(c, "s", 10)
		noErr(t, err, "RoomPresence")
		equal(t, len(users), 0, "users in s")
		noErr(t, p.WriteNodeState(c, "a", nil, nil, true), "full WriteNodeState of nothing")
		n, err = p.Connections(c, "cat")
		noErr(t, err, "Connections")
		equal(t, n, 0, "cat's connections after a full write of nothing")
	}},
}

// presence returns s as a store.Presence, which every backend must be.
func presence(t *testing.T, s store.Store) store.Presence {
	t.Helper()
	p, ok := s.(store.Presence)
	if !ok {
		t.Fatalf("%T does not implement store.Presence", s)
	}
	return p
}
