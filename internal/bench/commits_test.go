package bench

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestCommitsBetween(t *testing.T) {
	at := time.Unix(1000, 0)
	les := []float64{.001, .005, .01}
	sample := func(at time.Time, counts []uint64, total uint64, seconds, writes float64) commitSample {
		s := commitSample{at: at, count: total, seconds: seconds, writes: writes}
		for i, le := range les {
			s.buckets = append(s.buckets, bucket{le: le, count: counts[i]})
		}
		return s
	}
	a := sample(at, []uint64{10, 10, 10}, 10, 0.005, 40)
	a.ckCount, a.ckSeconds = 2, 0.010
	restarted := func(s commitSample, n uint64, seconds float64) commitSample {
		s.ckCount, s.ckSeconds = n, seconds
		return s
	}
	stored := func(s commitSample, n uint64, seconds float64, counts []uint64) commitSample {
		s.appendCount, s.appendSeconds, s.appendBuckets = n, seconds, nil
		for i, le := range les {
			s.appendBuckets = append(s.appendBuckets, bucket{le: le, count: counts[i]})
		}
		return s
	}
	a = stored(a, 5, 0.05, []uint64{5, 5, 5})
	cases := []struct {
		name string
		b    commitSample
		want *StoreCommits
	}{
		{"p99 in the second bucket",
			// 100 more commits: 98 under 1 ms, one under 5 ms, one under 10 ms.
			sample(at.Add(2*time.Second), []uint64{108, 109, 110}, 110, 0.205, 1040),
			&StoreCommits{Commits: 100, Writes: 1000, PerSecond: 50, WritesPerCommit: 10, MeanMS: 2, P99MS: ptr(5)}},
		{"two WAL restarts by the writer, 30 ms in all",
			restarted(sample(at.Add(2*time.Second), []uint64{108, 109, 110}, 110, 0.205, 1040), 4, 0.040),
			&StoreCommits{Commits: 100, Writes: 1000, PerSecond: 50, WritesPerCommit: 10, MeanMS: 2, P99MS: ptr(5),
				WriterCheckpoints: 2, WriterCheckpointMS: 30}},
		{"100 messages stored, waiting 4 ms on average, 99 of them at most 5 ms",
			stored(sample(at.Add(2*time.Second), []uint64{108, 109, 110}, 110, 0.205, 1040), 105, 0.45, []uint64{50, 104, 105}),
			&StoreCommits{Commits: 100, Writes: 1000, PerSecond: 50, WritesPerCommit: 10, MeanMS: 2, P99MS: ptr(5),
				Appends: 100, AppendMeanMS: 4, AppendP99MS: ptr(5)}},
		{"p99 past the last bucket",
			sample(at.Add(time.Second), []uint64{10, 10, 12}, 20, 0.105, 60),
			&StoreCommits{Commits: 10, Writes: 20, PerSecond: 10, WritesPerCommit: 2, MeanMS: 10, P99MS: nil}},
		{"no commits", sample(at.Add(time.Second), []uint64{10, 10, 10}, 10, 0.005, 40), nil},
		{"counters went back (server restarted)", sample(at.Add(time.Second), []uint64{1, 1, 1}, 1, 0.001, 1), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := commitsBetween(a, c.b)
			if (got == nil) != (c.want == nil) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if got == nil {
				return
			}
			near := func(x, y float64) bool { return x == y || math.Abs(x-y) < 1e-9 }
			same := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || near(*x, *y)) }
			sameP99 := same(got.P99MS, c.want.P99MS) && same(got.AppendP99MS, c.want.AppendP99MS)
			if got.Commits != c.want.Commits || got.Writes != c.want.Writes || !near(got.PerSecond, c.want.PerSecond) ||
				!near(got.WritesPerCommit, c.want.WritesPerCommit) || !near(got.MeanMS, c.want.MeanMS) || !sameP99 ||
				got.WriterCheckpoints != c.want.WriterCheckpoints || !near(got.WriterCheckpointMS, c.want.WriterCheckpointMS) ||
				got.Appends != c.want.Appends || !near(got.AppendMeanMS, c.want.AppendMeanMS) {
				t.Fatalf("got %+v (p99 %v), want %+v (p99 %v)", got, got.P99MS, c.want, c.want.P99MS)
			}
			// Every outcome must go into the JSON report.
			if _, err := json.Marshal(ChatStep{Store: got}); err != nil {
				t.Fatalf("the step cannot be written as JSON: %v", err)
			}
		})
	}
}

func ptr(v float64) *float64 { return &v }
