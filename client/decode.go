package client

import (
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The fast path decodes the frames that arrive by the thousand (message,
// private and ack) by scanning bytes instead of going through
// encoding/json, which costs microseconds and a dozen allocations a frame.
//
// It accepts a frame only when it can decode it exactly as encoding/json
// would, and reports false for anything else, which then goes through
// encoding/json as before:
//
//   - the envelope as the server writes it: {"type":T,"body":B} for
//     message and private, {"type":"ack","id":I,"body":B} with a non-empty
//     id for ack, no whitespace and nothing after the closing brace;
//   - body keys in any order, but each one a known field in its exact case,
//     at most once, and every field the server always writes present;
//   - strings without escapes or control characters, in valid UTF-8;
//   - integers of at most 18 digits, without fraction or exponent;
//   - no null and no reactions array.
//
// decode_test.go holds the tricky cases and a fuzz test that checks the
// promise against encoding/json on every input the fast path accepts.

// Prefixes by which the fast path recognises its frame types.
const (
	messagePrefix = `{"type":"message","body":`
	privatePrefix = `{"type":"private","body":`
	ackPrefix     = `{"type":"ack","id":`
	// presencePrefix starts presence and presence_diff frames, as the
	// server encodes them (type first).
	presencePrefix = `{"type":"presence`
)

// view returns b's bytes as a string without copying them. The string is
// valid only while b is neither modified nor reused.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// decodeMessage decodes src into m when src is a frame that starts with
// prefix (messagePrefix or privatePrefix) and has the shape the fast path
// accepts. m's strings are substrings of src. On false, m holds garbage.
func decodeMessage(src, prefix string, m *Message) bool {
	if !strings.HasPrefix(src, prefix) {
		return false
	}
	s := scanner{src: src, i: len(prefix)}
	return s.message(m) && s.end()
}

// decodeAck decodes src into a and returns the frame id when src is an ack
// frame of the shape the fast path accepts. The strings are substrings of
// src. On false, a holds garbage.
func decodeAck(src string, a *Ack) (id string, ok bool) {
	if !strings.HasPrefix(src, ackPrefix) {
		return "", false
	}
	s := scanner{src: src, i: len(ackPrefix)}
	id, ok = s.str()
	if !ok || id == "" || !s.lit(`,"body":`) || !s.ack(a) || !s.end() {
		return "", false
	}
	return id, true
}

// scanner reads JSON from src at i, accepting only the subset described
// above. Its methods report false on anything outside that subset.
type scanner struct {
	src string
	i   int
}

// end reads the envelope's closing brace, which must end src.
func (s *scanner) end() bool { return s.byte('}') && s.i == len(s.src) }

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.src) && s.src[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) lit(p string) bool {
	if strings.HasPrefix(s.src[s.i:], p) {
		s.i += len(p)
		return true
	}
	return false
}

// str reads a string with no escapes and no control characters, in valid
// UTF-8, and returns its contents as a substring of src. One pass, eight
// bytes at a time, looks for the closing quote and for any byte that needs
// more than a copy (a backslash, a control character, a byte beyond
// ASCII); only a string with such a byte before its quote takes a second
// look. Two passes, the quote's search and then plain, made a message
// frame take 1.6 times as long (BenchmarkDecodeMessage).
func (s *scanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	src, start := s.src, s.i
	i := start
	for ; i+8 <= len(src); i += 8 {
		w := load8(src, i)
		if m := stop(w); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			return s.strAt(start, i)
		}
	}
	for ; i < len(src); i++ {
		if c := src[i]; c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return s.strAt(start, i)
		}
	}
	return "", false
}

// strAt ends str once it has found, at i, the first byte of the string
// from start that is not plain ASCII.
func (s *scanner) strAt(start, i int) (string, bool) {
	switch c := s.src[i]; {
	case c == '"':
		s.i = i + 1
		return s.src[start:i], true
	case c >= utf8.RuneSelf:
		// Not ASCII: find the quote, then check the rest for escapes and
		// UTF-8 (an escaped quote ends the search early, with a backslash
		// in what is checked, so it is refused like any other escape).
		n := strings.IndexByte(s.src[i:], '"')
		if n < 0 {
			return "", false
		}
		s.i = i + n + 1
		return s.src[start : i+n], plain(s.src[i : i+n])
	default:
		return "", false // an escape or a control character
	}
}

