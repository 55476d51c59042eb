package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/store"
)

const apikeyLong = `Manage the API keys backends use on the HTTP API, as the
/api/v1/admin/keys endpoints do, in a server's database.

The commands open the database the server uses, found from the same
settings as parley serve: --config, --data-dir and --database-url, or their
PARLEY_* variables, and work while the server runs. docs/API.md says what
each scope allows.`

// apikeyCommand is "parley apikey" and its subcommands.
func apikeyCommand(e *cli) *cobra.Command {
	group := &cobra.Command{
		Use:   "apikey",
		Short: "Manage API keys: create, list, revoke",
		Long:  apikeyLong,
		Args:  subcommandArgs,
		RunE:  showHelpAndFail(e),
	}
	f := addAdminFlags(group)
	group.AddCommand(apikeyCreate(e, f), apikeyList(e, f), apikeyRevoke(e, f))
	return group
}

func apikeyCreate(e *cli, f *adminFlags) *cobra.Command {
	var (
		name   string
		scopes []string
	)
	c := &cobra.Command{
		Use:   "create --name NAME --scopes SCOPE[,SCOPE...]",
		Short: "Create an API key and print it, once",
		Long: `Create an API key and print it with its id. The key is shown only now:
Parley keeps only its SHA-256. Scopes: ` + strings.Join(auth.Scopes, ", ") + `
(admin implies the others).`,
		Example: `  parley apikey create --name "billing backend" --scopes publish,users
  KEY=$(parley apikey create --name ci --scopes rooms --json | jq -r .key)`,
		Args: noArgs,
	}
	c.Flags().StringVar(&name, "name", "", "what the key is for, 1 to 64 characters (required)")
	c.Flags().StringSliceVar(&scopes, "scopes", nil, "what the key may do, comma-separated: "+strings.Join(auth.Scopes, ", ")+" (required)")
	_ = c.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(auth.Scopes, cobra.ShellCompDirectiveNoFileComp))
	c.RunE = func(c *cobra.Command, _ []string) error {
		switch {
		case !c.Flags().Changed("name"):
			return usagef("--name is required")
		case !c.Flags().Changed("scopes"):
			return usagef("--scopes is required: give one or more of %s", strings.Join(auth.Scopes, ", "))
		}
		if _, err := auth.CheckAPIKey(name, scopes); err != nil {
			return ruleUsage(err)
		}
		return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
			key, k, err := auth.CreateAPIKey(ctx, st, name, scopes, "")
			if err != nil {
				return err
			}
			out := api.NewKeyJSON(k)
			out.Key = key
			err = f.output(e.stdout, out, func(w io.Writer) {
				fmt.Fprintf(w, "key\t%s\nid\t%s\nname\t%s\nscopes\t%s\n", key, k.ID, k.Name, strings.Join(k.Scopes, ","))
			})
			if err == nil && !f.json {
				fmt.Fprintf(e.stderr, "Keep the key now: it is not shown again. Revoke it with: parley apikey revoke %s\n", k.ID)
			}
			return err
		})
	}
	return c
}

func apikeyList(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every API key, revoked ones included, oldest first",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				keys, err := st.APIKeys(ctx)
				if err != nil {
					return err
				}
				out := api.KeysResponse{Keys: make([]api.KeyJSON, 0, len(keys))}
				for _, k := range keys {
					out.Keys = append(out.Keys, api.NewKeyJSON(k))
				}
				return f.output(e.stdout, out, func(w io.Writer) {
					fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED (UTC)\tLAST USED\tREVOKED")
					for _, k := range keys {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","),
							textTime(k.CreatedAt), textTime(k.LastUsedAt), textTime(k.RevokedAt))
					}
				})
			})
		},
	}
}

func apikeyRevoke(e *cli, f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key at once",
		Long: `Revoke an API key: it stops working at once, on every node. Give the id
that apikey list shows, or the key itself. A revoked key stays listed.`,
		Args: exactArgs("ID"),
		RunE: func(c *cobra.Command, args []string) error {
			id := args[0]
			if fromKey, ok := auth.ParseAPIKey(id); ok {
				id = fromKey
			}
			return f.withStore(c, e, func(ctx context.Context, st store.Store) error {
				k, err := st.APIKey(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("there is no API key %q", id)
				}
				if err != nil {
					return err
				}
				was := k.RevokedAt
				if err := st.RevokeAPIKey(ctx, id); err != nil {
					return err
				}
				if k, err = st.APIKey(ctx, id); err != nil {
					return err
				}
				return f.output(e.stdout, api.NewKeyJSON(k), func(w io.Writer) {
					if !was.IsZero() {
						fmt.Fprintf(w, "API key %s (%s) was already revoked at %s UTC\n", k.ID, k.Name, textTime(was))
						return
					}
					fmt.Fprintf(w, "revoked API key %s (%s)\n", k.ID, k.Name)
				})
			})
		},
	}
}
