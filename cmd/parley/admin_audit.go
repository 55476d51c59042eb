package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// auditCommand is "parley audit".
func auditCommand(e *cli) *cobra.Command {
	var (
		limit                      int
		before, action, room, whom string
	)
	c := &cobra.Command{
		Use:   "audit [flags]",
		Short: "List the audit log: what moderators and administrators did",
		Long: `List the audit log, newest first: what moderators, administrators, API
keys and these commands did, as GET /api/v1/admin/audit shows it
(docs/API.md, "Audit log", lists the actions). It shows --limit entries
at most; when there may be more, a line on standard error gives the
command for the next page (--before the last id shown).

The command opens the database the server uses, found from the same
settings as parley serve: --config, --data-dir and --database-url, or their
PARLEY_* variables, and works while the server runs.`,
		Example: `  parley audit --room team --action room.ban
  parley audit --actor cli --limit 10 --json`,
		Args: noArgs,
	}
	fl := c.Flags()
	fl.IntVar(&limit, "limit", 50, fmt.Sprintf("show at most this many entries, 1 to %d", store.MaxLimit))
	fl.StringVar(&before, "before", "", "show entries older than the one with this `ID`, for the next page")
	fl.StringVar(&action, "action", "", "show only this `ACTION`, such as room.ban")
	fl.StringVar(&room, "room", "", "show only entries about this `ROOM`")
	fl.StringVar(&whom, "actor", "", "show only what this `ACTOR` did: a username, a user id, key:ID for an API key, or cli")
	_ = c.RegisterFlagCompletionFunc("action", cobra.FixedCompletions(audit.Actions, cobra.ShellCompDirectiveNoFileComp))
	f := addAdminFlags(c)
	c.RunE = func(c *cobra.Command, _ []string) error {
		if limit < 1 || limit > store.MaxLimit {
			return usagef("--limit must be 1 to %d", store.MaxLimit)
		}
		if action != "" && !slices.Contains(audit.Actions, action) {
			return usagef("--action %q is not one the audit log records; they are %s", action, strings.Join(audit.Actions, ", "))
		}
		for name, v := range map[string]string{"before": before, "room": room, "actor": whom} {
			if len(v) > 256 {
				return usagef("--%s is longer than 256 bytes", name)
			}
		}
		q := store.AuditQuery{Before: before, Action: action, Room: room, Actor: whom, Limit: limit}
		if key, perr := protocol.NormaliseRoom(room, 256); room != "" && perr == nil {
			q.Room = key // as typed when it is no room name, such as a conversation's key
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			var err error
			if q.Actor, err = auditActor(ctx, st, whom); err != nil {
				return err
			}
			entries, err := st.Audit(ctx, q)
			if err != nil {
				return err
			}
			out := api.AuditResponse{Entries: make([]api.AuditJSON, 0, len(entries))}
			for _, en := range entries {
				out.Entries = append(out.Entries, api.AuditEntryJSON(en))
			}
			err = f.output(e.stdout, out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tAT (UTC)\tACTION\tACTOR\tROOM\tTARGET\tDETAIL")
				for _, en := range entries {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", en.ID, textTime(en.At), en.Action,
						auditActorText(en), dash(en.Room), dash(en.Target), dash(en.Detail))
				}
			})
			if err == nil && !f.json && len(entries) == limit {
				fmt.Fprintf(e.stderr, "There may be more: parley audit --before %s\n", entries[len(entries)-1].ID)
			}
			return err
		})
	}
	return c
}

// auditActor turns --actor into the actor the log records: a username
// becomes its account's id; anything else is kept as given.
func auditActor(ctx context.Context, st store.Store, actor string) (string, error) {
	if actor == "" || actor == audit.CLI.ID || strings.HasPrefix(actor, "key:") {
		return actor, nil
	}
	if _, err := st.User(ctx, actor); !errors.Is(err, store.ErrNotFound) {
		return actor, err
	}
	key, err := auth.NormaliseUsername(actor)
	if err != nil {
		return actor, nil
	}
	u, err := st.UserByName(ctx, key)
	switch {
	case err == nil:
		return u.ID, nil
	case errors.Is(err, store.ErrNotFound):
		return actor, nil // perhaps a user of the application's tokens
	}
	return "", err
}

// auditActorText shows who did something: their name then, or the id.
func auditActorText(en store.AuditEntry) string {
	if en.ActorName != "" {
		return en.ActorName
	}
	return en.Actor
}

// dash shows an empty table cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
