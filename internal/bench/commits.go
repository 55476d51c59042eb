package bench

import (
	"context"
	"math"
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// StoreCommits is what the server's store reported of its group commits
// during a step (parley_store_commit_* on its /metrics): how often it
// committed, how many writes a commit carried and how long commits took,
// which tells a slow disk from a busy server; and how long messages waited
// for the store (parley_store_append_seconds), which tells how much of
// their latency the store's queue and commit make.
type StoreCommits struct {
	Commits         uint64  `json:"commits"`
	Writes          uint64  `json:"writes"`
	PerSecond       float64 `json:"commits_per_second"`
	WritesPerCommit float64 `json:"writes_per_commit"`
	MeanMS          float64 `json:"commit_mean_ms"`
	// P99MS is the upper bound of the histogram bucket that holds the 99th
	// percentile; nil when that lies past the largest bucket (1 s).
	P99MS *float64 `json:"commit_p99_ms"`
	// WriterCheckpoints and WriterCheckpointMS are the checkpoints SQLite's
	// writer ran to start the WAL over during the step, and their total
	// time, in which no durable write was stored
	// (parley_store_checkpoint_seconds{by="writer"}; zero for a store
	// without them).
	WriterCheckpoints  uint64  `json:"writer_checkpoints"`
	WriterCheckpointMS float64 `json:"writer_checkpoint_ms"`
	// Appends is how many messages the store answered during the step;
	// AppendMeanMS and AppendP99MS how long each waited from its hand-over
	// to the store until its outcome, queue and commit included (the p99
	// as a bucket bound, nil past the largest bucket, 1 s).
	Appends      uint64   `json:"appends"`
	AppendMeanMS float64  `json:"append_mean_ms"`
	AppendP99MS  *float64 `json:"append_p99_ms"`
}

// commitSample is one reading of the commit metrics: cumulative counts.
type commitSample struct {
	at      time.Time
	count   uint64
	seconds float64 // sum of commit times
	writes  float64 // sum of writes
	buckets []bucket
	// the writer's checkpoints: how many, and their summed time
	ckCount   uint64
	ckSeconds float64
	// messages stored: how many, their summed wait, and its histogram
	appendCount   uint64
	appendSeconds float64
	appendBuckets []bucket
}

type bucket struct {
	le    float64
	count uint64
}

// scrapeCommits reads the commit metrics from url. It reports false when
// they cannot be read: metrics on another address (--metrics-addr), a
// server without them, or a store that does not report commits.
func scrapeCommits(ctx context.Context, url string) (commitSample, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return commitSample{}, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return commitSample{}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return commitSample{}, false
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return commitSample{}, false
	}
	dur := histogram(families["parley_store_commit_seconds"])
	size := histogram(families["parley_store_commit_writes"])
	if dur == nil || size == nil {
		return commitSample{}, false
	}
	s := commitSample{at: time.Now(), count: dur.GetSampleCount(), seconds: dur.GetSampleSum(), writes: size.GetSampleSum(),
		buckets: buckets(dur)}
	if ck := labelled(families["parley_store_checkpoint_seconds"], "by", "writer"); ck != nil {
		s.ckCount, s.ckSeconds = ck.GetSampleCount(), ck.GetSampleSum()
	}
	if ap := histogram(families["parley_store_append_seconds"]); ap != nil {
		s.appendCount, s.appendSeconds, s.appendBuckets = ap.GetSampleCount(), ap.GetSampleSum(), buckets(ap)
	}
	return s, true
}

// buckets returns h's cumulative buckets in order of their bounds.
func buckets(h *dto.Histogram) []bucket {
	var bs []bucket
	for _, b := range h.GetBucket() {
		bs = append(bs, bucket{le: b.GetUpperBound(), count: b.GetCumulativeCount()})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	return bs
}

// p99Between returns the bound of the first bucket that holds 99 % of the
// n observations made between two readings of a histogram, or nil when
// that lies past the largest finite bucket.
func p99Between(a, b []bucket, n uint64) *float64 {
	if len(a) != len(b) {
		return nil
	}
	want := uint64(math.Ceil(0.99 * float64(n)))
	for i := range b {
		if b[i].count-a[i].count >= want && !math.IsInf(b[i].le, 1) {
			ms := b[i].le * 1000
			return &ms
		}
	}
	return nil
}

// labelled returns the histogram of f whose label name has value value.
func labelled(f *dto.MetricFamily, name, value string) *dto.Histogram {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == value {
				return m.GetHistogram()
			}
		}
	}
	return nil
}

func histogram(f *dto.MetricFamily) *dto.Histogram {
	if f == nil || len(f.GetMetric()) != 1 {
		return nil
	}
	return f.GetMetric()[0].GetHistogram()
}

// commitsBetween returns what happened between two readings, or nil when
// there were no commits to speak of.
func commitsBetween(a, b commitSample) *StoreCommits {
	n := b.count - a.count
	if b.count < a.count || n == 0 || len(a.buckets) != len(b.buckets) {
		return nil
	}
	writes := b.writes - a.writes
	c := &StoreCommits{
		Commits:         n,
		Writes:          uint64(math.Round(writes)),
		PerSecond:       float64(n) / b.at.Sub(a.at).Seconds(),
		WritesPerCommit: writes / float64(n),
		MeanMS:          (b.seconds - a.seconds) / float64(n) * 1000,
	}
	if b.ckCount >= a.ckCount {
		c.WriterCheckpoints = b.ckCount - a.ckCount
		c.WriterCheckpointMS = (b.ckSeconds - a.ckSeconds) * 1000
	}
	c.P99MS = p99Between(a.buckets, b.buckets, n)
	if m := b.appendCount - a.appendCount; b.appendCount > a.appendCount && len(a.appendBuckets) == len(b.appendBuckets) {
		c.Appends = m
		c.AppendMeanMS = (b.appendSeconds - a.appendSeconds) / float64(m) * 1000
		c.AppendP99MS = p99Between(a.appendBuckets, b.appendBuckets, m)
	}
	return c
}

// scrapeGauge reads one unlabelled gauge from a server's /metrics; ok is
// false when it cannot.
func scrapeGauge(ctx context.Context, url, name string) (float64, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, false
	}
	f := families[name]
	if f == nil || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetGauge() == nil {
		return 0, false
	}
	return f.GetMetric()[0].GetGauge().GetValue(), true
}