// plain reports whether v, a string's contents, needs no unescaping: no
// backslash, no control character, valid UTF-8. It checks eight bytes at
// a time until one of them may be one of those (a quote, which v cannot
// hold, also stops the check), then byte by byte.
func plain(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := load8(v, i)
		if stop(w) != 0 {
			break
		}
	}
	ascii := true
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.ValidString(v)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load8 reads the eight bytes of s from i as one little-endian word (the
// compiler makes it a single load).
func load8(s string, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// stop marks the bytes of w that end str's plain run: a quote, a
// backslash, a control character or a byte beyond ASCII ("Bit Twiddling
// Hacks": haszero and hasless). It is non-zero exactly when such a byte is
// there, and its lowest set bit marks the first of them (a borrow can only
// mark bytes above a true one), which is all str and plain read of it.
func stop(w uint64) uint64 {
	q := w ^ '"'*ones
	q = (q - ones) &^ q
	bs := w ^ '\\'*ones
	bs = (bs - ones) &^ bs
	ctl := (w - 0x20*ones) &^ w
	return (q | bs | ctl | w) & highs
}

// key reads an object key and its colon.
func (s *scanner) key() (string, bool) {
	k, ok := s.str()
	return k, ok && s.byte(':')
}

// int reads an integer in JSON's grammar (no leading zeros) of at most 18
// digits, so it cannot overflow an int64. A fraction or an exponent is
// refused by the caller, which expects a comma or a brace next.
func (s *scanner) int() (int64, bool) {
	neg := s.byte('-')
	start := s.i
	var n int64
	for s.i < len(s.src) && s.src[s.i] >= '0' && s.src[s.i] <= '9' {
		n = n*10 + int64(s.src[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.src[start] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func (s *scanner) bool() (v, ok bool) {
	if s.lit("true") {
		return true, true
	}
	return false, s.lit("false")
}

// next reads what follows an object's member: true at a comma (another
// member follows), false with done at the closing brace.
func (s *scanner) next() (more, done bool) {
	if s.byte(',') {
		return true, false
	}
	return false, s.byte('}')
}

// Fields of a message body, as bits of a seen-set.
const (
	mRoom uint16 = 1 << iota
	mID
	mSeq
	mTS
	mFrom
	mTo
	mText
	mClientID
	mEditedAt
	mDeleted

	// mRequired are the fields the server always writes.
	mRequired = mRoom | mID | mSeq | mTS | mFrom | mText
)

// message reads a message body.
func (s *scanner) message(m *Message) bool {
	*m = Message{}
	if !s.byte('{') {
		return false
	}
	var seen uint16
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		var bit uint16
		switch k {
		case "room":
			bit = mRoom
			m.Room, ok = s.str()
		case "id":
			bit = mID
			m.ID, ok = s.str()
		case "seq":
			bit = mSeq
			m.Seq, ok = s.int()
		case "ts":
			bit = mTS
			m.TS, ok = s.str()
		case "from":
			bit = mFrom
			ok = s.user(&m.From)
		case "to":
			bit = mTo
			m.To, ok = s.str()
		case "text":
			bit = mText
			m.Text, ok = s.str()
		case "client_id":
			bit = mClientID
			m.ClientID, ok = s.str()
		case "edited_at":
			bit = mEditedAt
			m.EditedAt, ok = s.str()
		case "deleted":
			bit = mDeleted
			m.Deleted, ok = s.bool()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if more, done := s.next(); !more {
			return done && seen&mRequired == mRequired
		}
	}
}

// user reads a user object; id and name are required.
func (s *scanner) user(u *User) bool {
	if !s.byte('{') {
		return false
	}
	var seen uint8 // 1 id, 2 name, 4 guest
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		var bit uint8
		switch k {
		case "id":
			bit = 1
			u.ID, ok = s.str()
		case "name":
			bit = 2
			u.Name, ok = s.str()
		case "guest":
			bit = 4
			u.Guest, ok = s.bool()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if more, done := s.next(); !more {
			return done && seen&3 == 3
		}
	}
}

// Fields of an ack body, as bits of a seen-set.
const (
	aRoom uint8 = 1 << iota
	aMessageID
	aSeq
	aTS
	aDuplicate

	aRequired = aRoom | aMessageID | aSeq | aTS
)

// ack reads an ack body.
func (s *scanner) ack(a *Ack) bool {
	*a = Ack{}
	if !s.byte('{') {
		return false
	}
	var seen uint8
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		var bit uint8
		switch k {
		case "room":
			bit = aRoom
			a.Room, ok = s.str()
		case "message_id":
			bit = aMessageID
			a.MessageID, ok = s.str()
		case "seq":
			bit = aSeq
			a.Seq, ok = s.int()
		case "ts":
			bit = aTS
			a.TS, ok = s.str()
		case "duplicate":
			bit = aDuplicate
			a.Duplicate, ok = s.bool()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if more, done := s.next(); !more {
			return done && seen&aRequired == aRequired
		}
	}
}
