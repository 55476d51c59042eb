// Package groupcommit is what the stores' writers share for group commit:
// taking whatever is queued as one batch, and running asynchronous
// requests' callbacks after each commit in the order store.AsyncAppender
// promises — batch after batch, one callback at a time, on a goroutine of
// their own so that the writer goes on to its next batch meanwhile.
package groupcommit

// Fill appends to b what is queued on ch, without waiting, until b holds
// max items or ch is empty or closed.
func Fill[T any](b []T, ch <-chan T, max int) []T {
	for len(b) < max {
		select {
		case v, ok := <-ch:
			if !ok {
				return b
			}
			b = append(b, v)
		default:
			return b
		}
	}
	return b
}

// Completer runs run on every item of the batches handed to it, batch
// after batch in the order handed, one at a time, on its own goroutine.
type Completer[T any] struct {
	batches chan []T
	done    chan struct{}
}

// pendingBatches bounds the committed batches whose callbacks a completer
// has not run yet; past it Hand, and so the writer, waits for it.
const pendingBatches = 64

// NewCompleter starts a completer that calls run for each item handed.
func NewCompleter[T any](run func(T)) *Completer[T] {
	c := &Completer[T]{batches: make(chan []T, pendingBatches), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for b := range c.batches {
			for _, v := range b {
				run(v)
			}
		}
	}()
	return c
}

// Hand queues a committed batch's items. The completer keeps b: the caller
// must not reuse it.
func (c *Completer[T]) Hand(b []T) {
	if len(b) > 0 {
		c.batches <- b
	}
}

// Close waits until every batch handed has been run and stops the
// completer. Hand must not be called after it.
func (c *Completer[T]) Close() {
	close(c.batches)
	<-c.done
}
