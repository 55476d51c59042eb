package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/internal/testutil/lazyfs"
	_ "modernc.org/sqlite"
)

// The power-loss test's knobs: PARLEY_TEST_POWERLOSS_CYCLES power cuts
// (default powerLossCycles, powerLossRaceCycles under the race detector),
// at moments drawn from PARLEY_TEST_POWERLOSS_SEED
// (default: the clock; the seed is logged, so a failure can be replayed).
const (
	powerLossCycles     = 10
	powerLossRaceCycles = 3 // under the race detector
	powerLossWriters    = 4
	powerLossRooms      = 2
	// powerLossWindow is how many messages each writer keeps in flight, so
	// that the server commits them in batches of many, as under real load.
	powerLossWindow = 32
)

// powerLossHTTP bounds the test's HTTP requests, so that a server that
// stops answering fails the test rather than hangs it.
var powerLossHTTP = &http.Client{Timeout: 10 * time.Second}

var (
	buildLossOnce sync.Once
	builtLossBin  string
	buildLossErr  error
)

// buildParleyPowerLoss compiles the binary with a WAL that starts over
// every 16 pages and a checkpoint every 50 ms at most (see
// walRestartFramesAtLink in internal/store/sqlite), so that power cuts land
// during checkpoints and WAL restarts as well as between them.
func buildParleyPowerLoss(t *testing.T) string {
	t.Helper()
	buildLossOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-powerloss-bin-")
		if err != nil {
			buildLossErr = err
			return
		}
		builtLossBin = filepath.Join(dir, "parley")
		const pkg = "github.com/parley-chat/parley/internal/store/sqlite"
		cmd := exec.Command("go", "build", "-o", builtLossBin,
			"-ldflags", "-X "+pkg+".walRestartFramesAtLink=16 -X "+pkg+".checkpointSpacingAtLink=50", ".")
		cmd.Stderr = os.Stderr
		buildLossErr = cmd.Run()
	})
	if buildLossErr != nil {
		t.Fatalf("build parley: %v", buildLossErr)
	}
	return builtLossBin
}

// ackedMsg is a message the server acknowledged.
type ackedMsg struct {
	room     string
	seq      int64
	clientID string
}

// TestPowerLossKeepsAcknowledgedMessages runs the server's data directory
// on lazyfs, which loses everything not synced when the power is cut, and
// cuts the power (and SIGKILLs the server at the same instant) while
// several clients send, at random moments, cycle after cycle on the same
// files. After each cut the surviving database must hold every message
// ever acknowledged, at its acknowledged seq, each room's seqs without a
// gap, no message twice, and pass PRAGMA integrity_check; the signing key
// must be the one made at the first start. A kill -9 (crash_test.go)
// cannot see a missing sync: the kernel keeps what was written. The first
// cut comes right after the first start and the first acknowledgement.
func TestPowerLossKeepsAcknowledgedMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	lfs, mnt := lazyfs.Mount(t)
	bin := buildParleyPowerLoss(t)
	cycles := powerLossCycles
	if powerLossUnderRace {
		cycles = powerLossRaceCycles
	}
	if s := os.Getenv("PARLEY_TEST_POWERLOSS_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PARLEY_TEST_POWERLOSS_CYCLES=%q: want a positive number", s)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_TEST_POWERLOSS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PARLEY_TEST_POWERLOSS_SEED=%q: want a number", s)
		}
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("%d cycles, PARLEY_TEST_POWERLOSS_SEED=%d", cycles, seed)

	dataDir := filepath.Join(mnt, "data") // made by the first start
	acked := map[string]ackedMsg{}        // by client id, over all cycles
	var key []byte
	var restarts []time.Duration
	checkpoints, walRestarts := 0, 0
	var lastSeq map[string]int64 // each room's last stored seq after the last cut
	var proc *exec.Cmd
	t.Cleanup(func() { // before the mount goes, should the test stop early
		if proc != nil && proc.ProcessState == nil {
			_ = proc.Process.Kill()
			_ = proc.Wait()
		}
	})
	for cycle := 1; cycle <= cycles; cycle++ {
		addr := freeAddr(t)
		start := time.Now()
		proc = startParleyNoCleanup(t, bin, addr, dataDir)
		if cycle > 1 {
			restarts = append(restarts, time.Since(start))
		}
		if key == nil {
			var err error
			if key, err = os.ReadFile(filepath.Join(dataDir, "signing.key")); err != nil {
				t.Fatal(err)
			}
		}
		// The first cut right after the first acknowledgement; then at a
		// moment of load drawn between 50 ms and 1.5 s.
		wait := time.Duration(0)
		if cycle > 1 {
			wait = 50*time.Millisecond + time.Duration(rng.Int64N(int64(1450*time.Millisecond)))
		}
		got := drivePowerLoad(t, addr, cycle, wait, func() {
			all, restarts := scrapeCheckpoints(addr)
			checkpoints, walRestarts = checkpoints+all, walRestarts+restarts
			lfs.Cut()
			_ = proc.Process.Kill()
		})
		_ = proc.Wait()
		if err := lfs.Unmount(); err != nil {
			t.Fatal(err)
		}
		if err := lfs.Mount(mnt); err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			acked[m.clientID] = m
		}
		lastSeq = checkSurvivors(t, dataDir, acked, key, cycle, len(got))
		if t.Failed() {
			t.FailNow()
		}
	}
	// The server comes back on what the last cut left and serves it:
	// each room goes on from its last stored seq.
	addr := freeAddr(t)
	start := time.Now()
	proc = startParleyNoCleanup(t, bin, addr, dataDir)
	restarts = append(restarts, time.Since(start))
	for room, want := range lastSeq {
		c, _, err := testutil.DialURL(t, fmt.Sprintf("ws://%s/ws/%s?name=checker", addr, room), testutil.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Welcome()
		var j struct {
			LastSeq int64 `json:"last_seq"`
		}
		c.Expect("joined").Decode(t, &j)
		if j.LastSeq != want {
			t.Errorf("after the last cut the server says room %s is at seq %d; its database holds %d", room, j.LastSeq, want)
		}
		c.Close()
	}
	_ = proc.Process.Kill()
	_ = proc.Wait()
	var worst, total time.Duration
	for _, d := range restarts {
		worst = max(worst, d)
		total += d
	}
	mean := time.Duration(0)
	if len(restarts) > 0 {
		mean = total / time.Duration(len(restarts))
	}
	t.Logf("%d power cuts, %d messages acknowledged, 0 lost; %d checkpoints run, %d of them to start the WAL over; "+
		"back to service after a cut in %v on average, %v at worst",
		cycles, len(acked), checkpoints, walRestarts, mean.Round(time.Millisecond), worst.Round(time.Millisecond))
}

