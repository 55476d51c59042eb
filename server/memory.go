package server

import (
	"context"
	"runtime/debug"
	"time"
)

// releaseCheck is how often the server looks for a drop in connections.
const releaseCheck = time.Second

// releaseMemory hands memory back to the operating system after many
// connections have gone. The Go runtime returns freed memory on its own,
// but only gradually and only after a collection, which an idle server may
// not run for minutes: after a spike of clients leaves, the process would
// keep its peak size. When the number of connections has fallen by half (and
// by at least minDrop) since the last look, one forced collection and
// release brings it back near what the remaining connections need. It runs
// until ctx ends.
func (s *Server) releaseMemory(ctx context.Context, minDrop int) {
	t := time.NewTicker(releaseCheck)
	defer t.Stop()
	high := s.ws.Count()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := s.ws.Count()
		switch {
		case n > high:
			high = n
		case high-n >= minDrop && n <= high/2:
			start := time.Now()
			debug.FreeOSMemory()
			s.log.Info("returned memory after connections left", "from", high, "to", n, "took", time.Since(start))
			high = n
		}
	}
}
