package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// certificate is the server's TLS certificate, read from tls-cert and
// tls-key and swapped whole when they are read again (ReloadTLS), so that
// a renewed certificate serves the connections that start after it while
// the open ones, which finished their handshake, go on undisturbed.
type certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// loadCertificate reads and checks a certificate and key pair: both files
// readable, PEM, the key matching the certificate's public key.
func loadCertificate(certFile, keyFile string) (*tls.Certificate, error) {
	for _, f := range []struct{ setting, path string }{{"tls-cert", certFile}, {"tls-key", keyFile}} {
		if _, err := os.ReadFile(f.path); err != nil {
			return nil, pathError(f.setting, f.path, err)
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "does not match") {
			msg = "the private key in tls-key does not match the certificate's public key"
		}
		return nil, fmt.Errorf("config: tls-cert %s, tls-key %s: %s", certFile, keyFile, strings.TrimPrefix(msg, "tls: "))
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("config: tls-cert %s: %w", certFile, err)
		}
	}
	return &pair, nil
}

// get is tls.Config.GetCertificate: the current certificate, for every
// handshake.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil }

// tlsConfig is the listener's TLS configuration: TLS 1.2 or later, the
// certificate looked up at each handshake. HTTP/2 is offered for plain
// requests; a WebSocket upgrade goes over HTTP/1.1, which browsers open
// for it since the server does not offer WebSockets over HTTP/2.
func (c *certificate) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}

// ErrNoTLS is ReloadTLS's answer on a server that serves plain HTTP.
var ErrNoTLS = errors.New("server: TLS is off (no tls-cert); nothing to reload")

// ReloadTLS reads the tls-cert and tls-key files again and, if they hold a
// usable pair, serves it to every connection that starts from now on;
// connections already open keep theirs. On failure the previous pair stays
// in use and the error says why. `parley serve` calls it on SIGHUP, and
// logs the outcome.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return ErrNoTLS
	}
	pair, err := loadCertificate(s.cert.certFile, s.cert.keyFile)
	if err != nil {
		return fmt.Errorf("server: reload TLS: %w", err)
	}
	s.cert.cur.Store(pair)
	s.log.Info("reloaded the TLS certificate", certAttrs(pair)...)
	return nil
}

// HandleReload is ReloadTLS with its outcome logged, for a SIGHUP handler:
// an error if the files could not be used (the previous certificate stays),
// a note if TLS is off.
func (s *Server) HandleReload() {
	switch err := s.ReloadTLS(); {
	case errors.Is(err, ErrNoTLS):
		s.log.Info("SIGHUP: TLS is off (no tls-cert), so there is nothing to reload")
	case err != nil:
		s.log.Error("SIGHUP: could not reload the TLS certificate; still serving the previous one", "err", err)
	}
}

// certAttrs describe a certificate in logs: whom it names and until when.
func certAttrs(pair *tls.Certificate) []any {
	leaf := pair.Leaf
	names := leaf.DNSNames
	if len(names) == 0 {
		names = []string{leaf.Subject.CommonName}
	}
	return []any{"tls_names", strings.Join(names, ","), "tls_expires", leaf.NotAfter.UTC().Format(time.RFC3339)}
}
