package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Limits of a ban, as the HTTP API has them.
const (
	maxBanReason = 200                       // bytes
	maxBanTime   = 10 * 365 * 24 * time.Hour // ten years
)

// banNotTold is the paragraph of ban's and unban's help that says when a
// running server sees the change.
const banNotTold = `The command opens the database the server uses, found from the same
settings as parley serve: --config, --data-dir and --database-url, or their
PARLEY_* variables, and works while the server runs. A running server is not
told (this is another process): a ban takes effect at the user's next join,
read or reconnect, so a connection already in the room stays in it until
then; a lifted ban lets them join again at once. For an immediate effect use
the HTTP API instead (docs/API.md, "Bans and mutes"):
PUT or DELETE /api/v1/rooms/ROOM/bans/USER.`

// banUser is a user a ban names: an account, or a user of the
// application's tokens the server has seen.
type banUser struct {
	ID   string
	Name string // the account's username, or the name the last token gave
}

// String shows the user in messages: "alice (u_…)", or the id alone.
func (u banUser) String() string {
	if u.Name == "" || u.Name == u.ID {
		return u.ID
	}
	return u.Name + " (" + u.ID + ")"
}

// findBanUser returns the user arg names: an account by id, an account by
// username, or a user of the application's tokens by id, in that order.
func findBanUser(ctx context.Context, st store.Store, arg string) (banUser, error) {
	u, err := st.User(ctx, arg)
	if errors.Is(err, store.ErrNotFound) {
		if key, kerr := auth.NormaliseUsername(arg); kerr == nil {
			u, err = st.UserByName(ctx, key)
		}
	}
	if err == nil {
		return banUser{ID: u.ID, Name: u.Username}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return banUser{}, err
	}
	x, err := st.ExternalUser(ctx, arg)
	if errors.Is(err, store.ErrNotFound) {
		return banUser{}, fmt.Errorf("there is no user %q: give an account's username or id, "+
			"or the id of a user of the application's tokens that the server has seen", arg)
	}
	if err != nil {
		return banUser{}, err
	}
	return banUser{ID: x.ID, Name: x.Name}, nil
}

// parseBanTime reads --for: a Go duration (90m, 12h, 1h30m) that may start
// with whole days (7d, 1d12h); 0 means until lifted.
func parseBanTime(s string) (time.Duration, error) {
	bad := usagef("--for %q is not a duration such as 30m, 12h or 7d, from 1s to 10 years (0: until lifted)", s)
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3660 {
			return 0, bad
		}
		d, rest = time.Duration(n)*24*time.Hour, after
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || more < 0 || more > maxBanTime {
			return 0, bad
		}
		d += more
	}
	if d < 0 || d > maxBanTime || d > 0 && d < time.Second {
		return 0, bad
	}
	return d, nil
}

// banCommand is "parley ban".
func banCommand(e *cli) *cobra.Command {
	var (
		reason  string
		forTime string
	)
	c := &cobra.Command{
		Use:   "ban ROOM USER [flags]",
		Short: "Ban a user from a room, until lifted or for a time",
		Long: `Ban a user from a room: they lose their membership and may not join it,
read its history or be invited back until the ban is lifted (parley unban)
or, with --for, runs out. Banning again replaces the ban. USER is an
account's username or id, or the id of a user of the application's tokens
that the server has seen. The room's owner cannot be banned; server
administrators are never kept out by a ban.

` + banNotTold,
		Example: `  parley ban team mallory --reason spam --for 7d
  parley ban lobby u_01jt8x4a0b1c2d3e4f5g6h7j8k --data-dir /var/lib/parley`,
		Args: exactArgs("ROOM", "USER"),
	}
	c.Flags().StringVar(&reason, "reason", "", "why, at most 200 bytes; shown to moderators and to the user")
	c.Flags().StringVar(&forTime, "for", "", "how long the ban lasts, a `DURATION` such as 30m, 12h or 7d (default: until lifted)")
	f := addAdminFlags(c)
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := f.roomArg(e, args[0])
		if err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		if len(reason) > maxBanReason || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
			return usagef("--reason must be at most %d bytes without control characters", maxBanReason)
		}
		var d time.Duration
		if forTime != "" {
			if d, err = parseBanTime(forTime); err != nil {
				return err
			}
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			r, err := findRoom(ctx, st, key)
			if err != nil {
				return err
			}
			u, err := findBanUser(ctx, st, args[1])
			if err != nil {
				return err
			}
			m, err := st.Member(ctx, key, u.ID)
			switch {
			case err == nil && m.Role == store.RoleOwner, r.Owner == u.ID:
				return fmt.Errorf("%s owns room %q, and the owner of a room cannot be banned from it", u, key)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			}
			s := store.Sanction{Room: key, UserID: u.ID, Kind: store.SanctionBan, Reason: reason,
				By: protocol.SystemUserID, CreatedAt: store.Now()}
			if d > 0 {
				s.ExpiresAt = s.CreatedAt.Add(d)
			}
			if err := st.Sanction(ctx, s); err != nil {
				return err
			}
			detail := map[string]any{}
			if s.Reason != "" {
				detail["reason"] = s.Reason
			}
			if !s.ExpiresAt.IsZero() {
				detail["expires_at"] = protocol.FormatTime(s.ExpiresAt)
			}
			cliRoomAudit(ctx, st, audit.RoomBan, key, u.ID, detail)
			return f.output(e.stdout, newSanctionJSON(s), func(w io.Writer) {
				until := "until the ban is lifted"
				if !s.ExpiresAt.IsZero() {
					until = "until " + textTime(s.ExpiresAt) + " UTC"
				}
				fmt.Fprintf(w, "banned %s from room %s %s\n", u, key, until)
			})
		})
	}
	return c
}

// unbanCommand is "parley unban".
func unbanCommand(e *cli) *cobra.Command {
	c := &cobra.Command{
		Use:   "unban ROOM USER",
		Short: "Lift a user's ban from a room",
		Long: `Lift a user's ban from a room: they may join it again (a private room
only when invited again, as the ban ended their membership). USER is as
for parley ban, or the id a ban in force names. Unbanning someone who is
not banned is an error.

` + banNotTold,
		Args: exactArgs("ROOM", "USER"),
	}
	f := addAdminFlags(c)
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := f.roomArg(e, args[0])
		if err != nil {
			return err
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			if _, err := findRoom(ctx, st, key); err != nil {
				return err
			}
			u, err := findBanUser(ctx, st, args[1])
			if err != nil {
				// A ban may name an id that is no one's any more, such as
				// a guest's: it can still be lifted.
				if bans, serr := st.Sanctions(ctx, key, args[1]); serr != nil || !hasBan(bans) {
					return err
				}
				u = banUser{ID: args[1]}
			}
			err = st.Unsanction(ctx, key, u.ID, store.SanctionBan)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s is not banned from room %q", u, key)
			}
			if err != nil {
				return err
			}
			cliRoomAudit(ctx, st, audit.RoomUnban, key, u.ID, nil)
			out := struct {
				Room string `json:"room"`
				User string `json:"user"`
			}{key, u.ID}
			return f.output(e.stdout, out, func(w io.Writer) {
				fmt.Fprintf(w, "lifted the ban of %s from room %s\n", u, key)
			})
		})
	}
	return c
}

// hasBan reports whether sanctions hold a ban.
func hasBan(sanctions []store.Sanction) bool {
	for _, s := range sanctions {
		if s.Kind == store.SanctionBan {
			return true
		}
	}
	return false
}
