package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/bench"
)

// TestBenchPublishFlags holds the command line of publish against a
// server the tool did not start: what it lacks is named before anything
// runs (exit 2), and the flags that only such a server needs are refused
// without one.
func TestBenchPublishFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.secret")
	good := filepath.Join(dir, "good.secret")
	if err := os.WriteFile(short, []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(strings.Repeat("k", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := []string{"bench", "--scenario", "publish", "--server", "ws://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"key without server", []string{"bench", "--scenario", "publish", "--api-key", "pk_x"}, nil,
			"--api-key and --jwt-secret-file need --server"},
		{"secret without server", []string{"bench", "--scenario", "fanout", "--jwt-secret-file", good}, nil,
			"--api-key and --jwt-secret-file need --server"},
		{"no key", srv, nil, bench.ErrNoAPIKey.Error()},
		{"no secret", append(srv, "--api-key", "pk_x"), nil, bench.ErrNoJWTSecret.Error()},
		{"no secret, key from the environment", srv, []string{"PARLEY_BENCH_API_KEY=pk_x"}, bench.ErrNoJWTSecret.Error()},
		{"missing secret file", append(srv, "--api-key", "pk_x", "--jwt-secret-file", filepath.Join(dir, "nope")), nil,
			"--jwt-secret-file: open "},
		{"short secret", append(srv, "--api-key", "pk_x", "--jwt-secret-file", short), nil,
			"holds 9 bytes; an HS256 secret has at least 32"},
		{"too many workers", append(srv, "--workers", "1000"), nil, "--workers must be 1 to 256"},
		{"negative timeout", []string{"bench", "--scenario", "all", "--timeout", "-1s"}, nil, "--timeout must be above 0"},
		{"too many subscribers", append(srv, "--subscribers", "1000000"), nil, "--subscribers must be 1 to 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runIn(tt.environ, tt.args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "parley bench: ") || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestBenchServerList holds --server as a list of a cluster's nodes and
// --server-pid beside it: every mistake is named before anything runs.
func TestBenchServerList(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"empty entry", []string{"--server", "ws://127.0.0.1:1,,ws://127.0.0.1:2"}, "address 2 of the list is empty"},
		{"trailing comma", []string{"--server", "ws://127.0.0.1:1,"}, "address 2 of the list is empty"},
		{"twice", []string{"--server", "ws://127.0.0.1:1,http://127.0.0.1:1/"}, "lists http://127.0.0.1:1/ twice"},
		{"bad scheme", []string{"--server", "ws://127.0.0.1:1,ftp://127.0.0.1:2"}, "want a ws://, wss://, http:// or https:// URL"},
		{"remote node", []string{"--server", "ws://127.0.0.1:1,ws://10.1.2.3:2"}, "10.1.2.3 is not on this machine"},
		{"pids short", []string{"--server", "ws://127.0.0.1:1,ws://127.0.0.1:2", "--server-pid", "10"}, "gives 1 pids for 2 nodes"},
		{"pid not a number", []string{"--server", "ws://127.0.0.1:1", "--server-pid", "x"}, `"x" is not a process id`},
		{"pid without server", []string{"--server-pid", "10"}, "--server-pid needs --server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--scenario", "rooms", "--conns", "10"}, tt.args...)
			stdout, stderr, code := runIn(nil, args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestBenchPublishStartsItsOwnServer runs publish as a user would, with
// the binary starting its own server: the child must take external tokens
// with the secret it wrote and give the tool a working API key.
func TestBenchPublishStartsItsOwnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, "bench", "--scenario", "publish", "--members", "5", "--rates", "20",
		"--step-duration", "300ms", "--duration", "200ms", "--subscribers", "20", "--workers", "2",
		"--timeout", "60s", "--json", report)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("parley bench: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	p := rep.Publish
	if p == nil || p.Single == nil || p.Single.Requests == 0 || p.Notify == nil || len(p.Notify.Rounds) == 0 {
		t.Fatalf("publish result %+v:\n%s", p, out)
	}
	r := p.Notify.Rounds[0]
	// The peak is reset just before the notification, so it covers it: it
	// is at least what the server holds after it (not necessarily before,
	// as memory may be given back in between).
	if r.Recipients != 20 || r.ServerRSSPeak == nil || r.ServerRSSAfter == nil || *r.ServerRSSPeak < *r.ServerRSSAfter {
		t.Errorf("first notification %+v: want 20 recipients and the child's memory, peak >= after", r)
	}
}

// TestBenchSoakFlags holds soak's flags: refused without soak, checked
// with it, and soak left out of "all".
func TestBenchSoakFlags(t *testing.T) {
	soak := []string{"bench", "--scenario", "soak"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"csv without soak", []string{"bench", "--scenario", "idle", "--csv", "x.csv"}, "are for --scenario soak"},
		{"churn without soak", []string{"bench", "--scenario", "all", "--churn", "0.1"}, "are for --scenario soak"},
		{"churn above one", append(soak, "--churn", "2"), "--churn 2: want a fraction from 0 to 1"},
		{"sampling too often", append(soak, "--sample-every", "1ms"), "--sample-every must be at least 100ms"},
		{"duration past timeout", append(soak, "--duration", "2h", "--timeout", "1h"), "within --timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runIn(nil, tt.args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
	all, err := parseScenarios("all")
	if err != nil || contains(all, bench.ScenarioSoak) || len(all) != len(bench.Scenarios) {
		t.Errorf("all = %v, %v; want every scenario but soak", all, err)
	}
	if s, err := parseScenarios("soak"); err != nil || len(s) != 1 || s[0] != bench.ScenarioSoak {
		t.Errorf("soak = %v, %v", s, err)
	}
}
