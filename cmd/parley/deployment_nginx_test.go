package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testutil"
)

// deploymentConfig returns the nginx block of docs/DEPLOYMENT.md: the
// fenced block after its <!-- nginx-cluster-config --> marker.
func deploymentConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/DEPLOYMENT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- nginx-cluster-config -->\n```nginx\n")
	if !ok {
		t.Fatal("docs/DEPLOYMENT.md has no nginx block after <!-- nginx-cluster-config -->")
	}
	block, _, ok := strings.Cut(after, "\n```")
	if !ok {
		t.Fatal("docs/DEPLOYMENT.md's nginx block does not end")
	}
	return block
}

// localise makes the documented config run here: the three upstream
// servers become the nodes' addresses, the TLS listener a plain one on
// listen. Nothing else changes, so what the test exercises is the doc.
func localise(t *testing.T, block string, nodes []string, listen string) string {
	t.Helper()
	servers := regexp.MustCompile(`(?m)^(\s*server )\S+:8080( .*;)$`)
	i := 0
	out := servers.ReplaceAllStringFunc(block, func(line string) string {
		m := servers.FindStringSubmatch(line)
		if i >= len(nodes) {
			t.Fatalf("the doc's upstream lists more than %d servers", len(nodes))
		}
		i++
		return m[1] + nodes[i-1] + m[2]
	})
	if i != len(nodes) {
		t.Fatalf("the doc's upstream lists %d servers, want %d", i, len(nodes))
	}
	var kept []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.Fields(line); {
		case len(f) > 0 && f[0] == "listen":
			line = "    listen " + listen + ";"
		case len(f) > 0 && (f[0] == "ssl_certificate" || f[0] == "ssl_certificate_key" || f[0] == "http2"):
			continue
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, "\n")
}

// TestDeploymentNginx runs nginx with docs/DEPLOYMENT.md's configuration
// in front of three nodes and checks that WebSockets through it are spread
// over the nodes and that a message crosses them, so that the documented
// configuration cannot rot. It needs nginx on PATH and the cluster's
// PostgreSQL and NATS.
func TestDeploymentNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (apt-get install nginx-light): docs/DEPLOYMENT.md's configuration is not checked")
	}
	cl := newCluster(t)
	nodes := []*clusterNode{cl.start(), cl.start(), cl.start()}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.addr
	}
	listen := freeAddr(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, localise(t, deploymentConfig(t), addrs, listen))
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx rejects docs/DEPLOYMENT.md's configuration: %v\n%s\n%s", err, out, conf)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM lets the master stop its workers; killing it would
		// leave them running, orphaned.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	testutil.Eventually(t, 10*time.Second, func() bool {
		resp, err := http.Get("http://" + listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "nginx does not pass /readyz on to the nodes")

	// least_conn puts each of three WebSockets on another node.
	var users []*testutil.Client
	for _, name := range []string{"alice", "bob", "carol"} {
		c, _, err := testutil.DialURL(t, "ws://"+listen+"/ws/lobby?name="+name, testutil.DialOptions{})
		if err != nil {
			t.Fatalf("%s through nginx: %v", name, err)
		}
		c.Welcome()
		c.Expect("joined")
		users = append(users, c)
	}
	for i, n := range nodes {
		if got := connections(t, n.addr); got != 1 {
			t.Fatalf("node %d holds %d connections through nginx, want 1 each (least_conn)", i+1, got)
		}
	}
	users[0].Send("chat", "m1", map[string]any{"room": "lobby", "text": "across nodes"})
	users[0].Expect("ack", "presence", "presence_diff")
	for _, u := range users[1:] {
		var m struct {
			Text string `json:"text"`
		}
		u.Expect("message", "presence", "presence_diff").Decode(t, &m)
		if m.Text != "across nodes" {
			t.Fatalf("got %q through nginx, want the message from another node", m.Text)
		}
	}
}

// connections reads parley_connections from a node's /metrics.
func connections(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "parley_connections %d", &n); err == nil {
			return n
		}
	}
	t.Fatalf("no parley_connections in %s/metrics", addr)
	return 0
}
