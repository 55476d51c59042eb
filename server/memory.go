package server

import (
	"context"
	"runtime/debug"
	"time"
)

// releaseCheck is how often the server looks for a drop in connections.
const releaseCheck = time.Second

// releaseMemory hands memory back to the operating system after a large
// change in the number of connections. The Go runtime returns freed memory
// on its own, but only gradually and only after a collection, which an idle
// server may not run for minutes:
//   - after a spike of clients leaves, the process would keep its peak size;
//   - after a burst of clients arrives (a reconnect storm), the garbage of
//     their handshakes would stay as heap the connections never use.
//
// So when the count has fallen by half, or has grown and then held steady
// for a moment, by at least minDrop since the last release, one forced
// collection and release brings the process back near what the remaining
// connections need. It runs until ctx ends.
func (s *Server) releaseMemory(ctx context.Context, minDrop int) {
	t := time.NewTicker(releaseCheck)
	defer t.Stop()
	last := s.ws.Count() // the count at the last release
	high, prev := last, last
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := s.ws.Count()
		high = max(high, n)
		dropped := high-n >= minDrop && n <= high/2
		settled := n-last >= minDrop && abs(n-prev) <= n/100
		prev = n
		if !dropped && !settled {
			continue
		}
		start := time.Now()
		debug.FreeOSMemory()
		s.log.Info("returned memory after a change in connections", "from", last, "to", n, "took", time.Since(start))
		last, high = n, n
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
