package testutil

import (
	"strings"
	"testing"
)

// TestLedgerVerify: each broken promise is found, and a kept one passes.
func TestLedgerVerify(t *testing.T) {
	var l Ledger
	l.Ack(Acked{Room: "r", Seq: 1, ClientID: "a", MessageID: "m1"})
	l.Ack(Acked{Room: "r", Seq: 2, ClientID: "b", MessageID: "m2"})
	l.Ack(Acked{Room: "other", Seq: 9, ClientID: "z", MessageID: "m9"})
	kept := []Stored{{1, "m1", "a"}, {2, "m2", "b"}, {3, "m3", "c"}} // stored but not acked is allowed
	if bad := l.Verify("r", kept); len(bad) != 0 {
		t.Fatalf("kept promises reported broken: %v", bad)
	}
	for _, c := range []struct {
		name   string
		stored []Stored
		want   string
	}{
		{"lost", []Stored{{1, "m1", "a"}}, "m2 (seq 2, client id b) is not stored"},
		{"gap", []Stored{{1, "m1", "a"}, {2, "m2", "b"}, {4, "m4", "d"}}, "seq 4 where 3 was due"},
		{"twice by client id", []Stored{{1, "m1", "a"}, {2, "m2", "b"}, {3, "m3", "a"}}, "client id a stored twice"},
		{"twice by id", []Stored{{1, "m1", "a"}, {2, "m2", "b"}, {3, "m1", ""}}, "message m1 stored twice"},
		{"another message at the seq", []Stored{{1, "m1", "a"}, {2, "mX", "x"}}, "seq 2 was acknowledged as m2"},
	} {
		bad := l.Verify("r", c.stored)
		if !strings.Contains(strings.Join(bad, "\n"), c.want) {
			t.Errorf("%s: got %v, want one saying %q", c.name, bad, c.want)
		}
	}
}
