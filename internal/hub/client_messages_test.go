package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// TestAClientIDOfTheLongestLengthIsAcknowledged: a chat message whose
// client_id has maxClientID bytes is stored and acknowledged; one byte
// longer it is refused as invalid.
func TestAClientIDOfTheLongestLengthIsAcknowledged(t *testing.T) {
	h, _ := newTestHub(t)
	ctx := context.Background()
	c, out := connectAs(t, h, Identity{User: protocol.User{ID: "guest:ann", Name: "ann", Guest: true}})
	c.Handle(ctx, frame("join", "j", protocol.JoinBody{Room: "lobby"}))
	expectFrame(t, out, protocol.TypeJoined, "j", nil)

	c.Handle(ctx, frame("chat", "long", protocol.ChatBody{Room: "lobby", Text: "a", ClientID: strings.Repeat("k", maxClientID)}))
	var ack protocol.AckBody
	expectFrame(t, out, protocol.TypeAck, "long", &ack)
	if ack.Seq != 1 {
		t.Fatalf("ack %+v, want seq 1", ack)
	}

	c.Handle(ctx, frame("chat", "longer", protocol.ChatBody{Room: "lobby", Text: "b", ClientID: strings.Repeat("k", maxClientID+1)}))
	var e protocol.ErrorBody
	expectFrame(t, out, protocol.TypeError, "longer", &e)
	if e.Code != protocol.CodeInvalid {
		t.Fatalf("a client_id of %d bytes: %+v, want invalid", maxClientID+1, e)
	}
}

// TestHistoryPagesWithinItsBounds: a history request takes a limit of 1
// to 1000 (0: the server's default page) and before and after of 0 or
// more (newest first; after 0 reads from the start forward); anything
// else is refused as invalid.
func TestHistoryPagesWithinItsBounds(t *testing.T) {
	h, st := newTestHub(t)
	h.cfg.HistoryLimit = 2
	ctx := context.Background()
	if _, err := st.CreateRoom(ctx, store.Room{Name: "lobby"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, err := st.Append(ctx, store.NewMessage{Room: "lobby", Sender: "guest:w", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c, out := connectAs(t, h, Identity{User: protocol.User{ID: "guest:ann", Name: "ann", Guest: true}})
	zero, minus := int64(0), int64(-1)
	for _, tc := range []struct {
		name string
		body protocol.HistoryBody
		seqs []int64 // nil: refused as invalid
	}{
		{"the largest limit", protocol.HistoryBody{Room: "lobby", Limit: 1000}, []int64{3, 2, 1}},
		{"the default page", protocol.HistoryBody{Room: "lobby"}, []int64{3, 2}},
		{"after 0, forward", protocol.HistoryBody{Room: "lobby", After: &zero, Limit: 10}, []int64{1, 2, 3}},
		{"a limit past 1000", protocol.HistoryBody{Room: "lobby", Limit: 1001}, nil},
		{"a negative limit", protocol.HistoryBody{Room: "lobby", Limit: -1}, nil},
		{"a negative before", protocol.HistoryBody{Room: "lobby", Before: -1}, nil},
		{"a negative after", protocol.HistoryBody{Room: "lobby", After: &minus}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Handle(ctx, frame("history", "h", tc.body))
			if tc.seqs == nil {
				var e protocol.ErrorBody
				expectFrame(t, out, protocol.TypeError, "h", &e)
				if e.Code != protocol.CodeInvalid {
					t.Fatalf("%+v: %+v, want invalid", tc.body, e)
				}
				return
			}
			var reply protocol.HistoryReply
			expectFrame(t, out, protocol.TypeHistory, "h", &reply)
			var seqs []int64
			for _, m := range reply.Messages {
				seqs = append(seqs, m.Seq)
			}
			if !slices.Equal(seqs, tc.seqs) {
				t.Fatalf("%+v: messages %v, want %v", tc.body, seqs, tc.seqs)
			}
		})
	}
}
