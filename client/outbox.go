package client

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/protocol"
)

// Send sends text to a joined room and waits for the server's ack, which
// means the message is stored. The message carries a fresh client_id (the
// time, then random digits and a counter) and stays in the client's outbox
// until its ack:
//
//   - sent while disconnected (with Options.Reconnect), it waits and goes
//     out on the next connection, after the rooms are re-joined;
//   - if the connection is lost before the ack, it is resent with the same
//     client_id after the reconnect, and the server, which already stored
//     it, answers with the original ack (Ack.Duplicate set): the message is
//     stored once however often it is sent;
//   - refused with CodeRateLimited, it is resent after the RetryAfter the
//     server gave, and with CodeUnavailable (the server's database did not
//     answer) after a backoff, with the same client_id;
//   - when Options.MaxOutbox sends are already waiting, Send waits for one
//     of them to finish before it sends.
//
// All of this is bounded by ctx: if it ends first, Send returns ctx's error
// and the message may or may not have been stored. Any other refusal is a
// *ServerError (CodeNotJoined, CodeTooLong, …) and nothing was stored.
func (c *Client) Send(ctx context.Context, room, text string) (Ack, error) {
	cid := c.newClientID()
	return c.send(ctx, protocol.TypeChat, protocol.ChatBody{Room: room, Text: text, ClientID: cid}, cid)
}

// Private sends a private message to the user with id to and waits for the
// ack, with the same outbox guarantees as Send. The ack's Room is the
// conversation's key.
func (c *Client) Private(ctx context.Context, to, text string) (Ack, error) {
	cid := c.newClientID()
	return c.send(ctx, protocol.TypePrivate, protocol.PrivateBody{To: to, Text: text, ClientID: cid}, cid)
}

// OutboxLen returns how many sends are waiting for their ack.
func (c *Client) OutboxLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outbox)
}

// send puts a send in the outbox and waits for its ack, resending it after
// refusals that ask for a retry.
func (c *Client) send(ctx context.Context, typ string, body any, cid string) (Ack, error) {
	id := c.newID()
	frame := encodeFrame(typ, id, body)
	delay := c.opts.BackoffMin
	for {
		ack, err := c.sendOnce(ctx, id, frame, cid)
		var se *ServerError
		if !errors.As(err, &se) {
			return ack, err
		}
		var wait time.Duration
		switch se.Code {
		case CodeRateLimited:
			wait = max(se.RetryAfter, time.Millisecond)
		case CodeUnavailable:
			wait = delay
			delay = min(2*delay, c.opts.BackoffMax)
		default:
			return ack, err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return Ack{}, err
		}
	}
}

// sendOnce takes an outbox slot, registers the send, writes it if a
// connection is up (the next connection resends it otherwise) and waits for
// its reply.
func (c *Client) sendOnce(ctx context.Context, id string, frame []byte, cid string) (Ack, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return Ack{}, ctx.Err()
	case <-c.done:
		return Ack{}, c.Err()
	}
	cl := &call{kind: callSend, frame: frame, clientID: cid, reply: make(chan result, 1)}
	c.mu.Lock()
	if c.closing {
		err := c.stoppedErr()
		c.mu.Unlock()
		<-c.slots
		return Ack{}, err
	}
	c.pending[id] = cl
	c.outbox = append(c.outbox, cl)
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		// A failed write is not an error here: the connection is going
		// down and the next one resends the outbox.
		_ = c.write(conn, cl.frame)
	}
	var ack Ack
	err := c.await(ctx, id, cl, &ack)
	return ack, err
}
