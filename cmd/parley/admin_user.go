package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

const userLong = `Manage the built-in accounts in a server's database.

The commands open the database the server uses, found from the same
settings as parley serve: --config, --data-dir and --database-url, or their
PARLEY_* variables. They work while the server runs (SQLite in WAL mode
takes a second process; so does PostgreSQL). A new password comes from
PARLEY_PASSWORD or, when that is unset, from standard input: one line, or
typed twice at a terminal. It is never a flag, which the process list shows.`

// userJSON is an account as the user commands print it with --json: the
// API's user object and when the account was made.
type userJSON struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	Admin     bool   `json:"admin"`
	Disabled  bool   `json:"disabled,omitempty"`
	CreatedAt string `json:"created_at"`
}

func newUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Name: u.DisplayName, Admin: u.Admin, Disabled: u.Disabled,
		CreatedAt: protocol.FormatTime(u.CreatedAt)}
}

// userCommand is "parley user" and its subcommands.
func userCommand(e *cli) *cobra.Command {
	group := &cobra.Command{
		Use:   "user",
		Short: "Manage accounts: create, list, show, set-admin, disable, enable, reset-password, delete",
		Long:  userLong,
		Args:  subcommandArgs,
		RunE:  showHelpAndFail(e),
	}
	f := addAdminFlags(group)
	group.AddCommand(userCreate(e, f), userList(e, f), userShow(e, f), userSetAdmin(e, f),
		userDisable(e, f, true), userDisable(e, f, false), userResetPassword(e, f), userDelete(e, f))
	return group
}

// usernameArg checks a USERNAME argument against the username rules and
// returns the key accounts are looked up by.
func usernameArg(name string) (string, error) {
	key, err := auth.NormaliseUsername(name)
	return key, ruleUsage(err)
}

// findUser returns the account whose username key is key; typed is the
// name as given, for the error when there is none.
func findUser(ctx context.Context, st store.Store, key, typed string) (store.User, error) {
	u, err := st.UserByName(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("there is no user %q", typed)
	}
	return u, err
}

func userCreate(e *cli, f *adminFlags) *cobra.Command {
	var (
		admin       bool
		displayName string
	)
	c := &cobra.Command{
		Use:   "create USERNAME [flags]",
		Short: "Create an account (--admin makes the first administrator)",
		Long: `Create an account with the same rules as sign-up: the username rules,
a password of 8 to 256 bytes (from PARLEY_PASSWORD or standard input) hashed
with argon2id, and a display name that is the username as typed unless
--display-name gives one. --admin makes it a server administrator: this is
how the first administrator is made.`,
		Example: `  parley user create --admin alice                  # asks for the password twice
  PARLEY_PASSWORD="$PW" parley user create bob --display-name "Bob B."
  printf '%s\n' "$PW" | parley user create carol --data-dir /var/lib/parley`,
		Args: exactArgs("USERNAME"),
	}
	c.Flags().BoolVar(&admin, "admin", false, "make the account a server administrator")
	c.Flags().StringVar(&displayName, "display-name", "", "the name shown to others (default: the username as typed)")
	c.RunE = func(c *cobra.Command, args []string) error {
		a := auth.NewAccount{Username: args[0], DisplayName: displayName, Admin: admin}
		if _, err := usernameArg(a.Username); err != nil {
			return err
		}
		if c.Flags().Changed("display-name") {
			if _, err := auth.CheckDisplayName(displayName); err != nil {
				return ruleUsage(err)
			}
		}
		pw, err := readPassword(e, a.Username)
		if err != nil {
			return err
		}
		a.Password = pw
		if _, _, err := a.Check(); err != nil {
			return ruleUsage(err)
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			u, err := auth.CreateAccount(ctx, st, auth.NewHasher(1), a)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("the username %q is taken", a.Username)
			}
			if le := (*store.LookalikeError)(nil); errors.As(err, &le) {
				return fmt.Errorf("the username %q looks too much like the existing username %q; pick one that looks different",
					a.Username, le.Existing)
			}
			if err != nil {
				return err
			}
			cliAudit(ctx, st, audit.UserCreate, u.ID, map[string]any{"username": u.Username, "admin": u.Admin})
			return f.output(e.stdout, newUserJSON(u), func(w io.Writer) {
				role := ""
				if u.Admin {
					role = ", an administrator"
				}
				fmt.Fprintf(w, "created user %s (%s)%s\n", u.Username, u.ID, role)
			})
		})
	}
	return c
}

