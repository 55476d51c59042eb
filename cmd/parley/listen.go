package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/client"
)

const listenLong = `Join rooms and print what happens in them, one JSON object a line, until
interrupted (Ctrl-C or SIGTERM, exit status 0) or the server ends the
session for good (exit status 1).

Each line is a server frame as docs/PROTOCOL.md describes it,
{"type": ..., "body": ...}: message, update, presence, typing, read, room,
left, private, notification, unread and the rest. A lost connection is
re-made with backoff; the rooms are re-joined and what was missed meanwhile
is printed once, in order, after a {"type":"reconnected"} line. Problems
that do not end the command (a room whose gap was too large to recover)
are reported on standard error.

` + connHelp

// listenCommand is "parley listen".
func listenCommand(e *cli) *cobra.Command {
	var conn *connFlags
	c := &cobra.Command{
		Use:   "listen ROOM...",
		Short: "Print the events of rooms as JSON lines",
		Long:  listenLong,
		Example: `  parley listen --guest watcher lobby random
  parley listen --guest watcher lobby | jq -r 'select(.type == "message") | .body.text'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing ROOM")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if err := conn.resolve(c, e); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runListen(ctx, c, e, conn, args)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	conn = addConnFlags(fs)
	return c
}

func runListen(ctx context.Context, cmd *cobra.Command, e *cli, conn *connFlags, rooms []string) error {
	c, err := conn.dial(ctx, e, true, func(o *client.Options) { o.Reconnect = true })
	if err != nil {
		return err
	}
	defer c.Close()
	for _, room := range rooms {
		if _, err := c.Join(ctx, room); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("join %s: %w", room, conn.explain(err))
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-c.Events():
			if !ok {
				if errors.Is(c.Err(), client.ErrClosed) {
					return nil
				}
				return conn.explain(c.Err())
			}
			if ev.Type == client.EventError {
				if c.Err() != nil {
					continue // the final error, set before it is sent: Events closes next
				}
				fmt.Fprintf(e.stderr, "%s: warning: %v\n", cmd.CommandPath(), conn.explain(ev.Err))
				continue
			}
			if err := enc.Encode(frame{Type: string(ev.Type), Body: eventBody(ev)}); err != nil {
				return fmt.Errorf("write: %w", err) // a closed pipe: the reader went away
			}
		}
	}
}

// frame is an event as a listen line: the wire frame's shape.
type frame struct {
	Type string `json:"type"`
	Body any    `json:"body"`
}

// eventBody returns the body of the frame an event came from.
func eventBody(ev client.Event) any {
	switch {
	case ev.Message != nil:
		return ev.Message
	case ev.Update != nil:
		return ev.Update
	case ev.Presence != nil:
		return ev.Presence
	case ev.Typing != nil:
		return ev.Typing
	case ev.Read != nil:
		return ev.Read
	case ev.System != nil:
		return ev.System
	case ev.Unread != nil:
		return ev.Unread
	case ev.RoomChange != nil:
		return ev.RoomChange
	case ev.Notification != nil:
		return ev.Notification
	case ev.Notifications != nil:
		return ev.Notifications
	case ev.NotificationsRead != nil:
		return ev.NotificationsRead
	case ev.Room != "":
		return map[string]string{"room": ev.Room} // left
	}
	return struct{}{}
}
