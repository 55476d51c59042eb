package store

import (
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewIDShape(t *testing.T) {
	id := NewID()
	if len(id) != IDLen {
		t.Fatalf("len(%q) = %d, want %d", id, len(id), IDLen)
	}
	for _, c := range id {
		if !strings.ContainsRune(crockford, c) {
			t.Fatalf("id %q has %q, not in the Crockford alphabet", id, c)
		}
	}
}

func TestNewIDEncodesTimestamp(t *testing.T) {
	// 0x0123456789AB ms: the first 10 digits carry the 48-bit timestamp
	// (50 bits, top two zero), so they do not depend on the random part.
	at := time.UnixMilli(0x0123456789AB)
	got := encodeID(uint64(at.UnixMilli()), 0, 0)
	want := "014D2PF2DB" + strings.Repeat("0", 16) // checked with Python: base32 of 0x0123456789AB<<80
	if got != want {
		t.Fatalf("encodeID = %q, want %q", got, want)
	}
	if got := encodeID(1<<48-1, 0xFFFF, ^uint64(0)); got != "7"+strings.Repeat("Z", 25) {
		t.Fatalf("max encodeID = %q", got)
	}
}

func TestNewIDSortsByCreation(t *testing.T) {
	base := time.Now()
	var ids []string
	// Many ids in one millisecond, then a later one, then a clock step
	// back: every id must sort after the one before it.
	for range 1000 {
		ids = append(ids, newIDAt(base))
	}
	ids = append(ids, newIDAt(base.Add(5*time.Millisecond)))
	ids = append(ids, newIDAt(base.Add(-time.Second)))
	ids = append(ids, NewID())
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("id %d %q does not sort after id %d %q", i, ids[i], i-1, ids[i-1])
		}
	}
}

func TestNewIDConcurrentUnique(t *testing.T) {
	const goroutines, each = 8, 2000
	var mu sync.Mutex
	seen := make(map[string]bool, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			local := make([]string, 0, each)
			for range each {
				local = append(local, NewID())
			}
			if !sort.StringsAreSorted(local) {
				t.Error("ids from one goroutine are not in creation order")
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range local {
				if seen[id] {
					t.Errorf("duplicate id %q", id)
				}
				seen[id] = true
			}
		})
	}
	wg.Wait()
}

// TestNewIDKeepsOrderWhenItsRandomPartCarries: within one millisecond the
// random part counts up; when its low 64 bits wrap, the carry goes into
// the high 16, and when all 80 wrap the id borrows the next millisecond.
// Either way the next id still sorts after the last one.
func TestNewIDKeepsOrderWhenItsRandomPartCarries(t *testing.T) {
	at := time.Now()
	for _, tc := range []struct {
		name string
		hi   uint16
	}{{"low bits wrap", 0x1234}, {"all random bits wrap", 0xFFFF}} {
		t.Run(tc.name, func(t *testing.T) {
			newIDAt(at)
			idGen.Lock()
			idGen.hi, idGen.lo = tc.hi, ^uint64(0)
			last := encodeID(idGen.ms, idGen.hi, idGen.lo)
			idGen.Unlock()
			next := newIDAt(at)
			if next <= last {
				t.Fatalf("id %q made after %q at the wrap sorts before it", next, last)
			}
		})
	}
}