func userList(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every account, oldest first",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				users, err := st.Users(ctx)
				if err != nil {
					return err
				}
				out := struct {
					Users []userJSON `json:"users"`
				}{Users: make([]userJSON, 0, len(users))}
				for _, u := range users {
					out.Users = append(out.Users, newUserJSON(u))
				}
				return f.output(e.stdout, out, func(w io.Writer) {
					fmt.Fprintln(w, "ID\tUSERNAME\tNAME\tADMIN\tDISABLED\tCREATED (UTC)")
					for _, u := range users {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.DisplayName, yesNo(u.Admin), yesNo(u.Disabled), textTime(u.CreatedAt))
					}
				})
			})
		},
	}
}

func userShow(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show USERNAME",
		Short: "Show one account",
		Args:  exactArgs("USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			key, err := usernameArg(args[0])
			if err != nil {
				return err
			}
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				u, err := findUser(ctx, st, key, args[0])
				if err != nil {
					return err
				}
				return f.output(e.stdout, newUserJSON(u), func(w io.Writer) {
					fmt.Fprintf(w, "id\t%s\nusername\t%s\nname\t%s\nadmin\t%s\ncreated (UTC)\t%s\n",
						u.ID, u.Username, u.DisplayName, yesNo(u.Admin), textTime(u.CreatedAt))
				})
			})
		},
	}
}

func userSetAdmin(e *cli, f *adminFlags) *cobra.Command {
	var off bool
	c := &cobra.Command{
		Use:   "set-admin USERNAME [flags]",
		Short: "Make an account a server administrator, or (--off) no longer one",
		Long: `Give an account the server administrator flag, or take it away with --off.
The user's access tokens carry the flag, so the change reaches them at
their next sign-in or token refresh, within --token-ttl (15 minutes by
default).`,
		Args: exactArgs("USERNAME"),
	}
	c.Flags().BoolVar(&off, "off", false, "take the administrator flag away")
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := usernameArg(args[0])
		if err != nil {
			return err
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			u, err := findUser(ctx, st, key, args[0])
			if err != nil {
				return err
			}
			was := u.Admin
			if err := st.SetAdmin(ctx, u.ID, !off); err != nil {
				return err
			}
			cliAudit(ctx, st, audit.UserAdmin, u.ID, map[string]any{"username": u.Username, "admin": !off})
			u.Admin = !off
			return f.output(e.stdout, newUserJSON(u), func(w io.Writer) {
				switch {
				case was == u.Admin && u.Admin:
					fmt.Fprintf(w, "%s (%s) was already an administrator\n", u.Username, u.ID)
				case was == u.Admin:
					fmt.Fprintf(w, "%s (%s) was not an administrator\n", u.Username, u.ID)
				case u.Admin:
					fmt.Fprintf(w, "%s (%s) is now an administrator\n", u.Username, u.ID)
				default:
					fmt.Fprintf(w, "%s (%s) is no longer an administrator\n", u.Username, u.ID)
				}
			})
		})
	}
	return c
}

// userDisable is "user disable" (disable true) and "user enable".
func userDisable(e *cli, f *adminFlags, disable bool) *cobra.Command {
	c := &cobra.Command{
		Use:   "enable USERNAME",
		Short: "Let a disabled account sign in again",
		Long:  "Let a disabled account sign in again. Its old sessions stay ended.",
		Args:  exactArgs("USERNAME"),
	}
	if disable {
		c.Use = "disable USERNAME"
		c.Short = "Stop an account signing in, and end its sessions"
		c.Long = `Disable an account: it can no longer sign in, and every one of its
sessions ends, so its tokens are refused at the next request or connection.
A running server is not told: to close the account's open connections at
once, disable it over the HTTP API instead (POST /api/v1/users/NAME/disable).`
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := usernameArg(args[0])
		if err != nil {
			return err
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			u, err := findUser(ctx, st, key, args[0])
			if err != nil {
				return err
			}
			ended, err := st.SetDisabled(ctx, u.ID, disable)
			if err != nil {
				return err
			}
			action := audit.UserEnable
			if disable {
				action = audit.UserDisable
			}
			cliAudit(ctx, st, action, u.ID, map[string]any{"username": u.Username})
			u.Disabled = disable
			return f.output(e.stdout, newUserJSON(u), func(w io.Writer) {
				if disable {
					fmt.Fprintf(w, "%s (%s) is disabled; %d %s ended\n", u.Username, u.ID, ended, plural(ended, "session"))
				} else {
					fmt.Fprintf(w, "%s (%s) may sign in again\n", u.Username, u.ID)
				}
			})
		})
	}
	return c
}

