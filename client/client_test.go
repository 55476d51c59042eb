package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const wait = 5 * time.Second

// startServer runs a real server with guests on and limits that do not get
// in the way of a test's bursts.
func startServer(t *testing.T, mutate func(*config.Config)) *testutil.TestServer {
	t.Helper()
	return testutil.StartServer(t, func(c *config.Config) {
		c.RateMessages = 1000
		c.RateBurst = 1000
		testutil.WithoutUserLimits(c)
		if mutate != nil {
			mutate(c)
		}
	})
}

func dial(t *testing.T, ts *testutil.TestServer, opts client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := client.Dial(ctx, ts.WSURL+"/ws", opts)
	if err != nil {
		t.Fatalf("dial %s: %v", opts.Name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return c
}

// next returns the next event of one of the wanted types, skipping others.
func next(t *testing.T, c *client.Client, want ...client.EventType) client.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %v: %v", want, c.Err())
			}
			for _, w := range want {
				if ev.Type == w {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within %v", want, wait)
		}
	}
}

func join(t *testing.T, c *client.Client, room string) client.Joined {
	t.Helper()
	j, err := c.Join(ctx(t), room)
	if err != nil {
		t.Fatalf("join %s: %v", room, err)
	}
	return j
}

func TestSendReceive(t *testing.T) {
	ts := startServer(t, nil)
	alice := dial(t, ts, client.Options{Name: "alice"})
	bob := dial(t, ts, client.Options{Name: "bob"})
	if u := alice.Session().User; !strings.HasPrefix(u.ID, "guest:") || u.Name != "alice" || !u.Guest {
		t.Fatalf("session user = %+v, want a guest called alice", u)
	}
	if j := join(t, alice, "Lobby"); j.Room != "lobby" {
		t.Fatalf("joined room = %q, want the normalised key lobby", j.Room)
	}
	join(t, bob, "lobby")

	ack, err := alice.Send(ctx(t), "lobby", "hello bob")
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if ack.Seq != 1 || ack.MessageID == "" || ack.Duplicate {
		t.Fatalf("ack = %+v, want seq 1, an id and no duplicate", ack)
	}
	ev := next(t, bob, client.EventMessage)
	if ev.Room != "lobby" || ev.Message.Text != "hello bob" || ev.Message.ID != ack.MessageID || ev.Message.From.ID != alice.Session().User.ID {
		t.Fatalf("bob got %+v, want alice's message %s", ev.Message, ack.MessageID)
	}
	// The send's client_id starts with the time, in milliseconds base 36.
	if cid := ev.Message.ClientID; len(cid) < 10 || cid[9] != '-' {
		t.Fatalf("client_id %q does not start with nine digits of time", cid)
	} else if ms, err := strconv.ParseInt(cid[:9], 36, 64); err != nil || time.Since(time.UnixMilli(ms)).Abs() > time.Minute {
		t.Fatalf("client_id %q starts with %v (%v), not about now", cid, time.UnixMilli(ms), err)
	}

	if err := alice.Typing(ctx(t), "lobby", true); err != nil {
		t.Fatalf("typing: %v", err)
	}
	if ev := next(t, bob, client.EventTyping); ev.Typing.State != "start" || ev.Typing.User.ID != alice.Session().User.ID {
		t.Fatalf("typing event = %+v", ev.Typing)
	}

	pack, err := bob.Private(ctx(t), alice.Session().User.ID, "psst")
	if err != nil {
		t.Fatalf("private: %v", err)
	}
	if ev := next(t, alice, client.EventPrivate); ev.Message.Text != "psst" || ev.Message.ID != pack.MessageID {
		t.Fatalf("private event = %+v, want psst %s", ev.Message, pack.MessageID)
	}

	if rtt, err := alice.Ping(ctx(t)); err != nil || rtt <= 0 {
		t.Fatalf("ping = %v, %v", rtt, err)
	}

	if err := bob.Leave(ctx(t), "lobby"); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if ev := next(t, alice, client.EventPresence); ev.Presence.Event != "leave" || ev.Presence.User.ID != bob.Session().User.ID {
		t.Fatalf("presence = %+v, want bob's leave", ev.Presence)
	}
}

func TestServerErrorsReachTheCaller(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts, client.Options{Name: "carol"})
	_, err := c.Send(ctx(t), "nowhere", "hi")
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != "not_joined" {
		t.Fatalf("send to an unjoined room: %v, want a not_joined ServerError", err)
	}
	if _, err := c.Join(ctx(t), "-bad"); !errors.As(err, &se) || se.Code != "invalid_room" {
		t.Fatalf("join of a bad name: %v, want invalid_room", err)
	}
}

