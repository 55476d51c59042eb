package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parley-chat/parley/client"
)

// chatBacklog is how many past messages chat shows when it opens.
const chatBacklog = 50

const chatLong = `Chat in a room, full screen: the room's messages (the last 50 first), who
is online and who is typing, and an input line. Enter sends what you typed;
PgUp and PgDn scroll; /quit, Esc or Ctrl-C leave. A lost connection is
re-made by itself and what was missed meanwhile is shown once; a message
typed meanwhile is sent when the connection is back.

It needs a terminal; in scripts, use parley send and parley listen.

` + connHelp

// chatCommand is "parley chat".
func chatCommand(e *cli) *cobra.Command {
	var conn *connFlags
	c := &cobra.Command{
		Use:     "chat ROOM",
		Short:   "Chat in a room, full screen",
		Long:    chatLong,
		Example: `  parley chat --guest ada lobby`,
		Args:    exactArgs("ROOM"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := conn.resolve(c, e); err != nil {
				return err
			}
			in, inOK := e.stdin.(*os.File)
			out, outOK := e.stdout.(*os.File)
			if !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
				return errors.New("chat needs a terminal; in scripts, use parley send and parley listen")
			}
			return runChat(c.Context(), e, conn, args[0], in, out)
		},
	}
	fs := c.Flags()
	fs.SortFlags = false
	conn = addConnFlags(fs)
	return c
}

func runChat(ctx context.Context, e *cli, conn *connFlags, room string, in, out *os.File) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := conn.dial(ctx, e, true, func(o *client.Options) { o.Reconnect = true })
	if err != nil {
		return err
	}
	defer c.Close()
	j, err := c.Join(ctx, room)
	if err != nil {
		return fmt.Errorf("join %s: %w", room, conn.explain(err))
	}
	m := newChatModel(ctx, c, j)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx))
	final, err := p.Run()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("the terminal: %w", err)
	}
	if fm, ok := final.(*chatModel); ok && fm.err != nil && !errors.Is(fm.err, client.ErrClosed) {
		return conn.explain(fm.err)
	}
	return nil
}
