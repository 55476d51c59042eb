package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/testutil"
)

// startTLSParley runs the binary with a certificate and waits until it
// answers /readyz over HTTPS with that certificate trusted.
func startTLSParley(t *testing.T, bin string, tc testutil.TestCert, logs *syncBuffer) (*exec.Cmd, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", t.TempDir(), "--guests", "--room-creation", "anyone",
		"--tls-cert", tc.CertFile, "--tls-key", tc.KeyFile)
	cmd.Env, cmd.Stderr = cleanEnv(), logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tc.Pool()}}, Timeout: time.Second}
	defer hc.CloseIdleConnections()
	testutil.Eventually(t, 15*time.Second, func() bool {
		resp, err := hc.Get("https://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "parley with TLS at %s never became ready:\n%s", addr, logs)
	return cmd, addr
}

// TestSighupReloadsTheCertificate: after the certificate files are
// replaced, SIGHUP makes the running binary serve the new certificate to
// new connections, while a WebSocket opened before goes on.
func TestSighupReloadsTheCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	dir := t.TempDir()
	first := testutil.WriteCert(t, dir, 1)
	var logs syncBuffer
	cmd, addr := startTLSParley(t, bin, first, &logs)
	if !strings.Contains(logs.String(), "url=https://"+addr) || !strings.Contains(logs.String(), "websocket=wss://"+addr+"/ws") {
		t.Fatalf("the startup line does not give https and wss URLs:\n%s", logs.String())
	}

	// parley healthcheck finds the server from the same settings: https.
	hc := adminBin{t: t, bin: bin}
	if out := hc.ok("", nil, "healthcheck", "--addr", addr, "--tls-cert", first.CertFile, "--tls-key", first.KeyFile); !strings.HasPrefix(out, "https://"+addr+"/readyz") {
		t.Fatalf("healthcheck with TLS said %q", out)
	}

	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: first.Pool()}, Subprotocols: []string{"parley.v1"}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("wss://"+addr+"/ws/lobby?name=early", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	testutil.WriteCert(t, dir, 2)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return testutil.ServedSerial(t, addr) == 2 },
		"new connections still get the first certificate after SIGHUP:\n%s", &logs)
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), "reloaded the TLS certificate") },
		"no log line for the reload:\n%s", &logs)

	// The connection made before the reload still carries frames.
	if err := ws.WriteJSON(map[string]any{"type": "chat", "id": "after", "body": map[string]string{"room": "lobby", "text": "still here"}}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f struct {
			Type, ID string
			Body     json.RawMessage
		}
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("the WebSocket opened before SIGHUP: %v", err)
		}
		if f.Type == "error" {
			t.Fatalf("the WebSocket opened before SIGHUP got an error: %s", f.Body)
		}
		if f.Type == "ack" && f.ID == "after" {
			break
		}
	}
}

// TestSighupWithoutTLSKeepsServing: a server without TLS logs SIGHUP and
// carries on rather than exit, as the signal's default would.
func TestSighupWithoutTLSKeepsServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	addr := freeAddr(t)
	var logs syncBuffer
	cmd := startParleyWith(t, bin, addr, t.TempDir(), &logs, "--log-level", "info")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return strings.Contains(logs.String(), "nothing to reload") },
		"no log line for SIGHUP:\n%s", &logs)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	resp.Body.Close()
}
