package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/server"
)

const serveLong = `Run the Parley server until SIGINT or SIGTERM, then drain it and exit 0.

Each flag can also be set by its PARLEY_* environment variable, shown in
brackets, or by the same name as a key in the --config YAML file. Flags
override the environment, which overrides the file. docs/CONFIG.md
describes every setting.`

// serveCommand is "parley serve": every setting of internal/config is a
// flag.
func serveCommand(e *cli) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the server",
		Long:  serveLong,
		Args:  noArgs,
	}
	c.Flags().SortFlags = false // in Config's order, which groups them
	flags := config.AddFlags(c.Flags())
	c.RunE = func(*cobra.Command, []string) error { return serve(flags, e) }
	return c
}

// serve runs the server configured by flags and e.environ. Before
// starting, or before the configuration error that stops it, it prints a
// warning for each PARLEY_* variable that is not a setting.
func serve(flags *config.Flags, e *cli) error {
	cfg, warnings, err := flags.Load(e.environ)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "parley: warning:", w)
	}
	if err != nil {
		printError(e.stderr, "parley", err)
		return exitStatus(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, server.Options{LogOutput: e.stderr})
	if err != nil {
		printError(e.stderr, "parley", err)
		return exitStatus(exitError)
	}
	stopReload := reloadOnHangup(ctx, srv)
	err = srv.Run(ctx)
	stopReload()
	if err != nil {
		printError(e.stderr, "parley", err)
		return exitStatus(exitError)
	}
	return nil
}

// reloadOnHangup rereads the TLS certificate each time the process gets
// SIGHUP, until the returned func is called (which waits for the watcher
// to end). A server without TLS logs that there is nothing to reload, and
// carries on: a stray SIGHUP never stops it.
func reloadOnHangup(ctx context.Context, srv *server.Server) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-hup:
				srv.HandleReload()
			case <-ctx.Done():
				return
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}
