package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/parley-chat/parley/client"
)

// connHelp is the part of the client commands' help about the server and
// credentials.
const connHelp = `The server is --server or PARLEY_SERVER (default http://localhost:8080;
http, https, ws and wss URLs all work). The credentials are, first found:
--guest NAME (a guest, on a server run with --guests), --token or
PARLEY_TOKEN (an access token), or --user or PARLEY_USER with the password
in PARLEY_PASSWORD (or typed at the terminal): the command signs in and
keeps the refresh token in memory to renew the session.`

// connFlags are the server and credential flags of the client commands.
type connFlags struct {
	server, token, user, guest string
}

// addConnFlags adds the connection flags to fs.
func addConnFlags(fs *pflag.FlagSet) *connFlags {
	f := &connFlags{}
	fs.StringVar(&f.server, "server", "http://localhost:8080", "the server's URL [PARLEY_SERVER]")
	fs.StringVar(&f.token, "token", "", "an access token [PARLEY_TOKEN]")
	fs.StringVar(&f.user, "user", "", "sign in as this account, with the password in PARLEY_PASSWORD or typed [PARLEY_USER]")
	fs.StringVar(&f.guest, "guest", "", "connect as a guest with this display name")
	return f
}

// resolve fills the flags that were not given from their PARLEY_*
// variables and checks that there is one way to sign in. Flags win over
// variables, so PARLEY_TOKEN in the environment does not stand in the way
// of --guest.
func (f *connFlags) resolve(c *cobra.Command, e *cli) error {
	fs := c.Flags()
	if !fs.Changed("server") {
		if v := e.getenv("PARLEY_SERVER"); v != "" {
			f.server = v
		}
	}
	given := 0
	for _, name := range []string{"token", "user", "guest"} {
		if fs.Changed(name) {
			given++
		}
	}
	switch {
	case given > 1:
		return usagef("give one of --token, --user and --guest")
	case given == 0:
		f.token, f.user = e.getenv("PARLEY_TOKEN"), ""
		if f.token == "" {
			f.user = e.getenv("PARLEY_USER")
		}
	}
	if f.token == "" && f.user == "" && f.guest == "" {
		return usagef("who are you? give --guest NAME, --token (or PARLEY_TOKEN) or --user (or PARLEY_USER)")
	}
	if _, err := client.HTTPBase(withScheme(f.server)); err != nil {
		return usagef("--server %q is not a server URL such as http://localhost:8080", f.server)
	}
	return nil
}

// withScheme adds http:// to a bare host:port.
func withScheme(server string) string {
	if !strings.Contains(server, "://") {
		return "http://" + server
	}
	return server
}

// wsURL returns the WebSocket endpoint of the server.
func (f *connFlags) wsURL() string {
	base, _ := client.HTTPBase(withScheme(f.server))
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}

// options returns the client options for the credentials: a guest, a
// token, or a sign-in whose refresh token renews the session. stdinFree
// says whether standard input may be read for a password.
func (f *connFlags) options(ctx context.Context, e *cli, stdinFree bool) (client.Options, error) {
	switch {
	case f.guest != "":
		return client.Options{Name: f.guest}, nil
	case f.token != "":
		return client.Options{Token: f.token}, nil
	}
	pw := e.getenv(passwordEnv)
	if pw == "" {
		file, ok := e.stdin.(*os.File)
		if !stdinFree || !ok || !term.IsTerminal(int(file.Fd())) {
			return client.Options{}, usagef("--user %s needs the password in %s", f.user, passwordEnv)
		}
		fmt.Fprintf(e.stderr, "Password for %s: ", f.user)
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return client.Options{}, fmt.Errorf("read the password: %w", err)
		}
		pw = string(b)
	}
	tokens, err := client.Login(ctx, withScheme(f.server), f.user, pw)
	if err != nil {
		return client.Options{}, f.explain(err)
	}
	return client.Options{GetToken: client.NewRefresher(withScheme(f.server), tokens).GetToken}, nil
}

// dial connects with the flags' credentials, adjusted by adjust.
func (f *connFlags) dial(ctx context.Context, e *cli, stdinFree bool, adjust func(*client.Options)) (*client.Client, error) {
	opts, err := f.options(ctx, e, stdinFree)
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		adjust(&opts)
	}
	c, err := client.Dial(ctx, f.wsURL(), opts)
	if err != nil {
		return nil, f.explain(err)
	}
	return c, nil
}

// explain turns an error of the client into a sentence for people.
func (f *connFlags) explain(err error) error {
	var (
		de *client.DialError
		ae *client.APIError
		se *client.ServerError
		ce *client.CloseError
	)
	switch {
	case errors.As(err, &ae):
		switch ae.Status {
		case http.StatusUnauthorized:
			return fmt.Errorf("wrong username or password for %s", f.user)
		case http.StatusTooManyRequests:
			return fmt.Errorf("too many sign-in attempts; try again in %v", max(ae.RetryAfter.Round(time.Second), time.Second))
		case http.StatusNotFound:
			return errors.New("the server has no built-in accounts; use --token or --guest")
		case http.StatusForbidden:
			return fmt.Errorf("the server refused the sign-in: %s", ae.Message)
		}
		return fmt.Errorf("the server could not sign you in (HTTP %d): %s", ae.Status, ae.Message)
	case errors.As(err, &de):
		switch {
		case de.Status == http.StatusUnauthorized && f.guest != "":
			return errors.New("the server refused the guest; it must run with --guests")
		case de.Status == http.StatusUnauthorized:
			return errors.New("the server refused the token: it is invalid, expired or signed out; sign in again")
		case de.Status == http.StatusForbidden:
			return errors.New("the server refused the connection from this origin")
		case de.Status != 0:
			return fmt.Errorf("the server refused the connection (HTTP %d)", de.Status)
		}
		return fmt.Errorf("cannot reach the server at %s: %s", f.server, netReason(de.Err))
	case errors.As(err, &se):
		return fmt.Errorf("the server refused: %s (%s)", se.Message, se.Code)
	case errors.As(err, &ce):
		switch ce.Code {
		case client.CloseDisconnected:
			return fmt.Errorf("the server ended this session: %s", orDefault(ce.Reason, "disconnected by the application"))
		case client.CloseTooManyConns:
			return errors.New("the server refused the connection: too many connections for this user")
		case client.CloseUnauthorized, client.CloseTokenExpired:
			return errors.New("the server ended the session: the token was signed out or expired; sign in again")
		}
		return fmt.Errorf("the server closed the connection (%d): %s", ce.Code, ce.Reason)
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("the server did not answer in time")
	}
	return err
}

// netReason is the short reason a connection failed.
func netReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is it running?)"
	case errors.As(err, &dnsErr):
		return "no such host"
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "timed out"
	}
	return err.Error()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
