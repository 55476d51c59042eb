package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Savepoint statements, run around every request in a batch.
const (
	sqlSavepoint  = `SAVEPOINT req`
	sqlRollbackTo = `ROLLBACK TO req`
	sqlRelease    = `RELEASE req`
)

// hotStatements are prepared once, when the store opens, on the single
// writer connection, and reused by every batch.
var hotStatements = []string{
	sqlSavepoint, sqlRollbackTo, sqlRelease,
	sqlClientID, sqlInsertMessage, sqlInsertEvent,
	sqlDataVersion, sqlLastSeq,
}

// writeTx is the batch transaction as write requests see it: a *sql.Tx whose
// Exec and Query methods use the writer's prepared statement when the query
// is one of hotStatements and prepare afresh otherwise, together with the
// rooms' sequence counters (seqs).
type writeTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
	// bound holds the hot statements bound to this transaction, each made
	// on first use: Tx.StmtContext builds a new one on every call, and the
	// insert of a batch of appends is the same statement every time.
	bound map[*sql.Stmt]*sql.Stmt
	seqs  *seqCounters
}

// hot returns query's prepared statement bound to the transaction, if
// query is one of hotStatements.
func (t *writeTx) hot(ctx context.Context, query string) (*sql.Stmt, bool) {
	st, ok := t.stmts[query]
	if !ok {
		return nil, false
	}
	if b, ok := t.bound[st]; ok {
		return b, true
	}
	if t.bound == nil {
		t.bound = make(map[*sql.Stmt]*sql.Stmt, 4)
	}
	b := t.Tx.StmtContext(ctx, st)
	t.bound[st] = b
	return b, true
}

// prepareHot prepares hotStatements on the writer. With one connection in
// the pool they live on that connection, so Tx.StmtContext reuses them
// without preparing again.
func prepareHot(ctx context.Context, w *sql.DB) (map[string]*sql.Stmt, error) {
	stmts := make(map[string]*sql.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", q, err), closeStmts(stmts))
		}
		stmts[q] = st
	}
	return stmts, nil
}

func closeStmts(stmts map[string]*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// ExecContext runs query in the transaction.
func (t *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.hot(ctx, query); ok {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction.
func (t *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.hot(ctx, query); ok {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (t *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.hot(ctx, query); ok {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
