// Package sqlite is the single-node store.Store backend: one SQLite file in
// the data directory, opened through the pure-Go modernc.org/sqlite driver so
// the parley binary stays static.
//
// All writes go through one connection owned by a batching goroutine. Callers
// hand their write to it over a channel; it takes every pending write (up to
// maxBatch) and runs them in one transaction — should one fail, the batch is
// run again with each write inside its own SAVEPOINT so that write alone is
// rolled back — then commits once and answers every caller once the WAL
// holding the commit is flushed to disk (fdatasync). Every commit needs a
// flush, so batching them (group commit) is what makes durable writes
// cheap: about 11× the rows per second of one transaction per row on our
// 2-core machine. The flush runs beside the writer (walSyncer), which
// meanwhile runs the requests that arrive and commits them when it ends;
// reads wait until what they saw is flushed. Reads use a
// separate pool of query-only connections and, thanks to WAL, never wait for
// the writer. The writer checkpoints only to let a long WAL start over; a
// checkpointer goroutine on its own connection copies the WAL into the
// database file beside it. A new message's row is also its event in the
// room's log until the message first changes (see logCreation).
package sqlite
