package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/server"
)

// adminTimeout bounds the store work of one admin command, so that an
// unreachable database is an error rather than a hang.
const adminTimeout = 30 * time.Second

// passwordEnv is where the admin commands take a password from before
// standard input: never a flag, which the process list shows.
const passwordEnv = "PARLEY_PASSWORD"

// adminFlags are the flags of every admin command, persistent on its group:
// the settings that say where the store is, and --json.
type adminFlags struct {
	store *config.Flags
	json  bool
}

// addAdminFlags adds the admin flags to group's persistent flags.
func addAdminFlags(group *cobra.Command) *adminFlags {
	pf := group.PersistentFlags()
	pf.SortFlags = false
	f := &adminFlags{store: config.AddFlags(pf, config.StoreSettings...)}
	pf.BoolVar(&f.json, "json", false, "print JSON, for scripts, instead of text")
	return f
}

// adminRun is the work of an admin command on an open store.
type adminRun func(ctx context.Context, st store.Store) error

// withStore loads the configuration as serve does (the --config file,
// PARLEY_* variables, the store flags), opens the store it names and runs
// do on it, within adminTimeout. A configuration error is printed like
// serve's, one line per problem, with exit status 2. Warnings about
// PARLEY_* variables that are not settings go to standard error first.
func (f *adminFlags) withStore(c *cobra.Command, e *cli, do adminRun) error {
	cfg, warnings, err := f.store.Load(e.environ)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, c.CommandPath()+": warning:", w)
	}
	if err != nil {
		printError(e.stderr, c.CommandPath(), err)
		return exitStatus(exitUsage)
	}
	ctx, cancel := context.WithTimeout(c.Context(), adminTimeout)
	defer cancel()
	st, err := openStore(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	err = do(ctx, st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close the database: %w", cerr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the database did not answer within %v: %w", adminTimeout, err)
	}
	return err
}

// openStore opens the store cfg names, as serve would, but refuses to
// create a SQLite database: a mistyped --data-dir would otherwise get a new,
// empty database that no server uses.
func openStore(ctx context.Context, cfg config.Config, stderr io.Writer) (store.Store, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	driver, dsn := cfg.DatabaseDSN()
	var (
		st  store.Store
		err error
	)
	switch driver {
	case config.DriverSQLite:
		if _, serr := os.Stat(dsn); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("there is no Parley database at %s; give the server's --data-dir or --database-url "+
				"(or its --config), or start parley serve once to create it", dsn)
		}
		st, err = sqlite.Open(ctx, dsn, log)
	case config.DriverPostgres:
		st, err = postgres.Open(ctx, dsn, log)
	default:
		return nil, fmt.Errorf("unsupported database URL %q", cfg.DatabaseURL)
	}
	if errors.Is(err, store.ErrSchemaTooNew) {
		return nil, fmt.Errorf("the database %s was migrated by a newer Parley than this one (parley %s), "+
			"so this parley leaves it alone; run the parley binary of the server that migrated it (%w)",
			databaseName(driver, dsn), server.Version, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open the database %s: %w", databaseName(driver, dsn), err)
	}
	return st, nil
}

// databaseName names a database in messages without its password.
func databaseName(driver, dsn string) string {
	if driver != config.DriverPostgres {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && u.Host != "" {
		return u.Redacted()
	}
	return "(PostgreSQL)"
}

// output writes v as indented JSON with --json, else calls text with a
// tab-aligned writer.
func (f *adminFlags) output(w io.Writer, v any, text func(w io.Writer)) error {
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// textTime shows a time in tables: UTC to the second, "-" for none.
func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// yesNo shows a flag in tables.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ruleUsage turns a rule break in an argument into a usage error that
// names the rule; other errors pass through.
func ruleUsage(err error) error {
	var re *auth.RuleError
	if errors.As(err, &re) {
		return usagef("%s", re.Msg)
	}
	return err
}

// readPassword returns a new password for username: PARLEY_PASSWORD when
// it is set, else one line of standard input. On a terminal it prompts on
// standard error and reads the password twice, without echo.
func readPassword(e *cli, username string) (string, error) {
	if pw := e.getenv(passwordEnv); pw != "" {
		return pw, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(int(f.Fd()), e.stderr, username)
	}
	// One line; a password is at most auth.MaxPasswordLen bytes, so more
	// than a few times that is not one.
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4*auth.MaxPasswordLen)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if pw == "" {
		return "", usagef("no password: set %s or give it as one line on standard input", passwordEnv)
	}
	return pw, nil
}

// promptPassword reads a password twice from the terminal fd without
// echo. An interrupt meanwhile puts the terminal back as it was before the
// process ends.
func promptPassword(fd int, stderr io.Writer, username string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-sigs:
			_ = term.Restore(fd, state)
			fmt.Fprintln(stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	defer func() { signal.Stop(sigs); close(done); <-watched }()

	read := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		return string(b), err
	}
	pw, err := read("New password for " + username + ": ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if pw == "" {
		return "", usagef("no password given")
	}
	again, err := read("Repeat it: ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if again != pw {
		return "", usagef("the two passwords differ")
	}
	return pw, nil
}