// TestAcksMatchedByID sends concurrently: each caller must get the ack of its
// own message, not of a neighbour's.
func TestAcksMatchedByID(t *testing.T) {
	ts := startServer(t, nil)
	alice := dial(t, ts, client.Options{Name: "alice"})
	bob := dial(t, ts, client.Options{Name: "bob", EventBuffer: 1024})
	join(t, alice, "lobby")
	join(t, bob, "lobby")

	const n = 100
	acks := make([]client.Ack, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			a, err := alice.Send(ctx(t), "lobby", fmt.Sprintf("msg %d", i))
			if err != nil {
				errs <- err
			}
			acks[i] = a
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("send: %v", err)
	}
	texts := make(map[string]string, n) // message id → text, as bob saw it
	var lastSeq int64
	for range n {
		ev := next(t, bob, client.EventMessage)
		if ev.Message.Seq <= lastSeq {
			t.Fatalf("seq %d after %d: out of order", ev.Message.Seq, lastSeq)
		}
		lastSeq = ev.Message.Seq
		texts[ev.Message.ID] = ev.Message.Text
	}
	for i, a := range acks {
		if want := fmt.Sprintf("msg %d", i); texts[a.MessageID] != want {
			t.Fatalf("ack of %q names message %s, which is %q", want, a.MessageID, texts[a.MessageID])
		}
	}
}

// cutter dials through a gate and can cut every connection it made, the way
// a network failure would: abruptly, with no close frame.
type cutter struct {
	mu    sync.Mutex
	gate  chan struct{} // while non-nil, dials wait for it to close
	conns []net.Conn
	// dropAck, when set, swallows the next read holding an ack and cuts
	// the connection: the message is stored but its ack is lost.
	dropAck atomic.Bool
	dials   atomic.Int32
}

func (k *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	k.mu.Lock()
	g := k.gate
	k.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	k.dials.Add(1)
	k.mu.Lock()
	k.conns = append(k.conns, nc)
	k.mu.Unlock()
	return &cutConn{Conn: nc, k: k}, nil
}

// cut closes the gate and drops every connection.
func (k *cutter) cut() { k.drop(true) }

// drop drops every connection, shutting the gate if shut is set.
func (k *cutter) drop(shut bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if shut && k.gate == nil {
		k.gate = make(chan struct{})
	}
	for _, c := range k.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	k.conns = nil
}

// open lets dials through again.
func (k *cutter) open() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gate != nil {
		close(k.gate)
		k.gate = nil
	}
}

type cutConn struct {
	net.Conn
	k *cutter
}

func (c *cutConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	// Server frames are not masked, so an ack is visible in the bytes.
	if n > 0 && c.k.dropAck.Load() && bytes.Contains(p[:n], []byte(`{"type":"ack"`)) {
		c.k.dropAck.Store(false)
		c.k.drop(false)
		return 0, net.ErrClosed
	}
	return n, err
}

func reconnecting(k *cutter, name string) client.Options {
	return client.Options{Name: name, Reconnect: true, NetDial: k.dial,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, EventBuffer: 1024}
}

// TestReconnectRecoversEverything cuts a member's connection and keeps it
// out while another member talks: after the reconnect it has every message
// exactly once and in order, then live traffic resumes.
func TestReconnectRecoversEverything(t *testing.T) {
	ts := startServer(t, nil)
	k := &cutter{}
	alice := dial(t, ts, reconnecting(k, "alice"))
	bob := dial(t, ts, client.Options{Name: "bob"})
	join(t, alice, "lobby")
	join(t, bob, "lobby")
	join(t, alice, "second") // a room with no traffic is re-joined too

	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := bob.Send(ctx(t), "lobby", fmt.Sprintf("m%d", i)); err != nil {
				t.Fatalf("send m%d: %v", i, err)
			}
		}
	}
	var got []string
	collect := func(n int) {
		for range n {
			ev := next(t, alice, client.EventMessage, client.EventReconnected)
			if ev.Type == client.EventReconnected {
				got = append(got, "<reconnected>")
				ev = next(t, alice, client.EventMessage)
			}
			got = append(got, ev.Message.Text)
		}
	}
	send(0, 5)
	collect(5)
	k.cut()
	send(5, 25) // alice is away for all of these
	k.open()
	collect(20)
	send(25, 30)
	collect(5)

	var want []string
	for i := range 30 {
		if i == 5 {
			want = append(want, "<reconnected>")
		}
		want = append(want, fmt.Sprintf("m%d", i))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("alice saw\n%v\nwant\n%v", got, want)
	}
	if k.dials.Load() != 2 {
		t.Fatalf("%d dials, want 2", k.dials.Load())
	}
	// And it can still talk in a room it had joined before the cut.
	if _, err := alice.Send(ctx(t), "second", "still here"); err != nil {
		t.Fatalf("send after reconnect: %v", err)
	}
}

