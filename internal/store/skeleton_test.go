package store

import (
	"errors"
	"testing"
)

// TestUsernameSkeleton checks pairs that must and must not look alike, per
// the Unicode confusables table.
func TestUsernameSkeleton(t *testing.T) {
	same := []struct{ name, a, b string }{
		{"Cyrillic a", "alice", "\u0430lice"},
		{"Cyrillic a in paypal", "paypal", "p\u0430ypal"},
		{"all Cyrillic look-alikes", "paypal", "\u0440\u0430\u0443\u0440\u0430l"},
		{"Greek omicron", "bob", "b\u03bfb"},
		{"Greek nu and alpha", "ava", "\u03b1v\u03b1"},
		{"full-width", "alice", "\uff41\uff4c\uff49\uff43\uff45"},
		{"case", "Alice", "aLICE"},
		{"digit zero and letter O", "google", "g00gle"},
		{"digit one and letter l", "paypal", "paypa1"},
		{"Latin letter dental click and l", "bill", "bi\u01c0\u01c0"},
		{"rn and m", "modern", "rnodern"},
		{"mathematical letters", "paypal", "\U0001d52d\U0001d4b6\u1eff\U0001d561\U0001d552\u2113"},
		{"mixed scripts", "admin", "\u0430dm\u0456n"},
	}
	for _, tc := range same {
		t.Run(tc.name, func(t *testing.T) {
			if a, b := UsernameSkeleton(tc.a), UsernameSkeleton(tc.b); a != b {
				t.Fatalf("skeletons of %q and %q differ: %q, %q", tc.a, tc.b, a, b)
			}
		})
	}
	differ := [][2]string{{"alice", "alicia"}, {"bob", "rob"}, {"anna", "anne"}, {"日本", "日本語"}}
	for _, p := range differ {
		if a, b := UsernameSkeleton(p[0]), UsernameSkeleton(p[1]); a == b {
			t.Errorf("skeletons of %q and %q are both %q", p[0], p[1], a)
		}
	}
}

func TestLookalikeError(t *testing.T) {
	var err error = &LookalikeError{Username: "p\u0430ypal", Existing: "paypal"}
	if !errors.Is(err, ErrLookalike) {
		t.Fatal("LookalikeError does not wrap ErrLookalike")
	}
}
