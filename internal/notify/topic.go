// Package notify holds the rules of notification topics and the patterns
// users subscribe with: which names are valid, and which patterns match a
// topic. Topics are dotted names such as "orders.42" or "deploys.prod";
// patterns may use "*" for exactly one segment and ">" as the last segment
// for one or more remaining segments, as NATS subjects do.
package notify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on topics and patterns.
const (
	// MaxTopicLen is the longest topic or pattern, in bytes.
	MaxTopicLen = 128
	// MaxSegments is the most dot-separated segments a topic or pattern
	// has. It also bounds the patterns that can match one topic (see
	// Matching): 2^(MaxSegments+1) - 1.
	MaxSegments = 8
)

// CheckTopic reports why topic cannot be published to, or nil: 1 to
// MaxSegments non-empty segments of letters, digits, '-' and '_', joined
// by dots, at most MaxTopicLen bytes, with no wildcard.
func CheckTopic(topic string) error {
	return check(topic, false)
}

// CheckPattern reports why pattern cannot be subscribed to, or nil: a
// topic whose segments may also be "*" (any one segment) and whose last
// segment may be ">" (one or more segments).
func CheckPattern(pattern string) error {
	return check(pattern, true)
}

func check(s string, wildcards bool) error {
	what := "topic"
	if wildcards {
		what = "pattern"
	}
	if s == "" {
		return fmt.Errorf("the %s is empty", what)
	}
	if len(s) > MaxTopicLen || !utf8.ValidString(s) {
		return fmt.Errorf("the %s is longer than %d bytes or not UTF-8", what, MaxTopicLen)
	}
	segs := strings.Split(s, ".")
	if len(segs) > MaxSegments {
		return fmt.Errorf("the %s %q has %d segments; at most %d", what, s, len(segs), MaxSegments)
	}
	for i, seg := range segs {
		switch {
		case seg == "":
			return fmt.Errorf("the %s %q has an empty segment", what, s)
		case seg == "*" || seg == ">":
			if !wildcards {
				return fmt.Errorf("the topic %q has the wildcard %q; topics name one thing, patterns match many", s, seg)
			}
			if seg == ">" && i != len(segs)-1 {
				return fmt.Errorf("the pattern %q has \">\" before its last segment", s)
			}
		default:
			for _, r := range seg {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
					return fmt.Errorf("the %s %q has %q; segments hold letters, digits, '-' and '_'", what, s, r)
				}
			}
		}
	}
	return nil
}

// Matches reports whether pattern matches topic. Both must be valid.
func Matches(pattern, topic string) bool {
	ps, ts := strings.Split(pattern, "."), strings.Split(topic, ".")
	for i, p := range ps {
		switch {
		case p == ">":
			return len(ts) > i
		case i >= len(ts):
			return false
		case p != "*" && p != ts[i]:
			return false
		}
	}
	return len(ps) == len(ts)
}

// Matching lists every pattern that matches topic: each segment as itself
// or "*", and each proper prefix of those followed by ">". A store finds a
// topic's subscribers by looking these up, rather than matching every
// subscription it holds. topic must be valid.
func Matching(topic string) []string {
	segs := strings.Split(topic, ".")
	out := make([]string, 0, 1<<(len(segs)+1))
	var walk func(prefix []string)
	walk = func(prefix []string) {
		k := len(prefix)
		if k == len(segs) {
			out = append(out, strings.Join(prefix, "."))
			return
		}
		// ">" after the first k segments matches the n-k ≥ 1 left.
		out = append(out, strings.Join(append(prefix[:k:k], ">"), "."))
		walk(append(prefix[:k:k], segs[k]))
		walk(append(prefix[:k:k], "*"))
	}
	walk(nil)
	return out
}
