package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/protocol"
)

type callKind int

const (
	callRequest callKind = iota // a caller waits; fails on disconnect
	callSend                    // a caller waits; survives disconnects in the outbox
	callRejoin                  // internal re-join after reconnect
	callGapFill                 // internal re-join to fill a gap in a room
)

// call is a frame waiting for its reply.
type call struct {
	kind     callKind
	frame    []byte // the request, resent on reconnect (callSend)
	clientID string
	room     string // callRejoin, callGapFill
	since    int64  // callRejoin, callGapFill
	// update marks an edit, delete or react: its ack's seq is that of an
	// update frame the connection receives too, which must not be dropped
	// as already seen.
	update bool
	reply  chan result
}

// result is a call's reply: an error, or a reply of type typ with its body,
// or, for an ack, the ack already decoded (body is then nil).
type result struct {
	typ  string
	body json.RawMessage
	ack  Ack
	err  error
}

// finish hands the result to the waiting caller, if any; it never blocks.
func (cl *call) finish(r result) {
	if cl.reply != nil {
		select {
		case cl.reply <- r:
		default:
		}
	}
}

// Join joins room and returns the server's joined reply; its Room is the
// room's normalised key, which events carry. The room is re-joined
// automatically after a reconnect.
func (c *Client) Join(ctx context.Context, room string) (Joined, error) {
	var j Joined
	err := c.request(ctx, protocol.TypeJoin, protocol.JoinBody{Room: room}, &j)
	return j, err
}

// Leave leaves room on this connection; its events stop.
func (c *Client) Leave(ctx context.Context, room string) error {
	return c.request(ctx, protocol.TypeLeave, protocol.RoomBody{Room: room}, nil)
}

// Ping sends an application-level ping and returns the round-trip time.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	if err := c.request(ctx, protocol.TypePing, nil, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Typing starts (start true) or stops the typing indicator in room. It is
// fire-and-forget, like the signal itself: nothing is sent while
// disconnected (ErrDisconnected).
func (c *Client) Typing(_ context.Context, room string, start bool) error {
	state := "stop"
	if start {
		state = "start"
	}
	c.mu.Lock()
	conn, closing := c.conn, c.closing
	c.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if conn == nil {
		return ErrDisconnected
	}
	return c.write(conn, encodeFrame(protocol.TypeTyping, "", protocol.TypingBody{Room: room, State: state}))
}

// request sends one frame once connected and waits for its reply, decoding
// the reply's body into out when out is not nil. A frame refused with
// rate_limited had no effect, so it is sent again after the server's
// retry_after_ms, as often as ctx allows.
func (c *Client) request(ctx context.Context, typ string, body any, out any) error {
	return c.ask(ctx, typ, body, false, out)
}

// ask is request; update marks an edit, delete or react (see call.update).
func (c *Client) ask(ctx context.Context, typ string, body any, update bool, out any) error {
	for {
		id := c.newID()
		cl := &call{kind: callRequest, update: update, frame: encodeFrame(typ, id, body), reply: make(chan result, 1)}
		err := c.do(ctx, id, cl, out)
		var se *ServerError
		if !errors.As(err, &se) || se.Code != CodeRateLimited {
			return err
		}
		if err := c.sleep(ctx, max(se.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

// sleep waits for d, ctx's end or the client's.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.Err()
	}
}

// do sends the request cl, whose frame carries the id id, once connected,
// and waits for its reply. Waiting for a connection is bounded by ctx
// only: while disconnected with Reconnect on, the request goes out on the
// next connection.
func (c *Client) do(ctx context.Context, id string, cl *call, out any) error {
	for {
		c.mu.Lock()
		if c.closing {
			err := c.stoppedErr()
			c.mu.Unlock()
			return err
		}
		conn, wait := c.conn, c.connected
		if conn != nil {
			c.pending[id] = cl
		}
		c.mu.Unlock()
		if conn != nil {
			if err := c.write(conn, cl.frame); err != nil {
				c.forget(id)
				return fmt.Errorf("%w: %v", ErrDisconnected, err)
			}
			break
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.Err()
		}
	}
	return c.await(ctx, id, cl, out)
}

// await waits for the reply of a registered call.
func (c *Client) await(ctx context.Context, id string, cl *call, out any) error {
	select {
	case r := <-cl.reply:
		if r.err != nil {
			return r.err
		}
		if out == nil {
			return nil
		}
		body := r.body
		if r.typ == protocol.TypeAck && body == nil {
			if a, ok := out.(*Ack); ok {
				*a = r.ack
				return nil
			}
			body, _ = json.Marshal(r.ack) // an ack answering something else
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("parley: decode %s reply: %w", r.typ, err)
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return ctx.Err()
	case <-c.done:
		return c.Err()
	}
}

// forget drops a call whose caller gave up.
func (c *Client) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.pending[id]; ok {
		delete(c.pending, id)
		if cl.kind == callSend {
			c.dropOutboxLocked(cl)
		}
	}
}

// dropOutboxLocked takes cl out of the outbox, freeing its slot.
func (c *Client) dropOutboxLocked(cl *call) {
	for i, o := range c.outbox {
		if o == cl {
			c.outbox = append(c.outbox[:i], c.outbox[i+1:]...)
			select {
			case <-c.slots:
			default:
			}
			return
		}
	}
}

// stoppedErr is the error for requests on a stopped client.
func (c *Client) stoppedErr() error {
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// write sends one frame on conn.
func (c *Client) write(conn *websocket.Conn, frame []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	return conn.WriteMessage(websocket.TextMessage, frame)
}
