package protocol

import (
	"fmt"
	"strings"
	"unicode"
)

// Shown text (display names, room topics, notification titles) is checked
// for characters that change how the text around them looks without being
// seen themselves. "alice\u202Egnp.exe" (a right-to-left override) shows as
// "aliceexe.png"; bidi controls can make a name read as another or spill
// into the text after it.

// IsHiddenRune reports whether r may not appear in text shown as a name or
// title: a control character (Cc), a line or paragraph separator (Zl, Zp),
// or a format character (Cf: the bidi embeddings, overrides and isolates
// U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C,
// U+200B zero width space, U+2060 word joiner, U+FEFF, soft hyphen, tag
// characters and the rest of the category). Two format characters are
// allowed: U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER, which
// Persian and Indic spelling and emoji sequences such as 👩‍💻 need, and
// which reorder nothing.
func IsHiddenRune(r rune) bool {
	switch {
	case r == '\u200c' || r == '\u200d':
		return false
	case unicode.IsControl(r), unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
		return true
	}
	return false
}

// HiddenRuneProblem returns "" when s has no character IsHiddenRune
// refuses, or else a sentence naming the first one and where it is, for
// the person who typed it: what is the thing checked ("display name",
// "topic").
func HiddenRuneProblem(what, s string) string {
	i := strings.IndexFunc(s, IsHiddenRune)
	if i < 0 {
		return ""
	}
	r := []rune(s[i:])[0]
	return fmt.Sprintf("the %s has the invisible character U+%04X at byte %d; remove it "+
		"(control, bidi-override and other formatting characters are not allowed)", what, r, i)
}

// StripHidden returns s without the characters IsHiddenRune refuses, for
// names Parley shows but did not take from the person (an integrating
// app's token).
func StripHidden(s string) string {
	if strings.IndexFunc(s, IsHiddenRune) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsHiddenRune(r) {
			return -1
		}
		return r
	}, s)
}
