package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/store"
)

// TestReadsReuseStatements checks that the read pool prepares a query's
// statement once and runs every later read of it through that statement.
func TestReadsReuseStatements(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.CreateRoom(ctx, store.Room{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	read := func() {
		t.Helper()
		if _, err := s.Room(ctx, "r"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Events(ctx, "r", 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	read()
	s.r.mu.Lock()
	first := make(map[string]any, len(s.r.stmts))
	for q, st := range s.r.stmts {
		first[q] = st
	}
	s.r.mu.Unlock()
	if len(first) == 0 {
		t.Fatal("no statement was kept after the first reads")
	}
	for range 50 {
		read()
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if len(s.r.stmts) != len(first) {
		t.Fatalf("%d statements after 50 more of the same reads, want %d", len(s.r.stmts), len(first))
	}
	for q, st := range s.r.stmts {
		if first[q] != any(st) {
			t.Errorf("statement for %q was prepared again", q)
		}
	}
}

// TestReadStatementsBounded checks that past maxReadStatements texts the
// read pool runs queries unprepared, and that they still answer.
func TestReadStatementsBounded(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range maxReadStatements + 10 {
		var got int
		if err := s.r.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + ?", i), 1).Scan(&got); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if got != i+1 {
			t.Fatalf("query %d answered %d, want %d", i, got, i+1)
		}
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if len(s.r.stmts) != maxReadStatements {
		t.Fatalf("%d statements kept, want the bound %d", len(s.r.stmts), maxReadStatements)
	}
}

// TestReadBadQuery checks that a query SQLite cannot prepare reports its
// error and is not kept.
func TestReadBadQuery(t *testing.T) {
	s := openTemp(t)
	var one int
	err := s.r.QueryRowContext(context.Background(), "SELEKT 1").Scan(&one)
	if err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("bad query answered %v, want a syntax error", err)
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if _, ok := s.r.stmts["SELEKT 1"]; ok {
		t.Fatal("a statement that failed to prepare was kept")
	}
}
