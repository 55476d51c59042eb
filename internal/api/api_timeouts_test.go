package api_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/testutil"
)

// slowServer is a server with short HTTP timeouts, so the tests of slow
// clients take about a second each.
func slowServer(t *testing.T) *testutil.TestServer {
	return testutil.StartServer(t, func(c *config.Config) {
		c.ReadHeaderTimeout = 300 * time.Millisecond
		c.HTTPReadTimeout = time.Second
		c.HTTPWriteTimeout = 2 * time.Second
	})
}

// giveUp bounds every wait for the server to cut a slow client off: far
// above the timeouts, so only a missing protection reaches it.
const giveUp = 15 * time.Second

// dialRaw opens a TCP connection to ts with a small receive buffer.
func dialRaw(t *testing.T, ts *testutil.TestServer) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: testutil.DefaultWait, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// trickle writes one piece of data every 50 ms until the server closes
// the connection (a read or write fails), and reports what the server
// sent back; ok is false if the server is still listening after giveUp.
func trickle(c net.Conn, piece string) (answer string, ok bool) {
	answered := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(c) // ends when the server closes
		answered <- string(b)
	}()
	deadline := time.Now().Add(giveUp)
	for time.Now().Before(deadline) {
		select {
		case got := <-answered:
			return got, true
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := io.WriteString(c, piece); err != nil {
			return <-answered, true
		}
	}
	c.Close() // ends the reader
	return "", false
}

// served checks that another client gets an answer meanwhile.
func served(t *testing.T, ts *testutil.TestServer) {
	t.Helper()
	if status, body, _ := do(t, ts, "GET", "/api/v1/config", "", ""); status != http.StatusOK {
		t.Fatalf("another client was not served: %d %s", status, body)
	}
}

// TestSlowlorisHeaders: a client trickling its request headers is cut
// off after --read-header-timeout while others are served.
func TestSlowlorisHeaders(t *testing.T) {
	ts := slowServer(t)
	c := dialRaw(t, ts)
	if _, err := io.WriteString(c, "GET /api/v1/config HTTP/1.1\r\nHost: parley\r\n"); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() { _, ok := trickle(c, "X-Slow: 1\r\n"); done <- ok }()
	served(t, ts)
	if !<-done {
		t.Fatalf("the server still reads headers trickled for %v", giveUp)
	}
}

// TestSlowBody: a client trickling a request body gets 408 after
// --http-read-timeout and the connection is closed, while others are
// served.
func TestSlowBody(t *testing.T) {
	ts := slowServer(t)
	c := dialRaw(t, ts)
	if _, err := io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: parley\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		answer, ok := trickle(c, " ")
		if !ok {
			answer = "(nothing: the server still reads after " + giveUp.String() + ")"
		}
		got <- answer
	}()
	served(t, ts)
	answer := <-got
	if !strings.HasPrefix(answer, "HTTP/1.1 408") || !strings.Contains(answer, `"code":"invalid"`) {
		t.Fatalf("a slow body got %q, want 408 with the error JSON", answer)
	}
}

// TestSlowReader: a client that reads its answer too slowly is cut off
// after --http-write-timeout while others are served; WebSockets are not.
func TestSlowReader(t *testing.T) {
	ts := slowServer(t)
	ws := ts.Dial(t, "/ws?name=steady")
	ws.Welcome()
	start := time.Now()

	c := dialRaw(t, ts)
	// 100 requests for the 136 KB OpenAPI document in one go: 13.6 MB,
	// far more than the socket buffers hold (4 MB at most here) while the
	// client reads next to nothing.
	const requests = 100
	if _, err := io.WriteString(c, strings.Repeat("GET /api/v1/openapi.json HTTP/1.1\r\nHost: parley\r\n\r\n", requests)); err != nil {
		t.Fatal(err)
	}
	// The slow reader under test: 20 bytes a second for longer than the
	// write timeout.
	r := bufio.NewReaderSize(c, 16)
	for time.Since(start) < 3*time.Second {
		if _, err := r.ReadByte(); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	served(t, ts)
	// Now read as fast as possible: a server without a write timeout
	// would still be waiting and send every answer.
	_ = c.SetReadDeadline(time.Now().Add(giveUp))
	n, err := io.Copy(io.Discard, r)
	if full := int64(requests * len(openAPIDoc(t, ts))); n >= full/2 {
		t.Fatalf("the slow reader got %d of %d bytes (err %v): it was not cut off", n, full, err)
	}

	// The WebSocket opened before, more than the write timeout ago, is
	// still served.
	if time.Since(start) < 2*time.Second {
		t.Fatalf("only %v passed", time.Since(start))
	}
	ws.Send(protocol.TypePing, "p", nil)
	ws.Expect(protocol.TypePong)
}

// openAPIDoc fetches the OpenAPI document, as a normal client.
func openAPIDoc(t *testing.T, ts *testutil.TestServer) []byte {
	t.Helper()
	resp, err := http.Get(ts.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
