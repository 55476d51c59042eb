package main

// Helpers of the fault tests (faults_*_test.go): each runs the real binary
// under a write load (testutil.Load), breaks something under it, and checks
// with testutil.Ledger that every acknowledged message is stored once, in
// a gap-free sequence. docs/OPERATIONS.md#fault-tests says how to run them.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // integrity checks of the data directory's database
)

// envFaultsLong makes the fault tests run longer: more cycles, more load.
// Without it they stay within a few seconds each, for `go test ./...`.
const envFaultsLong = "PARLEY_TEST_FAULTS_LONG"

// faultsLong reports whether the long versions were asked for.
func faultsLong() bool { return os.Getenv(envFaultsLong) == "1" }

// plainHTTP is a client without keep-alive, so no connection of it
// outlives a test (goleak checks the package).
var plainHTTP = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// getText GETs url and returns its status and body; status 0 if the
// request failed.
func getText(url string) (int, string) {
	resp, err := plainHTTP.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the sum of the samples of the metric name whose labels
// contain every one of labels (like `kind="disk_full"`) on the /metrics
// of the server at addr.
func metric(t *testing.T, addr, name string, labels ...string) float64 {
	t.Helper()
	code, body := getText("http://" + addr + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// integrityCheck opens the SQLite database at path (recovering its WAL, as
// the server would) and fails t unless PRAGMA integrity_check says ok.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		t.Fatalf("integrity_check of %s: %v", path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if len(out) != 1 || out[0] != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, strings.Join(out, "; "))
	}
}

// logLines counts the lines of a log.
func logLines(s string) int { return strings.Count(s, "\n") }

// waitFor polls cond until it holds or timeout passes; it returns how long
// that took and whether it held.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), cond()
}

// assertHumanErrors fails t if an error frame's sentence shows Go or
// driver internals instead of a sentence for people.
func assertHumanErrors(t *testing.T, byText map[string]int) {
	t.Helper()
	for text := range byText {
		for _, leak := range []string{"sqlite", "postgres", "dial tcp", "SQLSTATE", "%!", "<nil>", "pgx", "goroutine"} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(leak)) {
				t.Errorf("error frame %q shows internals (%q)", text, leak)
			}
		}
	}
}

func fmtCodes(m map[string]int) string {
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, "%s×%d ", k, v)
	}
	return strings.TrimSpace(b.String())
}
