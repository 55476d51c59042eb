package main

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestPostgresRestartUnderWriteLoad restarts the database (a fast stop,
// then a start) under writers sending to the real binary: while it is
// down sends fail at once with the documented error and /readyz answers
// 503, service is back within seconds of the database, and nothing
// acknowledged is lost. The database is a private one (pgtest.Private),
// never the machine's shared server.
func TestPostgresRestartUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and a PostgreSQL server; skipped with -short")
	}
	cycles, down := 1, time.Second
	if faultsLong() {
		cycles, down = 5, 3*time.Second
	}
	pg := pgtest.StartPrivate(t)
	bin := buildParley(t)
	addr := freeAddr(t)
	var stderr syncBuffer
	proc := startParleyWith(t, bin, addr, t.TempDir(), &stderr, "--database-url", pg.URL)
	wsBase := "ws://" + addr
	load := testutil.StartLoad(wsBase, "pgfault", testutil.LoadOptions{})
	defer load.Stop()
	var worstBack time.Duration
	for cycle := 1; cycle <= cycles; cycle++ {
		acked := load.Ledger.Len()
		if _, ok := waitFor(30*time.Second, func() bool { return load.Ledger.Len() >= acked+200 }); !ok {
			t.Fatalf("cycle %d: only %d acks before the restart", cycle, load.Ledger.Len()-acked)
		}
		errsBefore, logBefore := load.ErrorCount(), logLines(stderr.String())
		pg.Stop(t, "fast")
		stopped := time.Now()
		if _, ok := waitFor(10*time.Second, func() bool { return load.ErrorCount() > errsBefore }); !ok {
			t.Fatalf("cycle %d: the database is down, and no send was refused within 10 s", cycle)
		}
		var body string
		if _, ok := waitFor(10*time.Second, func() bool {
			var code int
			code, body = getText("http://" + addr + "/readyz")
			return code == http.StatusServiceUnavailable
		}); !ok {
			t.Fatalf("cycle %d: /readyz with the database down: %s, want 503", cycle, body)
		}
		if wait := down - time.Since(stopped); wait > 0 {
			time.Sleep(wait) // writers keep sending into the outage meanwhile
		}
		refused := load.ErrorCount() - errsBefore
		pg.Start(t)
		started := time.Now()
		back, ok := waitFor(30*time.Second, func() bool { return load.LastAck().After(started) })
		if !ok {
			t.Fatalf("cycle %d: no ack within 30 s of the database coming back; log:\n%s", cycle, stderr.String())
		}
		ready, ok := waitFor(30*time.Second, func() bool { code, _ := getText("http://" + addr + "/readyz"); return code == http.StatusOK })
		if !ok {
			t.Fatalf("cycle %d: /readyz not 200 within 30 s of the database coming back", cycle)
		}
		worstBack = max(worstBack, back, ready)
		if logged := logLines(stderr.String()) - logBefore; logged >= 40 {
			t.Errorf("cycle %d: %d sends refused wrote %d log lines, want under 40 (repeats are rate limited):\n%s", cycle, refused, logged, stderr.String())
		}
		t.Logf("cycle %d: down %v, %d sends refused (slowest error frame %v), /readyz said %s; first ack %v and /readyz 200 %v after the database came back; %d log lines",
			cycle, started.Sub(stopped).Round(time.Millisecond), refused, load.SlowestError().Round(time.Millisecond), strings.TrimSpace(body),
			back.Round(time.Millisecond), ready.Round(time.Millisecond), logLines(stderr.String())-logBefore)
	}
	readOnlyPhase(t, pg.URL, addr, load)
	load.Stop()
	// Twice the 5 s aimed at, so that a loaded machine does not fail it;
	// the figure measured is in the log above.
	if worstBack > 10*time.Second {
		t.Errorf("service came back %v after the database, want within 5 s (10 s allowed)", worstBack)
	}
	if slow := load.SlowestError(); slow > 10*time.Second {
		t.Errorf("a refused send waited %v for its error frame; sends must fail fast", slow)
	}
	byCode, byText := load.Errors()
	for code := range byCode {
		if code != "unavailable" {
			t.Errorf("error frames with code %q; want only unavailable: %s", code, fmtCodes(byText))
		}
	}
	assertHumanErrors(t, byText)
	stored := load.Ledger.Check(t, wsBase, "pgfault")
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proc.Wait(); err != nil {
		t.Errorf("parley exited with %v after SIGTERM, want 0", err)
	}
	t.Logf("%d restarts: %d sent, %d acknowledged, %d refused (%s), %d in doubt, %d stored, 0 acknowledged lost; worst time back %v",
		cycles, load.Sent(), load.Ledger.Len(), load.ErrorCount(), fmtCodes(byText), load.InDoubt(), stored, worstBack.Round(time.Millisecond))
}

// readOnlyPhase makes the database refuse writes while it still answers
// (default_transaction_read_only): /readyz must say the store is not
// writable, though its ping succeeds, and be ready again once writes
// commit.
func readOnlyPhase(t *testing.T, url, addr string, load *testutil.Load) {
	t.Helper()
	setReadOnly := func(on bool) {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		v := "off"
		if on {
			v = "on"
		}
		if _, err := c.Exec(ctx, "ALTER SYSTEM SET default_transaction_read_only = "+v); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
			t.Fatal(err)
		}
	}
	errsBefore := load.ErrorCount()
	setReadOnly(true)
	var body string
	took, ok := waitFor(20*time.Second, func() bool {
		var code int
		code, body = getText("http://" + addr + "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "not writable")
	})
	if !ok {
		t.Fatalf("/readyz with the database read-only: %s, want 503 store not writable", body)
	}
	setReadOnly(false)
	writable := time.Now()
	back, ok := waitFor(20*time.Second, func() bool { return load.LastAck().After(writable) })
	if !ok {
		t.Fatal("no ack within 20 s of the database taking writes again")
	}
	ready, ok := waitFor(20*time.Second, func() bool { code, _ := getText("http://" + addr + "/readyz"); return code == http.StatusOK })
	if !ok {
		t.Fatal("/readyz not 200 within 20 s of the database taking writes again")
	}
	t.Logf("read-only database: /readyz 503 after %v (%s), %d sends refused; first ack %v and /readyz 200 %v after writes were allowed again",
		took.Round(time.Millisecond), strings.TrimSpace(body), load.ErrorCount()-errsBefore, back.Round(time.Millisecond), ready.Round(time.Millisecond))
}
