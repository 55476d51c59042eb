// Package postgres is the multi-node store.Store backend on PostgreSQL,
// through github.com/jackc/pgx/v5's pgxpool.
//
// Every write is one transaction. A room's next sequence number comes from
// UPDATE rooms SET last_seq = last_seq + 1 … RETURNING last_seq inside that
// transaction: the row lock serialises the room's writers across all nodes,
// and a rollback gives the number back, so each room's log stays gap-free.
// Writes to different rooms do not wait for each other. Chat appends
// (AppendAsync) are the exception: one goroutine gathers a node's queued
// appends and stores them a batch per transaction, locking the batch's
// rooms in name order (see storeBatch). Migrations are
// embedded, forward-only, and serialised across nodes with
// pg_advisory_xact_lock.
package postgres
