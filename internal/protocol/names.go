package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

var folder = cases.Fold()

// NormaliseRoom returns the canonical key of a room name: Unicode NFKC, then
// case-folded, so that "Lobby", "LOBBY" and "ｌｏｂｂｙ" (full-width) are one room
// and look-alikes made of compatibility characters cannot squat a name.
// A room name is 1 to maxLen characters of letters, digits, '-', '_' and '.',
// starting with a letter or digit. Names beginning with '@' are reserved for
// direct conversations and never valid here.
func NormaliseRoom(name string, maxLen int) (string, *Error) {
	if name == "" {
		return "", Errorf(CodeInvalidRoom, "room is required")
	}
	if !utf8.ValidString(name) {
		return "", Errorf(CodeInvalidRoom, "room name is not valid UTF-8")
	}
	if len(name) > 4*maxLen {
		// Bound the work before normalising attacker-sized input.
		return "", Errorf(CodeInvalidRoom, "room name is longer than %d characters", maxLen)
	}
	key := folder.String(norm.NFKC.String(name))
	// Folding can produce a non-NFKC string; normalise again so the key is stable.
	key = norm.NFKC.String(key)
	n := 0
	for i, r := range key {
		n++
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case (r == '-' || r == '_' || r == '.') && i > 0:
		default:
			if i == 0 {
				return "", Errorf(CodeInvalidRoom, "room name must start with a letter or digit")
			}
			return "", Errorf(CodeInvalidRoom, "room name may contain only letters, digits, '-', '_' and '.' (found %q)", r)
		}
	}
	if n > maxLen {
		return "", Errorf(CodeInvalidRoom, "room name is longer than %d characters", maxLen)
	}
	return key, nil
}

// IsDirectRoom reports whether a room key names a two-person conversation.
func IsDirectRoom(key string) bool { return strings.HasPrefix(key, "@") }