// startParleyNoCleanup is startParley without its clean-up: the test kills
// and waits for each server itself, before the mount under it goes.
func startParleyNoCleanup(t *testing.T, bin, addr, dataDir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dataDir, "--guests", "--room-creation", "anyone",
		"--rate-messages", "100000", "--rate-burst", "100000", "--user-rate-messages", "0", "--address-rate-messages", "0", "--log-level", "error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start parley: %v", err)
	}
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := powerLossHTTP.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if !ready {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("parley on %s never became ready", dataDir)
	}
	return cmd
}

// drivePowerLoad connects powerLossWriters clients to powerLossRooms rooms,
// each sending with powerLossWindow messages in flight, calls cut once at
// least one message is acknowledged and wait has passed, and returns every
// message acknowledged — also those whose ack arrives after the cut: the
// server acks only after a sync, and after the cut no sync succeeds.
func drivePowerLoad(t *testing.T, addr string, cycle int, wait time.Duration, cut func()) []ackedMsg {
	t.Helper()
	var (
		mu    sync.Mutex
		got   []ackedMsg
		wg    sync.WaitGroup
		first = make(chan struct{})
		once  sync.Once
	)
	for w := range powerLossWriters {
		room := fmt.Sprintf("loss%d", w%powerLossRooms)
		c, _, err := testutil.DialURL(t, fmt.Sprintf("ws://%s/ws/%s?name=writer%d", addr, room, w), testutil.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Expect("joined", "welcome", "presence")
		slots := make(chan struct{}, powerLossWindow)
		done := make(chan struct{}) // the reader has stopped
		wg.Add(2)
		go func() { // sender
			defer wg.Done()
			text := strings.Repeat("p", 200) // fills WAL pages faster
			for i := 0; ; i++ {
				select {
				case slots <- struct{}{}:
				case <-done:
					return
				}
				id := fmt.Sprintf("c%d-w%d-%d", cycle, w, i)
				frame := fmt.Sprintf(`{"type":"chat","id":%q,"body":{"room":%q,"text":"%s %s","client_id":%q}}`, id, room, id, text, id)
				if err := c.Conn.WriteMessage(1, []byte(frame)); err != nil {
					return
				}
			}
		}()
		go func() { // reader of acks
			defer wg.Done()
			defer close(done) // ends a sender waiting for a slot
			for {
				f, ok := c.TryNext(10 * time.Second)
				if !ok {
					return // the server is gone
				}
				if f.Type != "ack" && f.Type != "error" {
					continue
				}
				<-slots
				if f.Type == "error" {
					continue // not acknowledged (after the cut: the failed sync)
				}
				var a struct {
					Room string `json:"room"`
					Seq  int64  `json:"seq"`
				}
				if f.DecodeErr(&a) != nil {
					continue
				}
				mu.Lock()
				got = append(got, ackedMsg{room: a.Room, seq: a.Seq, clientID: f.ID})
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		}()
	}
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatalf("cycle %d: no message acknowledged within 30 s", cycle)
	}
	time.Sleep(wait) // the moment of the cut: random, on purpose
	cut()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return got
}

// scrapeCheckpoints returns how many checkpoints the server has run, and
// how many of them the writer ran to start the WAL over, from its metrics
// (0 if it cannot tell).
func scrapeCheckpoints(addr string) (all, restarts int) {
	resp, err := powerLossHTTP.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "parley_store_checkpoint_seconds_count") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, _ := strconv.ParseFloat(line[i+1:], 64)
		all += int(v)
		if strings.Contains(line, `by="writer"`) {
			restarts += int(v)
		}
	}
	return all, restarts
}

