package ws

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxBatchBytes bounds a write batch; a larger one is written out early.
const maxBatchBytes = 64 << 10

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// batchConn wraps a connection's socket so that the writer can turn all the
// frames it has queued into one write system call: between begin and flush,
// what the WebSocket library writes is gathered in a pooled buffer. Outside a
// batch writes go straight through. mu is the socket's write lock: it is
// held while writing so that a control frame written by another goroutine
// (a pong, a close) is never interleaved with a batch being flushed.
type batchConn struct {
	net.Conn
	// fragile is set for a TLS connection, which a write that runs out of
	// time breaks for good (crypto/tls cannot resume a record half sent):
	// flushWithin never writes to it with its short deadline.
	fragile  bool
	mu       sync.Mutex
	buf      *[]byte   // open batch, nil when none
	deadline time.Time // the write deadline asked for while the batch is open
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return b.Conn.Write(p)
	}
	*b.buf = append(*b.buf, p...)
	if len(*b.buf) >= maxBatchBytes {
		_ = b.Conn.SetWriteDeadline(b.deadline)
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// SetWriteDeadline passes the deadline to the socket, except while a batch
// is open: the library sets it again for every frame it writes, which is a
// timer update per frame, and nothing reaches the socket until the flush,
// which sets its own.
func (b *batchConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	open := b.buf != nil
	if open {
		b.deadline = t // for a flush forced by a full buffer
	}
	b.mu.Unlock()
	if open {
		return nil
	}
	return b.Conn.SetWriteDeadline(t)
}

// begin opens a batch.
func (b *batchConn) begin() {
	b.mu.Lock()
	if b.buf == nil {
		b.buf = batchPool.Get().(*[]byte)
	}
	b.mu.Unlock()
}

// flush writes the batch out in one call, waiting until deadline at most,
// and closes it, returning the buffer to the pool so an idle connection
// holds none.
func (b *batchConn) flush(deadline time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf != nil && len(*b.buf) > 0 {
		_ = b.Conn.SetWriteDeadline(deadline)
	}
	err := b.flushLocked()
	if b.buf != nil {
		*b.buf = (*b.buf)[:0]
		batchPool.Put(b.buf)
		b.buf = nil
	}
	return err
}

func (b *batchConn) flushLocked() error {
	if b.buf == nil || len(*b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// errSocketFull is flushWithin's report that the peer's socket took only
// part of the batch in time; the rest stays in the open batch.
var errSocketFull = errors.New("ws: socket full")

// flushWithin writes the batch, waiting at most d for the socket. When the
// socket does not take it all in time, the unwritten rest stays in the open
// batch (ahead of anything written later) and errSocketFull is returned; a
// later flush sends it.
func (b *batchConn) flushWithin(d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return nil
	}
	if len(*b.buf) > 0 && b.fragile {
		return errSocketFull // the connection's own writer sends it, with the full timeout
	}
	if len(*b.buf) > 0 {
		_ = b.Conn.SetWriteDeadline(time.Now().Add(d))
		n, err := b.Conn.Write(*b.buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				rest := copy(*b.buf, (*b.buf)[n:])
				*b.buf = (*b.buf)[:rest]
				return errSocketFull
			}
			return err
		}
	}
	*b.buf = (*b.buf)[:0]
	batchPool.Put(b.buf)
	b.buf = nil
	return nil
}

// discard drops an open batch after a failure.
func (b *batchConn) discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf != nil {
		*b.buf = (*b.buf)[:0]
		batchPool.Put(b.buf)
		b.buf = nil
	}
}

// tcp returns the underlying TCP connection, beneath TLS if need be, if it
// is one.
func (b *batchConn) tcp() (*net.TCPConn, bool) {
	c := b.Conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	tc, ok := c.(*net.TCPConn)
	return tc, ok
}

// batchingWriter hands the WebSocket library a batchConn when it hijacks the
// HTTP connection for the upgrade.
type batchingWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *batchingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if conn == nil {
		return nil, nil, errors.New("ws: hijack returned no connection")
	}
	_, isTLS := conn.(*tls.Conn)
	w.conn = &batchConn{Conn: conn, fragile: isTLS}
	return w.conn, brw, nil
}
