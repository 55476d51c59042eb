// Command parley is the Parley chat and notification server and its tools,
// in one binary. Run "parley help" for the subcommands.
//
// The command line is built with cobra: every command has --help (and -h)
// listing its flags with their types and defaults, an unknown command or
// flag is one line on standard error and exit status 2, and "parley
// completion bash|zsh|fish" writes a shell completion script. The settings
// of serve, and the store settings of the admin commands, come from
// internal/config, which also reads them from PARLEY_* variables and the
// --config file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/server"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong; nothing was done
)

func main() {
	os.Exit(run(os.Args[1:], &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}))
}

// cli is what a command reads and writes: the process's streams and
// environment in main, a test's in tests.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string // "NAME=value" entries, as from os.Environ
}

// getenv returns the value of the first entry of e.environ named name, as
// os.Getenv would, or "".
func (e *cli) getenv(name string) string {
	for _, kv := range e.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// run executes the command line args and returns the process exit status.
// Errors are reported here, on e.stderr, one line each (or one line per
// problem), prefixed with the command's path.
func run(args []string, e *cli) int {
	root := newRoot(e)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	var (
		status exitStatus
		usage  *usageError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, &usage):
		at := usage.cmd
		if at == nil {
			at = cmd
		}
		fmt.Fprintf(e.stderr, "%s: %v; see '%s --help'\n", cmd.CommandPath(), usage.err, at.CommandPath())
		return exitUsage
	}
	printError(e.stderr, cmd.CommandPath(), err)
	return exitError
}

// usageError is a command line that cannot be run as given: an unknown
// command or flag, a missing or extra argument, an argument that breaks a
// rule. The command did nothing. run prints it as one line that points at
// cmd's help (the command that ran, when cmd is nil) and exits 2.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitStatus is an outcome that the command has already reported: run
// exits with it and prints nothing more.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// printError writes err to w with every line marked with prefix: a
// configuration may have several problems, reported one a line.
func printError(w io.Writer, prefix string, err error) {
	for line := range strings.Lines(err.Error()) {
		fmt.Fprint(w, prefix, ": ", line)
	}
	fmt.Fprintln(w)
}

const rootLong = `Parley: a self-hosted real-time chat and notification server.

Every setting of "parley serve" is a flag, a PARLEY_* environment variable
and a key in the YAML file given with --config; docs/CONFIG.md lists them
all. The admin commands (user, apikey, room, ban, unban, audit) work on the data of a server, running
or not, found from the same --config, --data-dir and --database-url. The
client commands (chat, send, listen, history) talk to a running server, the
one --server or PARLEY_SERVER names (docs/CLIENT.md).`

// newRoot builds the command tree.
func newRoot(e *cli) *cobra.Command {
	root := &cobra.Command{
		Use:           "parley",
		Short:         "A self-hosted real-time chat and notification server",
		Long:          rootLong,
		Version:       versionString(),
		Args:          subcommandArgs,
		RunE:          showHelpAndFail(e),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{cmd: c, err: err} })
	root.SetHelpCommand(helpCommand(root))
	root.AddCommand(
		serveCommand(e),
		benchCommand(e),
		userCommand(e),
		apikeyCommand(e),
		chatCommand(e),
		sendCommand(e),
		listenCommand(e),
		historyCommand(e),
		roomCommand(e), banCommand(e), unbanCommand(e), auditCommand(e),
		backupCommand(e),
		restoreCommand(e),
		healthcheckCommand(e),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  noArgs,
			Run:   func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), versionString()) },
		},
	)
	return root
}

// noArgs refuses positional arguments.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// exactArgs wants one argument for each of names, which say what they are
// ("USERNAME").
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usagef("missing %s", strings.Join(names[len(args):], " and "))
		case len(args) > len(names):
			return usagef("unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

// subcommandArgs is the Args of a command that only groups others: an
// argument left over is a command that does not exist.
func subcommandArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // as cobra's own suggestions
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return &usageError{cmd: c, err: errors.New(msg)}
}

// showHelpAndFail is the RunE of a command that only groups others, run
// without one: its help goes to standard error and the exit status is 2.
func showHelpAndFail(e *cli) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, _ []string) error {
		c.SetOut(e.stderr)
		_ = c.Help()
		return exitStatus(exitUsage)
	}
}

// helpCommand replaces cobra's help command, which answers an unknown
// topic with the root's help and exit status 0, with one that treats it as
// any unknown command.
func helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Show the help of parley or of a command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil {
				return &usageError{cmd: root, err: err}
			}
			if len(rest) > 0 {
				return subcommandArgs(target, rest)
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// versionString reports the version with the build's Go version and commit:
// Go's VCS stamp, or server.Commit for builds without one (deploy/build.sh,
// the Dockerfile).
func versionString() string {
	v := "parley " + server.Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " (" + bi.GoVersion
		commit := server.Commit
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
		if len(commit) >= 12 {
			v += ", commit " + commit[:12]
		}
		v += ")"
	}
	return v
}
