package bench

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// probe reads the server's resources for the soak scenario: from its
// /metrics (the Go and process collectors' gauges) when it serves them on
// its main address, else from /proc/<pid> when the pid is known, which
// gives RSS and descriptors but not the heap or goroutines.
type probe struct {
	metricsURL string
	pid        int
}

// read returns a sample with the server figures filled in, -1 where
// unknown.
func (p probe) read(ctx context.Context) SoakSample {
	s := SoakSample{RSS: -1, HeapInuse: -1, Goroutines: -1, FDs: -1}
	if g, ok := scrapeGauges(ctx, p.metricsURL); ok {
		s.Source = "metrics"
		s.RSS, s.HeapInuse = g["process_resident_memory_bytes"], g["go_memstats_heap_inuse_bytes"]
		s.Goroutines, s.FDs = g["go_goroutines"], g["process_open_fds"]
	}
	if p.pid > 0 {
		pid := strconv.Itoa(p.pid)
		if s.RSS < 0 {
			if rss, err := procRSS(pid); err == nil {
				s.RSS, s.Source = rss, "proc"
			}
		}
		if s.FDs < 0 {
			if ents, err := os.ReadDir("/proc/" + pid + "/fd"); err == nil {
				s.FDs = int64(len(ents))
			}
		}
	}
	return s
}

// soakGauges are the gauges the soak scenario reads off /metrics.
var soakGauges = []string{"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_goroutines", "process_open_fds"}

// scrapeGauges reads soakGauges from url, -1 for each one missing; ok is
// false when the page cannot be read at all.
func scrapeGauges(ctx context.Context, url string) (map[string]int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, false
	}
	out := make(map[string]int64, len(soakGauges))
	for _, name := range soakGauges {
		out[name] = gauge(families[name])
	}
	return out, true
}

// gauge returns the value of a family's single gauge, -1 if there is none.
func gauge(f *dto.MetricFamily) int64 {
	if f == nil || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetGauge() == nil {
		return -1
	}
	return int64(f.GetMetric()[0].GetGauge().GetValue())
}
