package notify

import (
	"slices"
	"strings"
	"testing"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, topic string
		want           bool
	}{
		{"orders.42", "orders.42", true},
		{"orders.42", "orders.43", false},
		{"orders.42", "orders", false},
		{"orders.42", "orders.42.paid", false},
		{"orders.*", "orders.42", true},
		{"orders.*", "orders", false},
		{"orders.*", "orders.42.paid", false},
		{"*.42", "orders.42", true},
		{"*.42", "invoices.42", true},
		{"*.42", "orders.43", false},
		{"*", "orders", true},
		{"*", "orders.42", false},
		{"orders.>", "orders.42", true},
		{"orders.>", "orders.42.paid", true},
		{"orders.>", "orders", false},
		{"orders.>", "invoices.42", false},
		{">", "orders", true},
		{">", "a.b.c.d", true},
		{"*.>", "orders", false},
		{"*.>", "orders.42", true},
		{"orders.*.paid", "orders.42.paid", true},
		{"orders.*.paid", "orders.42.sent", false},
		{"Orders.42", "orders.42", false}, // case matters
	}
	for _, tc := range tests {
		if got := Matches(tc.pattern, tc.topic); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

// TestMatchingListsExactlyTheMatchingPatterns: the patterns Matching
// generates for a topic are exactly those, among every pattern over the
// topic's segments, that Matches accepts.
func TestMatchingListsExactlyTheMatchingPatterns(t *testing.T) {
	for _, topic := range []string{"a", "orders.42", "a.b.c", "deploys.prod.eu-1.web"} {
		got := Matching(topic)
		n := strings.Count(topic, ".") + 1
		if len(got) != 1<<(n+1)-1 {
			t.Errorf("Matching(%q) gave %d patterns, want %d", topic, len(got), 1<<(n+1)-1)
		}
		seen := map[string]bool{}
		for _, p := range got {
			if seen[p] {
				t.Errorf("Matching(%q) repeats %q", topic, p)
			}
			seen[p] = true
			if err := CheckPattern(p); err != nil || !Matches(p, topic) {
				t.Errorf("Matching(%q) gave %q, which does not match (%v)", topic, p, err)
			}
		}
		// Every pattern of the topic's segments, "*", ">" and a foreign
		// segment, that matches must be in the list.
		alphabet := append(strings.Split(topic, "."), "*", ">", "zz")
		var all func(prefix []string)
		all = func(prefix []string) {
			if len(prefix) > 0 {
				p := strings.Join(prefix, ".")
				if CheckPattern(p) == nil && Matches(p, topic) && !seen[p] {
					t.Errorf("Matching(%q) misses %q", topic, p)
				}
			}
			if len(prefix) == n+1 {
				return
			}
			for _, seg := range alphabet {
				all(append(slices.Clone(prefix), seg))
			}
		}
		all(nil)
	}
}

func TestCheckTopicAndPattern(t *testing.T) {
	for _, ok := range []string{"orders", "orders.42", "deploys.prod.eu-1", "a_b.c-d", "über.straße", strings.Repeat("a.", 7) + "a"} {
		if err := CheckTopic(ok); err != nil {
			t.Errorf("CheckTopic(%q): %v", ok, err)
		}
		if err := CheckPattern(ok); err != nil {
			t.Errorf("CheckPattern(%q): %v", ok, err)
		}
	}
	for _, ok := range []string{"orders.*", "*.42", "orders.>", ">", "*.*.>"} {
		if err := CheckPattern(ok); err != nil {
			t.Errorf("CheckPattern(%q): %v", ok, err)
		}
		if err := CheckTopic(ok); err == nil {
			t.Errorf("CheckTopic(%q) accepted a wildcard", ok)
		}
	}
	for _, bad := range []string{"", ".", "orders.", ".orders", "orders..42", "orders 42", "orders/42", "a.>.b",
		"orders.4*", "orders.>>", strings.Repeat("a.", 8) + "a", strings.Repeat("x", MaxTopicLen+1), "bad\xff"} {
		if err := CheckPattern(bad); err == nil {
			t.Errorf("CheckPattern(%q) accepted it", bad)
		}
	}
}