// checkSurvivors checks the files a power cut left in dataDir: a copy of
// the database (and its WAL) must pass integrity_check and hold every
// acknowledged message at its seq, gap-free and once; the signing key must
// be unchanged.
func checkSurvivors(t *testing.T, dataDir string, acked map[string]ackedMsg, key []byte, cycle, ackedNow int) (lastSeq map[string]int64) {
	t.Helper()
	if got, err := os.ReadFile(filepath.Join(dataDir, "signing.key")); err != nil || string(got) != string(key) {
		t.Errorf("cycle %d: after the cut the signing key is %q (%v), want the first start's %q", cycle, got, err, key)
	}
	db, err := sql.Open("sqlite", "file:"+copyDatabase(t, dataDir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("cycle %d: integrity_check = %q, %v", cycle, integrity, err)
	}
	rows, err := db.Query("SELECT room, seq, client_id FROM messages ORDER BY room, seq")
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	defer rows.Close()
	stored := map[string]ackedMsg{}
	last := map[string]int64{}
	for rows.Next() {
		var m ackedMsg
		if err := rows.Scan(&m.room, &m.seq, &m.clientID); err != nil {
			t.Fatal(err)
		}
		if m.seq != last[m.room]+1 {
			t.Errorf("cycle %d: room %s goes from seq %d to %d", cycle, m.room, last[m.room], m.seq)
		}
		last[m.room] = m.seq
		if prev, dup := stored[m.clientID]; dup {
			t.Errorf("cycle %d: message %s stored twice, as %s/%d and %s/%d", cycle, m.clientID, prev.room, prev.seq, m.room, m.seq)
		}
		stored[m.clientID] = m
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for id, want := range acked {
		if got, ok := stored[id]; !ok || got != want {
			lost++
			if lost <= 5 {
				t.Errorf("cycle %d: acknowledged message %+v is %+v after the cut", cycle, want, got)
			}
		}
	}
	if lost > 0 {
		t.Errorf("cycle %d: %d of %d acknowledged messages lost", cycle, lost, len(acked))
	}
	t.Logf("cycle %d: %d acknowledged this cycle; %d stored after the cut, all %d acknowledged among them: %v",
		cycle, ackedNow, len(stored), len(acked), lost == 0)
	return last
}

// TestRestoreSurvivesPowerLoss: a database parley restore reported as
// restored into a new data directory is still there after a power cut,
// directory and all (lazyfs forgets unsynced directory entries).
func TestRestoreSurvivesPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	lfs, mnt := lazyfs.Mount(t)
	p := adminBin{t: t, bin: buildParley(t)}
	src := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(src, "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	p.ok("", nil, "backup", backup, "--data-dir", src)
	data := filepath.Join(mnt, "data")
	p.ok("", nil, "restore", backup, "--data-dir", data)
	lfs.PowerCycle(t, nil)
	if _, err := sqlite.Check(context.Background(), copyDatabase(t, data)); err != nil {
		t.Fatalf("after a power cut the restored database: %v", err)
	}
}

// copyDatabase copies parley.db and its WAL (if any) out of dataDir into a
// temporary directory and returns the copy's path. The test opens
// databases on lazyfs only as copies: SQLite maps its -shm file into
// memory, and a page fault on a FUSE file served by the faulting process
// itself can stall the Go runtime's stop-the-world forever.
func copyDatabase(t *testing.T, dataDir string) string {
	t.Helper()
	cp := t.TempDir()
	for _, name := range []string{"parley.db", "parley.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dataDir, name))
		if os.IsNotExist(err) && name != "parley.db" {
			continue
		}
		if err != nil {
			t.Fatalf("after the cut: %v", err)
		}
		if err := os.WriteFile(filepath.Join(cp, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(cp, "parley.db")
}

// TestFirstStartSurvivesPowerLoss: a power cut right after the first start
// (SIGKILL at the same instant) leaves the data directory, the signing key
// as it was made and a database that passes its check: each name is synced
// into its directory, and the data directory into its parent.
func TestFirstStartSurvivesPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	lfs, mnt := lazyfs.Mount(t)
	bin := buildParley(t)
	dataDir := filepath.Join(mnt, "data")
	proc := startParleyNoCleanup(t, bin, freeAddr(t), dataDir)
	keyPath := filepath.Join(dataDir, "signing.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		_ = proc.Process.Kill()
		_ = proc.Wait()
		t.Fatal(err)
	}
	lfs.PowerCycle(t, func() {
		_ = proc.Process.Kill()
		_ = proc.Wait()
	})
	if got, err := os.ReadFile(keyPath); err != nil || string(got) != string(key) {
		t.Fatalf("after a power cut the key file holds %q (%v), want %q", got, err, key)
	}
	if _, err := sqlite.Check(context.Background(), copyDatabase(t, dataDir)); err != nil {
		t.Fatalf("after a power cut the database: %v", err)
	}
}
