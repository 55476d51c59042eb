package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// commitLog is a store.CommitObserver that keeps what it hears.
type commitLog struct {
	mu      sync.Mutex
	batches []int
	bad     []string
}

func (l *commitLog) Committed(writes int, d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if writes < 1 || d <= 0 || err != nil {
		l.bad = append(l.bad, fmt.Sprintf("%d writes in %v, err %v", writes, d, err))
	}
	l.batches = append(l.batches, writes)
}

// total returns how many writes the reported batches held.
func (l *commitLog) total() (n int, bad []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.batches {
		n += w
	}
	return n, l.bad
}

var observeTests = []namedTest{
	{"ReportsEveryBatchedAppend", func(t *testing.T, s store.Store) {
		o, ok := s.(store.Observable)
		if !ok {
			t.Skipf("%T does not implement store.Observable", s)
		}
		as := asyncAppender(t, s)
		mkRoom(t, s, "a", "ann")
		log := &commitLog{}
		o.ObserveCommits(log)
		appendAll := func(n int, prefix string) {
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				as.AppendAsync(ctx(t), store.NewMessage{Room: "a", Sender: "ann", Text: fmt.Sprint(prefix, i)},
					func(_ store.Event, _ bool, err error) {
						noErr(t, err, "AppendAsync")
						wg.Done()
					})
			}
			wg.Wait()
		}
		// Every batch is reported before its callbacks run, so once they
		// all have, every append has been counted.
		const n = 40
		appendAll(n, "m")
		if got, bad := log.total(); got != n || len(bad) > 0 {
			t.Fatalf("reports counted %d writes, want %d; malformed reports: %v", got, n, bad)
		}
		o.ObserveCommits(nil)
		appendAll(5, "unheard")
		if got, _ := log.total(); got != n {
			t.Fatalf("reports went on after ObserveCommits(nil): %d writes, want %d", got, n)
		}
	}},
}
