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
// which tells a slow disk from a busy server.
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
	s := commitSample{at: time.Now(), count: dur.GetSampleCount(), seconds: dur.GetSampleSum(), writes: size.GetSampleSum()}
	for _, b := range dur.GetBucket() {
		s.buckets = append(s.buckets, bucket{le: b.GetUpperBound(), count: b.GetCumulativeCount()})
	}
	sort.Slice(s.buckets, func(i, j int) bool { return s.buckets[i].le < s.buckets[j].le })
	if ck := labelled(families["parley_store_checkpoint_seconds"], "by", "writer"); ck != nil {
		s.ckCount, s.ckSeconds = ck.GetSampleCount(), ck.GetSampleSum()
	}
	return s, true
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
	want := uint64(math.Ceil(0.99 * float64(n)))
	for i := range b.buckets {
		if b.buckets[i].count-a.buckets[i].count >= want && !math.IsInf(b.buckets[i].le, 1) {
			ms := b.buckets[i].le * 1000
			c.P99MS = &ms
			break
		}
	}
	return c
}
