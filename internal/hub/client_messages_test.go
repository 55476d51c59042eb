package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
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
