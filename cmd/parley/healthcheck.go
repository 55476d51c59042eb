package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/config"
)

const healthcheckLong = `Ask a server on this machine whether it is ready: GET /readyz, exit 0 on
200 and 1 otherwise, with the reason on standard error. For container
HEALTHCHECKs and scripts on images without curl.

The URL comes from the server's own settings (--config, --addr, --tls-cert,
or their PARLEY_* variables): https when tls-cert is set, and 127.0.0.1 for
an address that listens on every interface. The certificate is not
verified on that loopback URL: the question is whether this server is up,
and its certificate names a public host. --url asks any URL instead, with
the certificate verified.`

// healthcheckCommand is "parley healthcheck".
func healthcheckCommand(e *cli) *cobra.Command {
	c := &cobra.Command{
		Use:     "healthcheck",
		Short:   "Exit 0 if the local server answers /readyz with 200",
		Long:    healthcheckLong,
		Example: "  parley healthcheck\n  parley healthcheck --url https://chat.example.com/readyz",
		Args:    noArgs,
	}
	pf := c.Flags()
	pf.SortFlags = false
	settings := config.AddFlags(pf, "config", "addr", "tls-cert", "tls-key")
	rawURL := pf.String("url", "", "URL to GET instead of the server's own /readyz")
	timeout := pf.Duration("timeout", 5*time.Second, "give up after this long")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *timeout <= 0 {
			return usagef("--timeout must be above 0, got %v", *timeout)
		}
		target, verify := *rawURL, true
		if target != "" {
			if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--url %q: want an http:// or https:// URL", target)
			}
		} else {
			cfg, _, err := settings.Load(e.environ)
			if err != nil {
				printError(e.stderr, c.CommandPath(), err)
				return exitStatus(exitUsage)
			}
			target, verify = readyURL(cfg), false
		}
		return probe(c.Context(), e, c.CommandPath(), target, verify, *timeout)
	}
	return c
}

// readyURL is the /readyz URL of the server cfg configures, on loopback
// when it listens on every interface.
func readyURL(cfg config.Config) string {
	host, port, _ := net.SplitHostPort(cfg.Addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz"
}

// probe GETs target and reports anything but a 200.
func probe(ctx context.Context, e *cli, prefix, target string, verify bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: !verify}} //nolint:gosec // loopback only, see healthcheckLong
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("%s: not reachable: %w", target, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", target, strings.TrimSpace(string(body)))
	return nil
}

// unwrapURLError drops the "Get URL:" that *url.Error repeats.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
