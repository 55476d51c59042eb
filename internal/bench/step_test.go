package bench

import (
	"testing"

	"github.com/parley-chat/parley/client"
)

// TestReceiverAllocatesNothing keeps the fanout receive path free of
// allocations: with thousands of members, a per-delivery allocation is
// paid at the fan-out rate. The client decodes in place for a Handler, so
// the whole path after the socket read is allocation-free.
func TestReceiverAllocatesNothing(t *testing.T) {
	steps := []*stepStats{new(stepStats), new(stepStats)}
	var side sideEvents
	h := receiver(steps, &side)
	ev := client.Event{Type: client.EventMessage, Room: "fanout",
		Message: &client.Message{Room: "fanout", Seq: 1, Text: payload(1, padding)}}
	allocs := testing.AllocsPerRun(100, func() { h(ev) })
	if got := steps[1].delivered.Load(); got == 0 {
		t.Fatal("the delivery was not counted")
	}
	if allocs != 0 {
		t.Errorf("a delivery costs %v allocations, want 0", allocs)
	}
}

// BenchmarkReceive is the bench tool's work per delivery once the client
// has decoded the frame: the payload's step and send time, the latency
// histogram and the counters.
func BenchmarkReceive(b *testing.B) {
	steps := []*stepStats{new(stepStats)}
	var side sideEvents
	h := receiver(steps, &side)
	ev := client.Event{Type: client.EventMessage, Room: "fanout",
		Message: &client.Message{Room: "fanout", Seq: 1, Text: payload(0, padding)}}
	b.ReportAllocs()
	for b.Loop() {
		h(ev)
	}
}
