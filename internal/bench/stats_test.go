package bench

import (
	"testing"
	"time"
)

func TestHistogramBucketsAreContinuous(t *testing.T) {
	prev := -1
	for us := uint64(0); us < 1<<20; us++ {
		b := bucketOf(us)
		if b != prev && b != prev+1 {
			t.Fatalf("value %d jumps from bucket %d to %d", us, prev, b)
		}
		if int64(us) > bucketHigh(b) || (b > 0 && int64(us) <= bucketHigh(b-1)) {
			t.Fatalf("value %d outside bucket %d (%d..%d]", us, b, bucketHigh(b-1), bucketHigh(b))
		}
		prev = b
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.04 {
			t.Errorf("q%.2f = %v, want within 4%% above %v", tc.q, got, tc.want)
		}
	}
	if h.Max() != time.Second || h.Count() != 1000 {
		t.Fatalf("max %v count %d", h.Max(), h.Count())
	}
	var empty Histogram
	if s := empty.Summary(); s.P50 != 0 || s.Max != 0 {
		t.Fatalf("empty summary %+v", s)
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(3 * time.Millisecond) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}
