package bench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoak runs a few seconds of soak on a few connections with churn and
// checks the CSV's columns and phases and that the PNG is one.
func TestSoak(t *testing.T) {
	dir := t.TempDir()
	csvPath, pngPath := filepath.Join(dir, "soak.csv"), filepath.Join(dir, "soak.png")
	rep := run(t, Config{Scenarios: []string{ScenarioSoak}, Conns: 20, Churn: 0.25, Rates: []float64{4},
		Duration: 3 * time.Second, SampleEvery: 500 * time.Millisecond, CSVPath: csvPath, PNGPath: pngPath})
	r := rep.Soak
	if r == nil || r.Conns != 20 || r.Churners != 5 || r.CSV != csvPath || r.PNG != pngPath {
		t.Fatalf("soak result %+v", r)
	}
	// The test server serves /metrics beside /ws: every figure is known.
	if r.Source != "metrics" || r.Baseline.Goroutines <= 0 || r.Baseline.FDs <= 0 || r.Baseline.RSS <= 0 ||
		r.End.HeapInuse <= 0 || r.Drain.Goroutines <= 0 {
		t.Errorf("soak server figures: source %q, baseline %+v, end %+v, drain %+v", r.Source, r.Baseline, r.End, r.Drain)
	}
	if r.Sent == 0 || r.Delivered == 0 || r.P99MaxMS <= 0 || r.P99MinMS > r.P99MaxMS {
		t.Errorf("soak sent %d, delivered %d, p99 %v–%v ms: want messages and a p99 range", r.Sent, r.Delivered, r.P99MinMS, r.P99MaxMS)
	}
	if r.Warm.Phase != "run" || r.End.Phase != "run" || r.End.Conns != 20 {
		t.Errorf("soak warm %+v, end %+v: want run samples with every connection open at the end", r.Warm, r.End)
	}

	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	const header = "t_seconds,phase,conns,rss_bytes,heap_inuse_bytes,goroutines,open_fds,sent,failed,delivered," +
		"churn_reconnects,drops,delivery_p99_ms,ack_p99_ms"
	if lines[0] != header {
		t.Fatalf("csv header %q, want %q", lines[0], header)
	}
	phases := map[string]int{}
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		if len(cells) != strings.Count(header, ",")+1 {
			t.Fatalf("csv row %q has %d cells", l, len(cells))
		}
		phases[cells[1]]++
		if cells[5] == "" || cells[6] == "" {
			t.Errorf("csv row %q lacks goroutines or fds", l)
		}
	}
	if phases["cold"] != 1 || phases["baseline"] != 1 || phases["run"] < 4 || phases["drain"] < 1 || len(lines)-1 != len(r.Samples) {
		t.Errorf("csv phases %v in %d rows (%d samples); want one cold, one baseline, several run, a drain",
			phases, len(lines)-1, len(r.Samples))
	}

	png, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10<<10 {
		t.Errorf("%s: %d bytes, not a plotted PNG", pngPath, len(png))
	}
}

// TestSoakSummary checks the growth figures on samples made up for it.
func TestSoakSummary(t *testing.T) {
	r := &SoakResult{WarmupSeconds: 10}
	base := SoakSample{Phase: "baseline", RSS: 50, Goroutines: 10, FDs: 10}
	r.Samples = []SoakSample{base}
	// The run starts at 5 s; RSS climbs 100 → 110 after the warm-up.
	for i, rss := range []int64{80, 100, 102, 104, 106, 108, 110} {
		r.Samples = append(r.Samples, SoakSample{Seconds: 5 + 5*float64(i), Phase: "run", RSS: rss, DeliveryP99MS: float64(10 + i)})
	}
	r.Samples = append(r.Samples, SoakSample{Seconds: 45, Phase: "drain", RSS: 60, DeliveryP99MS: -1})
	r.summarise(base, 5*time.Second)
	if r.Warm.RSS != 102 || r.End.RSS != 110 {
		t.Fatalf("warm %+v, end %+v: want the first run sample at or after 15 s and the last run sample", r.Warm, r.End)
	}
	if got, want := r.RSSGrowthPct, 8.0/102*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("growth %v %%, want %v", got, want)
	}
	// 2 bytes every 5 s is 1,440 bytes an hour.
	if math.Abs(r.RSSTrendPerHour-1440) > 1e-6 {
		t.Errorf("trend %v bytes/h, want 1440", r.RSSTrendPerHour)
	}
	if r.P99MinMS != 12 || r.P99MaxMS != 16 || r.RSSMaxAfterWarm != 110 {
		t.Errorf("p99 %v–%v, max RSS %d; want 12–16 and 110", r.P99MinMS, r.P99MaxMS, r.RSSMaxAfterWarm)
	}
}