// TestOutboxStoresOnce loses the ack of a stored message and sends another
// while disconnected: both complete, and the other member sees each once.
func TestOutboxStoresOnce(t *testing.T) {
	ts := startServer(t, nil)
	k := &cutter{}
	alice := dial(t, ts, reconnecting(k, "alice"))
	bob := dial(t, ts, client.Options{Name: "bob"})
	join(t, alice, "lobby")
	join(t, bob, "lobby")

	k.dropAck.Store(true)
	first, err := alice.Send(ctx(t), "lobby", "first")
	if err != nil {
		t.Fatalf("send with a lost ack: %v", err)
	}
	if !first.Duplicate || first.Seq != 1 {
		t.Fatalf("ack after the loss = %+v, want the original seq 1 marked duplicate", first)
	}

	k.cut()
	done := make(chan error, 1)
	go func() {
		_, err := alice.Send(ctx(t), "lobby", "second")
		done <- err
	}()
	// The send waits in the outbox while the gate is shut.
	select {
	case err := <-done:
		t.Fatalf("send returned while disconnected: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	k.open()
	if err := <-done; err != nil {
		t.Fatalf("send from the outbox: %v", err)
	}

	for i, want := range []string{"first", "second"} {
		if ev := next(t, bob, client.EventMessage); ev.Message.Text != want || ev.Message.Seq != int64(i+1) {
			t.Fatalf("bob got %q seq %d, want %q seq %d", ev.Message.Text, ev.Message.Seq, want, i+1)
		}
	}
	if _, err := bob.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-bob.Events():
		if ev.Type == client.EventMessage {
			t.Fatalf("bob got a duplicate: %q", ev.Message.Text)
		}
	default:
	}
}

// TestNoReconnectOnTooManyConnections: 4009 is final, not a reason to retry.
func TestNoReconnectOnTooManyConnections(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxConnsPerUser = 1 })
	k := &cutter{}
	first := dial(t, ts, client.Options{Name: "dave"})
	// The server welcomes a connection before it counts it, and Dial
	// returns at the welcome; a reply to a frame of the first connection
	// means it is counted, so the second is the one refused.
	if _, err := first.Ping(ctx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// The same guest again, with the guest token of the first connection.
	again := reconnecting(k, "")
	again.Token = first.Session().GuestToken
	second := dial(t, ts, again)
	ev := next(t, second, client.EventError)
	var ce *client.CloseError
	if !errors.As(ev.Err, &ce) || ce.Code != 4009 {
		t.Fatalf("error event %v, want close 4009", ev.Err)
	}
	select {
	case _, ok := <-second.Events():
		if ok {
			t.Fatal("events still open after a final close")
		}
	case <-time.After(wait):
		t.Fatal("events not closed after a final close")
	}
	if _, err := second.Send(ctx(t), "x", "y"); !errors.As(err, &ce) {
		t.Fatalf("send after the final close: %v, want the CloseError", err)
	}
	if k.dials.Load() != 1 {
		t.Fatalf("%d dials, want 1 (no reconnect)", k.dials.Load())
	}
}

