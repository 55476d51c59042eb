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

type observer struct {
	o  store.CommitObserver
	ck store.CheckpointObserver // o, if it hears checkpoints too
}

// Set makes o hear every commit (and checkpoint, if o is a
// store.CheckpointObserver) from now on; nil stops reports.
func (w *Observed) Set(o store.CommitObserver) {
	if o == nil {
		w.p.Store(nil)
		return
	}
	ck, _ := o.(store.CheckpointObserver)
	w.p.Store(&observer{o: o, ck: ck})
}

// Checkpointed reports one checkpoint, if anyone listens for them.
func (w *Observed) Checkpointed(byWriter bool, d time.Duration, err error) {
	if ob := w.p.Load(); ob != nil && ob.ck != nil {
		ob.ck.Checkpointed(byWriter, d, err)
	}
}

// Committed reports one batch's commit, if anyone listens.
func (w *Observed) Committed(writes int, d time.Duration, err error) {
	if ob := w.p.Load(); ob != nil {
		ob.o.Committed(writes, d, err)
	}
}
