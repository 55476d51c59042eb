package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// SoakSample is one reading of the soak scenario: the server's resources
// at that moment and what the members did since the previous reading.
// Unknown server figures are -1 (an empty cell in the CSV), and so is a
// p99 of an interval without messages.
type SoakSample struct {
	// Seconds is the time since the baseline sample.
	Seconds float64 `json:"t_seconds"`
	// Phase is "cold" (the server as it started), "baseline" (warmed up
	// by a short burst of a few clients, which have closed), "run" or
	// "drain" (after every connection closed).
	Phase string `json:"phase"`
	// Source says where the server figures came from: "metrics" (its
	// /metrics) or "proc" (/proc/<pid>: RSS and descriptors only).
	Source     string `json:"source"`
	Conns      int64  `json:"conns"`
	RSS        int64  `json:"rss_bytes"`
	HeapInuse  int64  `json:"heap_inuse_bytes"`
	Goroutines int64  `json:"goroutines"`
	FDs        int64  `json:"open_fds"`
	// Sent, Failed and Delivered count the interval's messages; Churned
	// and Drops are running totals of deliberate and unexpected
	// reconnects.
	Sent      uint64 `json:"sent"`
	Failed    uint64 `json:"failed"`
	Delivered uint64 `json:"delivered"`
	Churned   int64  `json:"churn_reconnects"`
	Drops     int64  `json:"drops"`
	// DeliveryP99MS is the interval's send-to-delivery p99, AckP99MS its
	// send-to-ack p99.
	DeliveryP99MS float64 `json:"delivery_p99_ms"`
	AckP99MS      float64 `json:"ack_p99_ms"`
}

// DrainResult is the server's state at the last sample after the drain.
type DrainResult struct {
	// Back is true when goroutines and descriptors came back within a
	// small margin of the baseline (max(5, 2 %)).
	Back       bool  `json:"back_to_baseline"`
	Goroutines int64 `json:"goroutines"`
	FDs        int64 `json:"open_fds"`
	RSS        int64 `json:"rss_bytes"`
	HeapInuse  int64 `json:"heap_inuse_bytes"`
}

// SoakResult is the soak scenario's outcome.
type SoakResult struct {
	Conns         int     `json:"conns"`
	Churners      int     `json:"churners"`
	RoomSize      int     `json:"room_size"`
	RatePerMember float64 `json:"rate_per_member"`
	// DurationSeconds is how long the members chatted; WarmupSeconds the
	// start of it left out of the growth figures: a tenth of it, at most
	// five minutes.
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	SampleSeconds   float64 `json:"sample_seconds"`
	ConnectSeconds  float64 `json:"connect_seconds"`
	DrainSeconds    float64 `json:"drain_seconds"`
	Source          string  `json:"source"`
	// Baseline is the sample before any connection; Warm the first one
	// after the warm-up; End the last one before the drain.
	Baseline SoakSample  `json:"baseline"`
	Warm     SoakSample  `json:"warm"`
	End      SoakSample  `json:"end"`
	Drain    DrainResult `json:"drain"`
	// RSSGrowthPct is End's RSS over Warm's, in percent; RSSTrendPerHour
	// the least-squares slope of RSS over the samples after the warm-up,
	// in bytes an hour, which one lucky or unlucky sample cannot move as
	// much.
	RSSGrowthPct    float64 `json:"rss_growth_pct"`
	RSSTrendPerHour float64 `json:"rss_trend_bytes_per_hour"`
	RSSMaxAfterWarm int64   `json:"rss_max_after_warmup_bytes"`
	// P99MinMS and P99MaxMS are the range of the intervals' delivery p99
	// after the warm-up.
	P99MinMS  float64 `json:"delivery_p99_min_ms"`
	P99MaxMS  float64 `json:"delivery_p99_max_ms"`
	Sent      uint64  `json:"sent"`
	Failed    uint64  `json:"failed"`
	Delivered uint64  `json:"delivered"`
	Churned   int64   `json:"churn_reconnects"`
	Drops     int64   `json:"drops"`
	CSV       string  `json:"csv,omitempty"`
	PNG       string  `json:"png,omitempty"`
	// Samples are every reading, as in the CSV.
	Samples []SoakSample `json:"samples"`
}

// summarise fills the figures from the samples; runStart is when the
// members started chatting, in the samples' time.
func (r *SoakResult) summarise(base SoakSample, runStart time.Duration) {
	r.Baseline = base
	warmAt := runStart.Seconds() + r.WarmupSeconds
	var xs, ys []float64
	r.P99MinMS, r.P99MaxMS = -1, -1
	for _, s := range r.Samples {
		r.Sent += s.Sent
		r.Failed += s.Failed
		r.Delivered += s.Delivered
		r.Churned, r.Drops = s.Churned, s.Drops
		if s.Phase != "run" {
			continue
		}
		r.End = s
		if s.Seconds < warmAt {
			continue
		}
		if r.Warm.Phase == "" {
			r.Warm = s
		}
		if s.RSS >= 0 {
			xs, ys = append(xs, s.Seconds), append(ys, float64(s.RSS))
			r.RSSMaxAfterWarm = max(r.RSSMaxAfterWarm, s.RSS)
		}
		if p := s.DeliveryP99MS; p >= 0 {
			if r.P99MinMS < 0 || p < r.P99MinMS {
				r.P99MinMS = p
			}
			r.P99MaxMS = max(r.P99MaxMS, p)
		}
	}
	if r.Warm.RSS > 0 && r.End.RSS >= 0 {
		r.RSSGrowthPct = float64(r.End.RSS-r.Warm.RSS) / float64(r.Warm.RSS) * 100
	}
	r.RSSTrendPerHour = slope(xs, ys) * 3600
}