// TestNoReconnectAfterTheApplicationDisconnects: 4003 (the application
// ended the user's sessions) is final too.
func TestNoReconnectAfterTheApplicationDisconnects(t *testing.T) {
	ts := startServer(t, nil)
	k := &cutter{}
	dave := dial(t, ts, reconnecting(k, "dave"))
	if _, err := dave.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	admin := adminToken(t, ts)
	req, _ := http.NewRequest("DELETE", ts.URL+"/api/v1/connections/"+dave.Session().User.ID, strings.NewReader(`{"reason":"suspended"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("disconnect = %d", resp.StatusCode)
	}
	ev := next(t, dave, client.EventError)
	var ce *client.CloseError
	if !errors.As(ev.Err, &ce) || ce.Code != 4003 || ce.Reason != "suspended" {
		t.Fatalf("error event %v, want close 4003 suspended", ev.Err)
	}
	select {
	case <-dave.Done():
	case <-time.After(wait):
		t.Fatal("the client did not stop after 4003")
	}
	if k.dials.Load() != 1 {
		t.Fatalf("%d dials, want 1 (no reconnect)", k.dials.Load())
	}
}

// adminToken registers an account, makes it a server admin and signs it
// in again, returning its access token.
func adminToken(t *testing.T, ts *testutil.TestServer) string {
	t.Helper()
	post := func(path, body string) map[string]any {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s = %d %v", path, resp.StatusCode, err)
		}
		return out
	}
	creds := `{"username":"root","password":"correct horse battery"}`
	user := post("/api/v1/auth/register", creds)["user"].(map[string]any)
	ts.SetAdmin(t, user["id"].(string))
	return post("/api/v1/auth/login", creds)["access_token"].(string)
}

func TestDialRefused(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Guests = false })
	_, err := client.Dial(ctx(t), ts.WSURL+"/ws", client.Options{Name: "eve"})
	var de *client.DialError
	if !errors.As(err, &de) || de.Status != 401 {
		t.Fatalf("dial as a guest with guests off: %v, want HTTP 401", err)
	}
}

// TestDialRefusedByAFullNodeSaysWhenToRetry: a node at its max-conns
// refuses with 503 and the Retry-After the reconnect loop waits.
func TestDialRefusedByAFullNodeSaysWhenToRetry(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxConns = 1 })
	dial(t, ts, client.Options{Name: "first"})
	_, err := client.Dial(ctx(t), ts.WSURL+"/ws", client.Options{Name: "second"})
	var de *client.DialError
	if !errors.As(err, &de) || de.Status != 503 || de.RetryAfter < time.Second {
		t.Fatalf("dial to a full node: %v, want HTTP 503 with a RetryAfter", err)
	}
}

// TestCloseUnblocksWaiters: Close while a request waits for a connection
// that will never come back ends the wait.
func TestCloseUnblocksWaiters(t *testing.T) {
	ts := startServer(t, nil)
	k := &cutter{}
	c, err := client.Dial(ctx(t), ts.WSURL+"/ws", reconnecting(k, "frank"))
	if err != nil {
		t.Fatal(err)
	}
	k.cut()
	done := make(chan error, 1)
	go func() {
		_, err := c.Join(context.Background(), "lobby")
		done <- err
	}()
	_ = c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, client.ErrClosed) {
			t.Fatalf("join after close: %v, want ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("join still waiting after Close")
	}
}

// TestGuestKeepsItsIdentityAcrossReconnects: a guest reconnects with the
// guest token of its welcome and is the same user again; when a server no
// longer takes the token (here: another server, with another key), it
// comes back as a new guest of the same name rather than stopping.
func TestGuestKeepsItsIdentityAcrossReconnects(t *testing.T) {
	first, second := startServer(t, nil), startServer(t, nil)
	var target atomic.Value
	target.Store(strings.TrimPrefix(first.URL, "http://"))
	var mu sync.Mutex
	var open []net.Conn
	netDial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, target.Load().(string))
		if err == nil {
			mu.Lock()
			open = append(open, nc)
			mu.Unlock()
		}
		return nc, err
	}
	cutAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range open {
			nc.Close()
		}
		open = nil
	}
	erin := dial(t, first, client.Options{Name: "erin", Reconnect: true, NetDial: netDial,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	w := erin.Session()
	if w.GuestToken == "" || !w.User.Guest {
		t.Fatalf("welcome %+v, want a guest with a guest token", w)
	}

	cutAll()
	testutil.Eventually(t, wait, func() bool { return erin.Session().Session != w.Session }, "no reconnect")
	if again := erin.Session(); again.User.ID != w.User.ID {
		t.Fatalf("after a reconnect the guest is %q, want the same guest %q", again.User.ID, w.User.ID)
	}

	target.Store(strings.TrimPrefix(second.URL, "http://"))
	cutAll()
	testutil.Eventually(t, wait, func() bool { return erin.Session().User.ID != w.User.ID }, "no reconnect to the second server")
	if u := erin.Session().User; u.Name != "erin" || !u.Guest {
		t.Fatalf("on the second server the client is %+v, want a new guest called erin", u)
	}
	if _, err := erin.Ping(ctx(t)); err != nil {
		t.Fatalf("ping after the fallback: %v", err)
	}
	// The new guest's token is kept: the next reconnect is that guest.
	w = erin.Session()
	cutAll()
	testutil.Eventually(t, wait, func() bool { return erin.Session().Session != w.Session }, "no reconnect")
	if again := erin.Session(); again.User.ID != w.User.ID {
		t.Fatalf("after a reconnect the new guest is %q, want %q", again.User.ID, w.User.ID)
	}
}
