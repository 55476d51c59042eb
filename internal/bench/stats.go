package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram buckets are HDR-like: exact below 64 µs, then 32 buckets per
// power of two, so any recorded value is reported within about 3% of its
// true value. 34 octaves reach past 100 days.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	octaves    = 34
	numBuckets = (octaves + 2) * subBuckets
)

// Histogram records durations at microsecond resolution. Record is safe for
// concurrent use, takes no lock and allocates nothing; the zero value is
// ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64 // µs
}

func bucketOf(us uint64) int {
	if us < 2*subBuckets {
		return int(us)
	}
	shift := bits.Len64(us) - subBits - 1
	i := shift*subBuckets + int(us>>shift)
	if i >= numBuckets {
		return numBuckets - 1
	}
	return i
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < 2*subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	m := int64(i - shift*subBuckets)
	return (m+1)<<shift - 1
}

// Record adds one sample; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	us := max(int64(d/time.Microsecond), 0)
	h.counts[bucketOf(uint64(us))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest sample.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the q-quantile (0 < q ≤ 1) as the upper edge of its
// bucket, capped at Max, so p50 ≤ p99 ≤ max always holds. It is 0 without
// samples.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(min(rank, n), 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketHigh(i))*time.Microsecond, h.Max())
		}
	}
	return h.Max()
}

// Latency is a histogram's summary, in milliseconds for the reports.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary returns the histogram's count, p50, p99 and max.
func (h *Histogram) Summary() Latency {
	return Latency{Count: h.Count(), P50: ms(h.Quantile(0.50)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
