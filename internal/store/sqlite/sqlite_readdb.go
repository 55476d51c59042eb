package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxReadStatements bounds readDB's statements. Every read's SQL is one of
// a few dozen texts fixed in this package (values travel as arguments), so
// the bound is never reached; it only keeps a mistake from growing the map
// without end.
const maxReadStatements = 256

// readDB is the read pool as reads see it: a *sql.DB whose queries go
// through statements prepared the first time each text is used and kept
// until the store closes. database/sql prepares such a statement on each
// pool connection it runs on and reuses it there. Unprepared, every read
// parsed and planned its SQL again: in a reconnect storm of 10,000 members
// that parsing was a fifth of the server's CPU.
type readDB struct {
	*sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newReadDB(db *sql.DB) *readDB {
	return &readDB{DB: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns query's statement, preparing it on first use. ok is false
// if it could not be prepared (the caller runs the query unprepared, which
// reports why) or the map is full.
func (r *readDB) stmt(ctx context.Context, query string) (*sql.Stmt, bool) {
	r.mu.Lock()
	st, ok := r.stmts[query]
	full := len(r.stmts) >= maxReadStatements
	r.mu.Unlock()
	if ok || full {
		return st, ok
	}
	st, err := r.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if had, ok := r.stmts[query]; ok {
		// Prepared meanwhile by another read: keep one.
		st.Close()
		return had, true
	}
	r.stmts[query] = st
	return st, true
}

// QueryContext runs query through its prepared statement.
func (r *readDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := r.stmt(ctx, query); ok {
		return st.QueryContext(ctx, args...)
	}
	return r.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query through its prepared statement.
func (r *readDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := r.stmt(ctx, query); ok {
		return st.QueryRowContext(ctx, args...)
	}
	return r.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the statements and then the pool.
func (r *readDB) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := closeStmts(r.stmts)
	clear(r.stmts)
	return errors.Join(err, r.DB.Close())
}