// slope is the least-squares slope of ys over xs; 0 with fewer than two
// points.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// soakColumns is the CSV header.
var soakColumns = []string{"t_seconds", "phase", "conns", "rss_bytes", "heap_inuse_bytes", "goroutines", "open_fds",
	"sent", "failed", "delivered", "churn_reconnects", "drops", "delivery_p99_ms", "ack_p99_ms"}

func (s SoakSample) cells() []string {
	n := func(v int64) string {
		if v < 0 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	f := func(v float64) string {
		if v < 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return []string{strconv.FormatFloat(s.Seconds, 'f', 1, 64), s.Phase, n(s.Conns), n(s.RSS), n(s.HeapInuse), n(s.Goroutines), n(s.FDs),
		strconv.FormatUint(s.Sent, 10), strconv.FormatUint(s.Failed, 10), strconv.FormatUint(s.Delivered, 10),
		n(s.Churned), n(s.Drops), f(s.DeliveryP99MS), f(s.AckP99MS)}
}

// line is the sample as a progress line.
func (s SoakSample) line() string {
	return fmt.Sprintf("%6.0fs %-8s conns %d, RSS %s, heap %s, goroutines %d, fds %d, %d sent, %d delivered, p99 %.1f ms",
		s.Seconds, s.Phase, s.Conns, mib(s.RSS), mib(s.HeapInuse), s.Goroutines, s.FDs, s.Sent, s.Delivered, s.DeliveryP99MS)
}

func mib(v int64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
}

// soakRecorder appends samples to the CSV as they come, so a run cut short
// still leaves its figures.
type soakRecorder struct {
	f *os.File
	w *bufio.Writer
}

func newSoakRecorder(path string) (*soakRecorder, error) {
	if path == "" {
		return &soakRecorder{}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("soak: csv: %w", err)
	}
	r := &soakRecorder{f: f, w: bufio.NewWriter(f)}
	r.row(soakColumns)
	return r, nil
}

func (r *soakRecorder) row(cells []string) {
	if r.w == nil {
		return
	}
	for i, c := range cells {
		if i > 0 {
			_ = r.w.WriteByte(',')
		}
		_, _ = r.w.WriteString(c)
	}
	_ = r.w.WriteByte('\n')
	_ = r.w.Flush()
}

func (r *soakRecorder) write(s SoakSample) { r.row(s.cells()) }

// close flushes and closes the file; a second call does nothing.
func (r *soakRecorder) close() error {
	if r.f == nil {
		return nil
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f, r.w = nil, nil
	if err != nil {
		return fmt.Errorf("soak: csv: %w", err)
	}
	return nil
}

func (r *SoakResult) writeText(w io.Writer) {
	drain := "no"
	if r.Drain.Back {
		drain = "yes"
	}
	rows := []string{
		row("connections (churning)", fmt.Sprintf("%d (%d)", r.Conns, r.Churners)),
		row("chat per member", fmt.Sprintf("%g msg/s", r.RatePerMember)),
		row("duration / warm-up / sample", fmt.Sprintf("%.0f s / %.0f s / %.0f s", r.DurationSeconds, r.WarmupSeconds, r.SampleSeconds)),
		row("connect and join all", fmt.Sprintf("%.1f s", r.ConnectSeconds)),
		row("messages sent / failed / delivered", fmt.Sprintf("%d / %d / %d", r.Sent, r.Failed, r.Delivered)),
		row("churn reconnects / unexpected drops", fmt.Sprintf("%d / %d", r.Churned, r.Drops)),
		row("server figures from", r.Source),
		row("RSS baseline / after warm-up / end", mib(r.Baseline.RSS)+" / "+mib(r.Warm.RSS)+" / "+mib(r.End.RSS)),
		row("RSS growth after warm-up", fmt.Sprintf("%+.1f %%", r.RSSGrowthPct)),
		row("RSS trend after warm-up", fmt.Sprintf("%+.1f MiB/h", r.RSSTrendPerHour/(1<<20))),
		row("heap in use after warm-up / end", mib(r.Warm.HeapInuse)+" / "+mib(r.End.HeapInuse)),
		row("delivery p99 per interval after warm-up", fmt.Sprintf("%.1f–%.1f ms", r.P99MinMS, r.P99MaxMS)),
		row("goroutines baseline / end / after drain", fmt.Sprintf("%d / %d / %d", r.Baseline.Goroutines, r.End.Goroutines, r.Drain.Goroutines)),
		row("open fds baseline / end / after drain", fmt.Sprintf("%d / %d / %d", r.Baseline.FDs, r.End.FDs, r.Drain.FDs)),
		row("RSS / heap after drain", mib(r.Drain.RSS)+" / "+mib(r.Drain.HeapInuse)),
		row("back to baseline after drain", fmt.Sprintf("%s (%.0f s)", drain, r.DrainSeconds)),
	}
	if r.CSV != "" {
		rows = append(rows, row("samples", r.CSV))
	}
	if r.PNG != "" {
		rows = append(rows, row("plot", r.PNG))
	}
	table(w, "soak", "measure\tvalue", rows)
}
