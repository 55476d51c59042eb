package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/client"
)

// maxStdinText bounds what "parley send ROOM -" reads: more than any
// server's max_message_length, which still refuses what is too long.
const maxStdinText = 1 << 20

const sendLong = `Send one message to a room and wait until the server has stored it.

The exit status is 0 only when the server acknowledged the message, which
means it is stored; otherwise it is 1, with the reason on standard error
(the server's own for a refusal). A connection lost before the
acknowledgement is re-made and the message resent with the same client_id
within --timeout, so it is stored once. With TEXT "-" the text is read from
standard input (a trailing newline is dropped).

` + connHelp

// sendCommand is "parley send".
func sendCommand(e *cli) *cobra.Command {
	var (
		conn    *connFlags
		timeout time.Duration
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "send ROOM TEXT",
		Short: "Send a message to a room",
		Long:  sendLong,
		Example: `  parley send --guest bot lobby "Deployed v2"
  echo "build passed" | PARLEY_TOKEN=$TOKEN parley send ci -`,
		Args: exactArgs("ROOM", "TEXT"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := conn.resolve(c, e); err != nil {
				return err
			}
			return runSend(c.Context(), e, conn, args[0], args[1], timeout, asJSON)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	conn = addConnFlags(fs)
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "give up when the message is not stored within this time")
	fs.BoolVar(&asJSON, "json", false, "print the server's acknowledgement as JSON")
	return c
}

func runSend(ctx context.Context, e *cli, conn *connFlags, room, text string, timeout time.Duration, asJSON bool) error {
	stdinFree := true
	if text == "-" {
		stdinFree = false
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxStdinText))
		if err != nil {
			return fmt.Errorf("read the text from standard input: %w", err)
		}
		text = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	if strings.TrimSpace(text) == "" {
		return usagef("the text is empty")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := conn.dial(ctx, e, stdinFree, func(o *client.Options) { o.Reconnect = true })
	if err != nil {
		return err
	}
	defer c.Close()
	j, err := c.Join(ctx, room)
	if err != nil {
		return notSent(conn, err, room)
	}
	ack, err := c.Send(ctx, j.Room, text)
	if err != nil {
		return notSent(conn, err, room)
	}
	if asJSON {
		out, _ := json.Marshal(ack)
		fmt.Fprintln(e.stdout, string(out))
	}
	return nil
}

// notSent says why a message was not sent. When ctx ran out after the
// connection was lost, the message may have been stored.
func notSent(conn *connFlags, err error, room string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("not sent to %s: the server did not acknowledge it in time (it may or may not be stored)", room)
	}
	return fmt.Errorf("not sent to %s: %w", room, conn.explain(err))
}
