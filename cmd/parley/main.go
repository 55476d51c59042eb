// Command parley is the Parley chat and notification server and its tools,
// in one binary. Run "parley help" for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/server"
)

const usage = `Parley: a self-hosted real-time chat and notification server.

Usage:
  parley serve [flags]     run the server (parley serve -h lists every flag)
  parley bench [flags]     load-test a server over loopback (parley bench -h)
  parley version           print the version
  parley help              show this help

Every flag is also a PARLEY_* environment variable and a key in the YAML file
given with --config; docs/CONFIG.md lists them all.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], os.Environ(), stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// serve runs "parley serve" with the process environment environ (a list
// of "NAME=value" entries, os.Environ() in main). Before starting, or
// before the configuration error that stops it, it prints a warning for
// each PARLEY_* variable that is not a setting.
func serve(args, environ []string, stderr io.Writer) int {
	cfg, warnings, err := config.LoadEnviron("parley serve", args, environ)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "parley: warning:", w)
	}
	if err != nil {
		printError(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, server.Options{LogOutput: stderr})
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// printError writes err to w with every line marked as Parley's: a
// configuration may have several problems, reported one a line.
func printError(w io.Writer, err error) {
	for line := range strings.Lines(err.Error()) {
		fmt.Fprint(w, "parley: ", line)
	}
	fmt.Fprintln(w)
}

// versionString reports the version with the build's Go version and commit.
func versionString() string {
	v := "parley " + server.Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " (" + bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += ", commit " + s.Value[:12]
			}
		}
		v += ")"
	}
	return v
}
