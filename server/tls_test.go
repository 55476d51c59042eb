package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/server"
)

// serveTLS starts a server with a TLS certificate on a loopback port and
// returns it, its address and its log; it stops when the test ends.
func serveTLS(t *testing.T, tc testutil.TestCert) (*server.Server, string, *syncBuffer) {
	t.Helper()
	cfg := startupConfig(t)
	cfg.TLSCert, cfg.TLSKey = tc.CertFile, tc.KeyFile
	logs := &syncBuffer{}
	srv, err := server.New(context.Background(), cfg, server.Options{LogOutput: logs})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String(), logs
}

// TestTLSServesHTTPSAndWSS: with tls-cert and tls-key the server speaks
// HTTPS (an API call) and WSS (a message acknowledged) on its one port,
// and its startup line gives https and wss URLs.
func TestTLSServesHTTPSAndWSS(t *testing.T) {
	tc := testutil.WriteCert(t, t.TempDir(), 1)
	_, addr, logs := serveTLS(t, tc)
	roots := tc.Pool()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()

	resp, err := hc.Post("https://"+addr+"/api/v1/auth/register", "application/json",
		strings.NewReader(`{"username":"alice","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.TLS == nil {
		t.Fatalf("register over https: %d %s (TLS %v)", resp.StatusCode, body, resp.TLS != nil)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("register answered %s", body)
	}

	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots}, Subprotocols: []string{"parley.v1"}, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("wss://"+addr+"/ws/lobby", http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "chat", "id": "1", "body": map[string]string{"room": "lobby", "text": "over TLS"}}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("waiting for the ack over wss: %v", err)
		}
		if f.Type == "ack" && f.ID == "1" {
			break
		}
	}

	// Plain HTTP on the TLS port is refused, not served.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS port")
		}
	}
	for _, want := range []string{"url=https://127.0.0.1:", "websocket=wss://127.0.0.1:", "tls_cert=" + tc.CertFile,
		"tls_names=localhost", "data_dir=", "database=", "signing_key="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the startup line lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestTLSReloadKeepsOpenConnections: ReloadTLS (SIGHUP in parley serve)
// serves the new certificate to new connections while an open WebSocket
// goes on; files that do not load leave the previous certificate serving.
func TestTLSReloadKeepsOpenConnections(t *testing.T) {
	dir := t.TempDir()
	first := testutil.WriteCert(t, dir, 1)
	srv, addr, logs := serveTLS(t, first)
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: first.Pool()}, Subprotocols: []string{"parley.v1"}}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: first.Pool()}}}
	resp, err := hc.Post("https://"+addr+"/api/v1/auth/register", "application/json",
		strings.NewReader(`{"username":"bob","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	hc.CloseIdleConnections()
	ws, _, err := d.Dial("wss://"+addr+"/ws/lobby", http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	second := testutil.WriteCert(t, dir, 2)
	if err := srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ServedSerial(t, addr); got != 2 {
		t.Fatalf("after the reload a new connection got serial %d, want 2", got)
	}
	if !strings.Contains(logs.String(), "reloaded the TLS certificate") {
		t.Errorf("no log of the reload:\n%s", logs.String())
	}
	// The open connection, made under the first certificate, goes on.
	if err := ws.WriteJSON(map[string]any{"type": "ping", "id": "p"}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f struct{ Type, ID string }
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("the open connection after the reload: %v", err)
		}
		if f.Type == "pong" {
			break
		}
	}

	// A broken pair is refused and the second certificate stays.
	if err := os.WriteFile(second.KeyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.ReloadTLS(); err == nil || !strings.Contains(err.Error(), "tls-key") {
		t.Fatalf("reload with a broken key: %v", err)
	}
	if got := testutil.ServedSerial(t, addr); got != 2 {
		t.Fatalf("after a failed reload a new connection got serial %d, want 2", got)
	}
}

// TestTLSRefusesUnusableFiles: a missing file, a key that is not the
// certificate's, or a file that is not PEM stops the server before it
// creates anything, naming the setting.
func TestTLSRefusesUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	a := testutil.WriteCert(t, filepath.Join(dir), 1)
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	b := testutil.WriteCert(t, other, 2)
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		cert, key string
		want      string
	}{
		{"missing certificate", filepath.Join(dir, "nope.pem"), a.KeyFile, "config: tls-cert " + filepath.Join(dir, "nope.pem") + ": does not exist"},
		{"missing key", a.CertFile, filepath.Join(dir, "nope.key"), "config: tls-key " + filepath.Join(dir, "nope.key") + ": does not exist"},
		{"key of another certificate", a.CertFile, b.KeyFile, "the private key in tls-key does not match the certificate's public key"},
		{"not PEM", junk, a.KeyFile, "config: tls-cert " + junk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := startupConfig(t)
			cfg.TLSCert, cfg.TLSKey = tt.cert, tt.key
			err, _ := newServer(t, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want it to say %q", err, tt.want)
			}
			mustNotExist(t, cfg.DataDir)
		})
	}
	cfg := config.Default()
	cfg.TLSCert = a.CertFile
	if err := cfg.Validate(); err == nil {
		t.Fatal("tls-cert without tls-key validated")
	}
}
