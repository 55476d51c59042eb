package client

import (
	"context"
	"iter"

	"github.com/parley-chat/parley/internal/protocol"
)

// Edit replaces the text of one of the user's own messages in room (a
// joined room, or a conversation key the user belongs to) and returns the
// ack: its Seq is the edit's own sequence in the room, and every
// connection in the room, this one included, receives an EventUpdate with
// the message's new state. Only the sender may edit (CodeForbidden); a
// deleted or unknown message is CodeNotFound.
//
// Edit, Delete and React are requests, not sends: they wait (bounded by
// ctx) for a connection, but one lost before the reply fails with
// ErrDisconnected and is not resent, since the server has no idempotency
// key for them. Retrying an edit or a reaction is harmless; retrying a
// delete that did happen is CodeNotFound.
func (c *Client) Edit(ctx context.Context, room, messageID, text string) (Ack, error) {
	return c.change(ctx, protocol.TypeEdit, protocol.EditBody{Room: room, MessageID: messageID, Text: text})
}

// Delete deletes a message: the user's own, or anyone's for room owners,
// room admins and server admins (CodeForbidden otherwise). The message
// keeps its id and sequence with empty text and Deleted set; the ack and
// the EventUpdate are as for Edit.
func (c *Client) Delete(ctx context.Context, room, messageID string) (Ack, error) {
	return c.change(ctx, protocol.TypeDelete, protocol.DeleteBody{Room: room, MessageID: messageID})
}

// React adds the user's reaction emoji (1 to 16 characters) to a message.
// Adding a reaction the user already made changes nothing: the ack then
// has Seq 0 and no EventUpdate follows.
func (c *Client) React(ctx context.Context, room, messageID, emoji string) (Ack, error) {
	return c.change(ctx, protocol.TypeReact, protocol.ReactBody{Room: room, MessageID: messageID, Emoji: emoji})
}

// Unreact removes the user's reaction emoji from a message; removing one
// the user did not make changes nothing (Seq 0, as for React).
func (c *Client) Unreact(ctx context.Context, room, messageID, emoji string) (Ack, error) {
	return c.change(ctx, protocol.TypeReact, protocol.ReactBody{Room: room, MessageID: messageID, Emoji: emoji, Remove: true})
}

// change sends an edit, delete or react and waits for its ack.
func (c *Client) change(ctx context.Context, typ string, body any) (Ack, error) {
	var ack Ack
	err := c.ask(ctx, typ, body, true, &ack)
	return ack, err
}

// HistoryOptions select a page of a room's history. The zero value is the
// newest page, newest first, of the server's default size.
type HistoryOptions struct {
	// Before pages backwards: messages with a seq below Before, newest
	// first. 0 starts from the newest message.
	Before int64
	// After, with Forward set, pages forwards: messages with a seq above
	// After, oldest first (After 0 is the room from its first message).
	// Forward wins over Before.
	After   int64
	Forward bool
	// Limit is the page size, at most 1000; 0 is the server's default
	// (--history-limit, 100 unless configured).
	Limit int
}

// History returns one page of the messages of room, a room name or a
// conversation key, in their current state (edits, deletions and
// reactions applied; deleted messages included with empty text). Public
// rooms can be read without joining; private rooms and conversations need
// membership (CodeForbidden). A page shorter than Limit is the last one.
// Sequences in a page skip the numbers that updates used; that is not a
// gap.
func (c *Client) History(ctx context.Context, room string, opts HistoryOptions) ([]Message, error) {
	body := protocol.HistoryBody{Room: room, Before: opts.Before, Limit: opts.Limit}
	if opts.Forward {
		after := opts.After
		body.After = &after
	}
	var page protocol.HistoryReply
	if err := c.request(ctx, protocol.TypeHistory, body, &page); err != nil {
		return nil, err
	}
	return page.Messages, nil
}

// HistoryPages pages through room from opts, one page per iteration:
// backwards from opts.Before (the newest page first), or forwards from
// opts.After with opts.Forward. It stops after a page shorter than
// opts.Limit (an empty page when Limit is 0), at the room's first message
// when paging backwards, at the first error (yielded with a nil page), or
// when the loop body breaks.
func (c *Client) HistoryPages(ctx context.Context, room string, opts HistoryOptions) iter.Seq2[[]Message, error] {
	return func(yield func([]Message, error) bool) {
		for {
			page, err := c.History(ctx, room, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) == 0 || !yield(page, nil) {
				return
			}
			last := page[len(page)-1].Seq
			switch {
			case opts.Limit > 0 && len(page) < opts.Limit:
				return
			case opts.Forward:
				opts.After = last
			case last <= 1:
				return
			default:
				opts.Before = last
			}
		}
	}
}

// MarkRead moves the user's read marker in room (a room name or a
// conversation key the user is a member of, joined or not) to seq and
// returns the marker in force, which may be higher (markers only move
// forward) or lower (never past the room's newest event) than seq. The
// room's other members receive the receipt as an EventRead. Guests have
// no markers (CodeForbidden). Each call counts against the rate limit:
// send one for the newest sequence on screen, at most every second or
// so, rather than one per message.
func (c *Client) MarkRead(ctx context.Context, room string, seq int64) (Read, error) {
	var r Read
	err := c.request(ctx, protocol.TypeRead, protocol.ReadBody{Room: room, Seq: seq}, &r)
	return r, err
}
