package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/client"
)

// historyPage is the page size history asks for: the protocol's largest.
const historyPage = 1000

const historyLong = `Print the messages of a room, or of a conversation by its key
(@<id>+<id>), oldest first: the newest --limit of them (0: all), or those
before the sequence --before. Messages are shown as they are now, edits,
deletions and reactions applied.

Text lines read "#SEQ TIME NAME: TEXT"; --json prints each message as one
JSON object a line, in the shape of docs/PROTOCOL.md's message body.

` + connHelp

// historyCommand is "parley history".
func historyCommand(e *cli) *cobra.Command {
	var (
		conn    *connFlags
		limit   int
		before  int64
		asJSON  bool
		timeout time.Duration
	)
	c := &cobra.Command{
		Use:   "history ROOM",
		Short: "Print a room's past messages",
		Long:  historyLong,
		Example: `  parley history --guest reader lobby --limit 20
  parley history --guest reader lobby --before 120 --json | jq -r .text`,
		Args: exactArgs("ROOM"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := conn.resolve(c, e); err != nil {
				return err
			}
			if limit < 0 || before < 0 {
				return usagef("--limit and --before must not be negative")
			}
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			return runHistory(ctx, e, conn, args[0], limit, before, asJSON)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	fs.IntVar(&limit, "limit", 50, "how many messages, the newest (0: all)")
	fs.Int64Var(&before, "before", 0, "only messages with a sequence below this one")
	fs.BoolVar(&asJSON, "json", false, "print JSON lines instead of text")
	fs.DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	conn = addConnFlags(fs)
	return c
}

func runHistory(ctx context.Context, e *cli, conn *connFlags, room string, limit int, before int64, asJSON bool) error {
	c, err := conn.dial(ctx, e, true, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	// Page back from the newest (or from --before) until there are enough;
	// the pages come newest first and are printed oldest first.
	var msgs []client.Message
	opts := client.HistoryOptions{Before: before, Limit: historyPage}
	if limit > 0 {
		opts.Limit = min(limit, historyPage)
	}
	for page, err := range c.HistoryPages(ctx, room, opts) {
		switch client.ErrorCode(err) {
		case "":
		case client.CodeNotFound:
			return fmt.Errorf("there is no room %s", room)
		case client.CodeForbidden:
			return fmt.Errorf("room %s is private, and you are not a member", room)
		default:
			return fmt.Errorf("history of %s: %w", room, conn.explain(err))
		}
		if err != nil {
			return fmt.Errorf("history of %s: %w", room, conn.explain(err))
		}
		msgs = append(msgs, page...)
		if limit > 0 && len(msgs) >= limit {
			msgs = msgs[:limit]
			break
		}
	}
	slices.Reverse(msgs)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range msgs {
		printMessage(e.stdout, m)
	}
	return nil
}

// printMessage writes a message as a history text line.
func printMessage(w io.Writer, m client.Message) {
	when := m.TS
	if t, err := time.Parse(time.RFC3339Nano, m.TS); err == nil {
		when = t.Local().Format("2006-01-02 15:04:05")
	}
	text := m.Text
	switch {
	case m.Deleted:
		text = "(deleted)"
	case m.EditedAt != "":
		text += " (edited)"
	}
	for _, r := range m.Reactions {
		text += fmt.Sprintf(" [%s %d]", r.Emoji, len(r.Users))
	}
	fmt.Fprintf(w, "#%d %s %s: %s\n", m.Seq, when, m.From.Name, text)
}
