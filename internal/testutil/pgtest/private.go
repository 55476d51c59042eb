package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Private is a PostgreSQL server of one test's own, in a temporary
// directory on a free loopback port, for tests that stop and start the
// database under a running Parley: the machine's shared server is never
// touched, as other tests use it meanwhile. Start it with StartPrivate.
type Private struct {
	// URL connects to its postgres database as the postgres user (trust).
	URL string

	bin  string // the directory of initdb, pg_ctl and postgres
	dir  string // data directory
	log  string // the server's log file
	port int
	asPG bool // run the binaries as the postgres user (the test runs as root)
}

// StartPrivate initialises a database cluster in a temporary directory and
// starts it; it is stopped and removed when the test ends. The test skips,
// saying why, when PostgreSQL's server binaries are not installed.
func StartPrivate(tb testing.TB) *Private {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		tb.Skip("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; install the postgresql package to run this test")
	}
	sort.Strings(bins)
	p := &Private{bin: filepath.Dir(bins[len(bins)-1]), asPG: os.Geteuid() == 0}
	// Not t.TempDir: the postgres user must be able to reach the
	// directory, and t.TempDir's parents are root's alone.
	root, err := os.MkdirTemp("", "parley-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		tb.Fatal(err)
	}
	p.dir, p.log = filepath.Join(root, "data"), filepath.Join(root, "postgres.log")
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if p.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Skipf("running as root, and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, path := range []string{p.dir, root} {
			if err := os.Chown(path, uid, gid); err != nil {
				tb.Fatal(err)
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	if out, err := p.run("initdb", "-D", p.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start(tb)
	tb.Cleanup(func() { _, _ = p.run("pg_ctl", "-D", p.dir, "-m", "immediate", "-w", "stop") })
	return p
}

// Start starts the server and waits until it takes connections.
func (p *Private) Start(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, filepath.Dir(p.dir))
	if out, err := p.run("pg_ctl", "-D", p.dir, "-l", p.log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		logged, _ := os.ReadFile(p.log)
		tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, logged)
	}
}

// Stop stops the server in mode "fast" (sessions ended, a clean shutdown)
// or "immediate" (a crash), waiting until it has.
func (p *Private) Stop(tb testing.TB, mode string) {
	tb.Helper()
	if out, err := p.run("pg_ctl", "-D", p.dir, "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// run runs one of PostgreSQL's binaries, as the postgres user when the
// test runs as root (PostgreSQL refuses to run as root).
func (p *Private) run(name string, args ...string) (string, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
