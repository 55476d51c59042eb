package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// unitKeys reads a systemd unit's Key=Value lines; a key given twice keeps
// every value.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not Key=Value", path, line)
		}
		keys[k] = append(keys[k], v)
	}
	return keys
}

// TestSystemdUnit checks deploy/parley.service: the hardening it promises,
// a stop timeout longer than the drain, and, where systemd-analyze
// exists, that systemd accepts every line.
func TestSystemdUnit(t *testing.T) {
	const unit = "../../deploy/parley.service"
	keys := unitKeys(t, unit)
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "parley", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
		"CapabilityBoundingSet": "", "AmbientCapabilities": "", "Restart": "on-failure", "KillSignal": "SIGTERM",
		"ProtectHome": "yes", "PrivateTmp": "yes", "ExecReload": "/bin/kill -HUP $MAINPID",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	stop, err := time.ParseDuration(keys["TimeoutStopSec"][0])
	if err != nil || stop <= config.Default().ShutdownTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec=%v must exceed the default shutdown-timeout %v with room to spare", keys["TimeoutStopSec"], config.Default().ShutdownTimeout)
	}
	if n, err := strconv.Atoi(keys["LimitNOFILE"][0]); err != nil || n < 65536 {
		t.Errorf("LimitNOFILE=%v: want room for tens of thousands of connections", keys["LimitNOFILE"])
	}
	env := strings.Join(keys["Environment"], " ")
	if !strings.Contains(env, "PARLEY_DATA_DIR=/var/lib/parley") {
		t.Errorf("Environment %q does not put the data in StateDirectory's /var/lib/parley", env)
	}
	if got := keys["ExecStart"]; len(got) != 1 || got[0] != "/usr/local/bin/parley serve" {
		t.Errorf("ExecStart=%q", got)
	}

	t.Run("systemd-analyze verify", func(t *testing.T) {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Skip("systemd-analyze is not installed (apt-get install systemd); the unit's syntax is unchecked")
		}
		// verify wants ExecStart's binary to exist: point it at a built one.
		text, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(t.TempDir(), "parley.service")
		if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(text), "/usr/local/bin/parley", buildParley(t))), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", tmp).CombinedOutput()
		// It warns about unknown or malformed lines and still exits 0:
		// any output about the unit is a failure.
		if err != nil || strings.Contains(string(out), "parley.service") {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}

