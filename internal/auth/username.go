package auth

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Username rules, in characters (runes) of the NFKC-normalised name.
const (
	// MinUsernameLen is the shortest username accepted.
	MinUsernameLen = 3
	// MaxUsernameLen is the longest username accepted.
	MaxUsernameLen = 32
)

// NormaliseUsername checks s against the username rules and returns its
// uniqueness key. After NFKC normalisation s must be 3..32 characters, each a
// letter, a digit, '_', '-' or '.' (combining marks are allowed after a
// letter or digit, as Indic scripts need), with at least one letter or digit.
// The key
// is the NFKC case-folded form (NFKC, Unicode case folding, NFKC again), so
// "Alice", "ALICE" and "ａｌｉｃｅ" (full-width) share the key "alice". Store
// the name as typed for display and the key for lookups. The error wraps
// ErrInvalidUsername.
func NormaliseUsername(s string) (key string, err error) {
	display, err := normaliseDisplay(s)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	// A Caser is stateful and must not be shared between goroutines.
	return norm.NFKC.String(cases.Fold().String(display)), nil
}

// normaliseDisplay applies NFKC and the username rules, returning the NFKC
// form (case kept). Its errors wrap ErrInvalidUsername and lack the "auth:"
// prefix, which callers add.
func normaliseDisplay(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("username is not valid UTF-8: %w", ErrInvalidUsername)
	}
	if len(s) > 16*MaxUsernameLen { // far too long even before normalising
		return "", fmt.Errorf("username is %d bytes: %w", len(s), ErrInvalidUsername)
	}
	n := norm.NFKC.String(s)
	count, alnum, prev := 0, false, rune(0)
	for _, r := range n {
		count++
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			alnum = true
		case unicode.Is(unicode.M, r) && (unicode.IsLetter(prev) || unicode.IsDigit(prev) || unicode.Is(unicode.M, prev)):
			// A combining mark on a letter: vowel signs in Indic scripts,
			// accents NFKC could not compose.
		case r == '_' || r == '-' || r == '.':
		default:
			return "", fmt.Errorf("username %q has character %q, want letters, digits, '_', '-' or '.': %w", s, r, ErrInvalidUsername)
		}
		prev = r
	}
	if count < MinUsernameLen || count > MaxUsernameLen {
		return "", fmt.Errorf("username %q is %d characters, want %d..%d: %w", s, count, MinUsernameLen, MaxUsernameLen, ErrInvalidUsername)
	}
	if !alnum {
		return "", fmt.Errorf("username %q has no letter or digit: %w", s, ErrInvalidUsername)
	}
	return n, nil
}
