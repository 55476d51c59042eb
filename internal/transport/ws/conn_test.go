package ws

import (
	"bytes"
	"testing"
)

// TestTheSendQueueHoldsExactlyItsBound: frames up to SendQueueBytes in all
// wait for the writer; the frame that would take the queue past it is
// refused and starts the close for a client too slow (4008).
func TestTheSendQueueHoldsExactlyItsBound(t *testing.T) {
	const bound = 1000
	s := newWorkerServer(t, Config{SendQueueBytes: bound}, 0) // no worker drains the queue
	c, _ := loopbackWS(t, s)
	for range 4 {
		if !c.Send(bytes.Repeat([]byte("x"), bound/4)) {
			t.Fatalf("a frame within the bound of %d bytes was refused", bound)
		}
	}
	c.mu.Lock()
	queued, closing := c.queued, c.closing
	c.mu.Unlock()
	if queued != bound || closing {
		t.Fatalf("queued %d bytes, closing %v; want %d queued and the connection open", queued, closing, bound)
	}
	if c.Send([]byte("y")) {
		t.Fatal("a frame past the bound was taken")
	}
	c.mu.Lock()
	code := c.closeCode
	c.mu.Unlock()
	if code != 4008 {
		t.Fatalf("close code %d after the overflow, want 4008", code)
	}
}
