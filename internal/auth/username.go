package auth

import (
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
// the name as typed for display and the key for lookups. The error is a
// *RuleError wrapping ErrInvalidUsername.
func NormaliseUsername(s string) (key string, err error) {
	display, err := normaliseDisplay(s, "username")
	if err != nil {
		return "", err
	}
	// A Caser is stateful and must not be shared between goroutines.
	return norm.NFKC.String(cases.Fold().String(display)), nil
}

// normaliseDisplay applies NFKC and the username rules, returning the NFKC
// form (case kept). what names the thing checked in the error ("username",
// "guest name"), a *RuleError wrapping ErrInvalidUsername.
func normaliseDisplay(s, what string) (string, error) {
	if !utf8.ValidString(s) {
		return "", usernameRule("the %s is not valid UTF-8", what)
	}
	if len(s) > 16*MaxUsernameLen { // far too long even before normalising
		return "", usernameRule("the %s is far too long; it must be %d to %d characters", what, MinUsernameLen, MaxUsernameLen)
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
			return "", usernameRule("the %s %q has the character %q; use only letters, digits, '_', '-' and '.'", what, s, r)
		}
		prev = r
	}
	if count < MinUsernameLen || count > MaxUsernameLen {
		return "", usernameRule("the %s %q is %d characters long; it must be %d to %d", what, s, count, MinUsernameLen, MaxUsernameLen)
	}
	if !alnum {
		return "", usernameRule("the %s %q needs at least one letter or digit", what, s)
	}
	return n, nil
}