// TestDockerImage checks the Dockerfile's promises, and where a Docker
// daemon answers, builds the image, runs it and waits for its
// HEALTHCHECK (parley healthcheck, as the image has no curl) to pass.
func TestDockerImage(t *testing.T) {
	text, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(text)
	for _, want := range []string{
		"sh deploy/build.sh", // the reproducible static build (CGO_ENABLED=0)
		"USER 65532:65532",
		`VOLUME ["/data"]`,
		`CMD ["/usr/local/bin/parley", "healthcheck"]`,
		"PARLEY_DATA_DIR=/data",
		"ARG PARLEY_COMMIT",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil || !strings.Contains(string(ignore), ".git\n") || !strings.Contains(string(ignore), "parley-data") {
		t.Errorf(".dockerignore should keep .git and data out: %v %q", err, ignore)
	}

	if os.Getenv("PARLEY_TEST_DOCKER") == "" {
		t.Skip("set PARLEY_TEST_DOCKER=1 where a Docker daemon and its base images are reachable to build and run the image " +
			"(as by hand: docker build -t parley . && docker run -d -p 8080:8080 parley, then docker inspect --format '{{.State.Health.Status}}')")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Fatalf("PARLEY_TEST_DOCKER is set but docker info fails: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	const image = "parley-test:latest"
	docker("build", "-t", image, "--build-arg", "PARLEY_COMMIT=0123456789abcdef0123456789abcdef01234567", "../..")
	if v := docker("run", "--rm", image, "version"); !strings.Contains(v, "commit 0123456789ab") {
		t.Fatalf("parley version in the image: %q", v)
	}
	id := docker("run", "-d", "--health-interval", "1s", image)
	defer exec.Command("docker", "rm", "-f", id).Run()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status := docker("inspect", "--format", "{{.State.Health.Status}}", id)
		if status == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container is %s after 60s:\n%s", status, docker("logs", id))
		}
		time.Sleep(time.Second)
	}
	if user := docker("exec", id, "/usr/local/bin/parley", "version"); user == "" {
		t.Fatal("parley version printed nothing in the container")
	}
}

// TestReproducibleBuild builds the committed tree twice with
// deploy/build.sh, from two clones in different directories, the second
// with an empty build cache, and wants the same bytes. Two full builds
// take a few minutes on 2 cores, so it runs when PARLEY_TEST_REPRO is set
// (CI sets it).
func TestReproducibleBuild(t *testing.T) {
	if os.Getenv("PARLEY_TEST_REPRO") == "" {
		t.Skip("set PARLEY_TEST_REPRO=1 to build the committed tree twice and compare (a few minutes)")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	root, _ := filepath.Abs("../..")
	var sums [2]string
	for i := range sums {
		dir := filepath.Join(t.TempDir(), "clone"+strconv.Itoa(i), "parley")
		runCmd(t, "", "git", "clone", "--quiet", "--no-checkout", root, dir)
		runCmd(t, dir, "git", "checkout", "--quiet", commit)
		var env []string
		if i == 1 {
			env = []string{"GOCACHE=" + t.TempDir()}
		}
		out := filepath.Join(dir, "parley")
		runEnv(t, dir, env, "sh", "deploy/build.sh", out)
		sums[i] = fileSHA256(t, out)
		if v := runCmd(t, "", out, "version"); !strings.Contains(v, "commit "+commit[:12]) {
			t.Fatalf("the built binary says %q, want commit %s", v, commit[:12])
		}
	}
	if sums[0] != sums[1] {
		t.Fatalf("two builds of %s differ: %s and %s", commit[:12], sums[0], sums[1])
	}
	t.Logf("both builds of %s: sha256 %s", commit[:12], sums[0])
}

func runCmd(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	return runEnv(t, dir, nil, name, args...)
}

func runEnv(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestHealthcheck runs parley healthcheck against the real binary: ready
// is exit 0, an address where nothing listens exit 1 with the reason, a
// bad --url exit 2; the URL comes from --addr or PARLEY_ADDR, on loopback
// for an address on every interface.
func TestHealthcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	p := adminBin{t: t, bin: buildParley(t)}
	addr := freeAddr(t)
	startParley(t, p.bin, addr, t.TempDir())
	_, port, _ := net.SplitHostPort(addr)

	if out := p.ok("", nil, "healthcheck", "--addr", addr); !strings.Contains(out, `"status":"ready"`) {
		t.Fatalf("healthcheck said %q", out)
	}
	if out := p.ok("", []string{"PARLEY_ADDR=:" + port}, "healthcheck"); !strings.HasPrefix(out, "http://127.0.0.1:"+port+"/readyz") {
		t.Fatalf("healthcheck with PARLEY_ADDR=:%s said %q", port, out)
	}
	dead := freeAddr(t)
	_, stderr, code := p.run("", nil, "healthcheck", "--addr", dead, "--timeout", "2s")
	if code != 1 || !strings.HasPrefix(stderr, "parley healthcheck: http://"+dead+"/readyz: not reachable") {
		t.Fatalf("healthcheck of nothing: exit %d, %q", code, stderr)
	}
	_, stderr, code = p.run("", nil, "healthcheck", "--url", "ftp://example.com")
	if code != 2 || !strings.Contains(stderr, "want an http:// or https:// URL") {
		t.Fatalf("healthcheck --url ftp: exit %d, %q", code, stderr)
	}
}
