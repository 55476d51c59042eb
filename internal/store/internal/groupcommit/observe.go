package groupcommit

import (
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/store"
)

// Observed is where a store's writer reports its commits: to the
// store.CommitObserver last given to Set, or nowhere. The zero value has
// none. Set may be called at any time, from any goroutine.
type Observed struct {
	p atomic.Pointer[observer]
}

type observer struct{ o store.CommitObserver }

// Set makes o hear every commit from now on; nil stops reports.
func (w *Observed) Set(o store.CommitObserver) {
	if o == nil {
		w.p.Store(nil)
		return
	}
	w.p.Store(&observer{o})
}

// Committed reports one batch's commit, if anyone listens.
func (w *Observed) Committed(writes int, d time.Duration, err error) {
	if ob := w.p.Load(); ob != nil {
		ob.o.Committed(writes, d, err)
	}
}
