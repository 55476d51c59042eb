package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// loopbackPair returns a batchConn over a real TCP connection and its peer.
func loopbackPair(t *testing.T) (*batchConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return &batchConn{Conn: server}, client
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// TestBatchFlushesInOrder writes more than one batch buffer's worth while a
// batch is open, the way the library does (a deadline, then a write, per
// frame); everything arrives, in order, including the part flushed early
// because the buffer filled.
func TestBatchFlushesInOrder(t *testing.T) {
	bc, peer := loopbackPair(t)
	want := pattern(5 * maxBatchBytes / 2)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(want))))
		got <- b
	}()
	// As after an earlier short flush: the socket's deadline has passed.
	_ = bc.Conn.SetWriteDeadline(time.Now().Add(-time.Second))
	bc.begin()
	for off := 0; off < len(want); off += 1000 {
		end := min(off+1000, len(want))
		// The deadline asked for while the batch is open is the one an
		// early flush uses, not the stale one on the socket.
		if err := bc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := bc.Write(want[off:end]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	if err := bc.flush(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Fatalf("peer got %d bytes, not what was written", len(b))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("peer did not get the batch")
	}
}

// TestFlushWithinKeepsWhatDidNotFit: when the peer is not reading, a short
// flush gives up with errSocketFull and keeps the rest, which a later flush
// delivers once the peer reads — nothing lost, nothing reordered.
func TestFlushWithinKeepsWhatDidNotFit(t *testing.T) {
	bc, peer := loopbackPair(t)
	want := pattern(16 << 20) // far more than the socket buffers hold
	bc.begin()
	bc.mu.Lock()
	*bc.buf = append(*bc.buf, want...)
	bc.mu.Unlock()
	if err := bc.flushWithin(5 * time.Millisecond); !errors.Is(err, errSocketFull) {
		t.Fatalf("flushWithin to a peer that does not read = %v, want errSocketFull", err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(len(want))))
		got <- b
	}()
	if err := bc.flush(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Fatalf("peer got %d bytes, not what was written", len(b))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("peer did not get the rest")
	}
}

// readFor reads what the peer has been sent within d.
func readFor(t *testing.T, peer net.Conn, d time.Duration) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 32<<10)
	_ = peer.SetReadDeadline(time.Now().Add(d))
	for {
		n, err := peer.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got
		}
	}
}

// TestABatchWaitsForItsFlushUntilItIsFull: while a batch is open, writes
// reach the socket only at the flush, except once the batch holds
// maxBatchBytes, which go out at once; each Write reports all its bytes.
func TestABatchWaitsForItsFlushUntilItIsFull(t *testing.T) {
	bc, peer := loopbackPair(t)
	bc.begin()
	if err := bc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	small := pattern(1000)
	if n, err := bc.Write(small); n != len(small) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(small))
	}
	if got := readFor(t, peer, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("the peer got %d bytes of an open batch before its flush", len(got))
	}
	rest := pattern(maxBatchBytes - len(small)) // the batch is now exactly full
	if n, err := bc.Write(rest); n != len(rest) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(rest))
	}
	if got := readFor(t, peer, 2*time.Second); len(got) != maxBatchBytes {
		t.Fatalf("the peer got %d bytes of a full batch before its flush, want %d", len(got), maxBatchBytes)
	}
	if err := bc.flush(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
}

// TestOutsideABatchTheDeadlineReachesTheSocket: with no batch open, a
// write deadline applies to the socket at once (a write after it fails).
func TestOutsideABatchTheDeadlineReachesTheSocket(t *testing.T) {
	bc, _ := loopbackPair(t)
	if err := bc.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.Write([]byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a write past the deadline = %v, want a timeout", err)
	}
}

// TestATLSBatchIsNeverFlushedWithTheShortDeadline: on a fragile (TLS)
// connection flushWithin writes nothing and leaves the batch to the
// connection's writer, reporting errSocketFull; an empty batch it closes.
func TestATLSBatchIsNeverFlushedWithTheShortDeadline(t *testing.T) {
	bc, peer := loopbackPair(t)
	bc.fragile = true
	bc.begin()
	if err := bc.flushWithin(time.Second); err != nil {
		t.Fatalf("flushWithin of an empty batch = %v, want nil", err)
	}
	bc.begin()
	bc.mu.Lock()
	*bc.buf = append(*bc.buf, "frame"...)
	bc.mu.Unlock()
	if err := bc.flushWithin(time.Second); !errors.Is(err, errSocketFull) {
		t.Fatalf("flushWithin on TLS = %v, want errSocketFull", err)
	}
	if got := readFor(t, peer, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("flushWithin on TLS wrote %q", got)
	}
	if err := bc.flush(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, peer, 2*time.Second); string(got) != "frame" {
		t.Fatalf("the writer's flush sent %q, want %q", got, "frame")
	}
}
