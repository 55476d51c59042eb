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
	if key, ok := asciiRoomKey(name, maxLen); ok {
		return key, nil
	}
	return normaliseRoom(name, maxLen)
}

// asciiRoomKey is NormaliseRoom for the names nearly every frame carries:
// valid names made only of ASCII, for which NFKC changes nothing and case
// folding only lowers A-Z, so the key costs no normalisation (and no
// allocation when the name is lower-case already). It reports false for
// any other name, valid or not, and NormaliseRoom goes the long way;
// FuzzRoomKeyASCII holds the two ways to the same keys.
func asciiRoomKey(name string, maxLen int) (string, bool) {
	if name == "" || len(name) > maxLen {
		return "", false
	}
	upper := false
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			upper = true
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return "", false
		}
	}
	if upper {
		return strings.ToLower(name), true
	}
	return name, true
}

// normaliseRoom is NormaliseRoom's way for every name: NFKC, case folding,
// NFKC again, then the rules on the characters and the length.
func normaliseRoom(name string, maxLen int) (string, *Error) {
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