func userResetPassword(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password USERNAME",
		Short: "Give an account a new password and sign it out everywhere",
		Long: `Give an account a new password, from PARLEY_PASSWORD or standard input,
and end every session of the account in the same transaction: its refresh
tokens stop working at once, and so do its access tokens wherever the
server looks the session up (every API request, every WebSocket
hand-shake). The server does not hear of it, so a WebSocket already open
stays open until its access token expires, within --token-ttl (15 minutes
by default), since the token cannot be refreshed.`,
		Args: exactArgs("USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			key, err := usernameArg(args[0])
			if err != nil {
				return err
			}
			pw, err := readPassword(e, args[0])
			if err != nil {
				return err
			}
			if err := auth.ValidatePassword(pw); err != nil {
				return ruleUsage(err)
			}
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				u, err := findUser(ctx, st, key, args[0])
				if err != nil {
					return err
				}
				n, err := auth.SetPassword(ctx, st, auth.NewHasher(1), u.ID, pw, "")
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("there is no user %q", args[0]) // deleted meanwhile
				}
				if err != nil {
					return err
				}
				cliAudit(ctx, st, audit.UserPassword, u.ID, map[string]any{"username": u.Username})
				out := struct {
					ID        string `json:"id"`
					Username  string `json:"username"`
					SignedOut int    `json:"signed_out"`
				}{u.ID, u.Username, n}
				return f.output(e.stdout, out, func(w io.Writer) {
					fmt.Fprintf(w, "new password set for %s (%s); %d %s signed out\n", u.Username, u.ID, n, plural(n, "session"))
				})
			})
		},
	}
}

func userDelete(e *cli, f *adminFlags) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete USERNAME --yes [flags]",
		Short: "Delete an account; its messages stay (needs --yes)",
		Long: `Delete an account with its sessions, room memberships, subscriptions,
notifications, bans and mutes, in one transaction. This cannot be undone;
--yes is required. Its messages stay, under the name they were sent with; rooms it
owned stay, without an owner. The username is free to take again.

A running server is not told (this is another process): the account's
tokens are refused at its next request or connection, but a WebSocket
already open stays open until its access token expires, within --token-ttl
(15 minutes by default). To close its connections at once, delete it over
the HTTP API instead (DELETE /api/v1/users/NAME, docs/API.md).`,
		Args: exactArgs("USERNAME"),
	}
	c.Flags().BoolVar(&yes, "yes", false, "delete the account: there is no undo")
	c.RunE = func(c *cobra.Command, args []string) error {
		key, err := usernameArg(args[0])
		if err != nil {
			return err
		}
		if !yes {
			return usagef("this deletes the account %q for good (its messages stay, under the name they were sent with); give --yes to go ahead",
				args[0])
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			u, err := findUser(ctx, st, key, args[0])
			if err != nil {
				return err
			}
			n, err := st.DeleteUser(ctx, u.ID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("there is no user %q", args[0]) // deleted meanwhile
			}
			if err != nil {
				return err
			}
			cliAudit(ctx, st, audit.UserDelete, u.ID, map[string]any{"username": u.Username})
			out := struct {
				ID        string `json:"id"`
				Username  string `json:"username"`
				SignedOut int    `json:"signed_out"`
			}{u.ID, u.Username, n}
			return f.output(e.stdout, out, func(w io.Writer) {
				fmt.Fprintf(w, "deleted user %s (%s); %d %s ended; their messages stay, under the name they were sent with\n",
					u.Username, u.ID, n, plural(n, "session"))
			})
		})
	}
	return c
}

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
