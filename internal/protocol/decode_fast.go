package protocol

import "slices"

// The read path decodes every frame a client sends: at the chat benchmark's
// 10,000 frames a second, the two encoding/json passes of a chat frame
// (envelope, then body, each validating the bytes first and going through
// reflection) were a tenth of the server's CPU. The functions here decode
// the shapes nearly every frame has in one pass and without reflection.
// They are a shortcut, not a second decoder: whatever they are not sure of
// — an escaped key, a \u escape, a nested value, a key in another case,
// a value of the wrong type, anything malformed — makes them give up, and
// the caller decodes with encoding/json, which also words the error. So
// whatever they accept they must decode exactly as encoding/json would;
// FuzzFastDecode checks that.

// scanner walks one JSON text.
type scanner struct {
	b []byte
	i int
}

// ws skips JSON whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips c if it comes next.
func (s *scanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object walks the object at the scanner, calling member with each key
// (without escapes; an escaped key gives up) and the scanner at the value,
// which member must consume. It reports false to give up.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	s.ws()
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.rawString()
		if !ok {
			return false
		}
		s.ws()
		if !s.consume(':') {
			return false
		}
		s.ws()
		if !member(key) {
			return false
		}
		s.ws()
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
		s.ws()
	}
}

// plain reads the start of a string: its bytes up to the closing quote,
// which it passes, or up to the first backslash, where it stops (escaped).
// A control character or the end of the input before either is not a
// string.
func (s *scanner) plain() (b []byte, escaped, ok bool) {
	if !s.consume('"') {
		return nil, false, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], false, true
		case c == '\\':
			return s.b[start:s.i], true, true
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// rawString reads a string with no escapes and returns its bytes.
func (s *scanner) rawString() ([]byte, bool) {
	b, escaped, ok := s.plain()
	return b, ok && !escaped
}

// str reads a string value. It decodes the one-letter escapes and gives up
// on \u, whose surrogate rules are encoding/json's to apply.
func (s *scanner) str() (string, bool) {
	b, escaped, ok := s.plain()
	switch {
	case !ok:
		return "", false
	case !escaped:
		return string(b), true
	}
	return s.escapedRest(b)
}

// escapedRest finishes a string whose bytes before its first escape are
// head; the scanner is at that backslash.
func (s *scanner) escapedRest(head []byte) (string, bool) {
	out := make([]byte, len(head), len(head)+len(s.b)-s.i)
	copy(out, head)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		switch s.b[s.i+1] {
		case '"', '\\', '/':
			out = append(out, s.b[s.i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default: // \u, or not an escape at all
			return "", false
		}
		s.i += 2
	}
	return "", false
}

// skipScalar passes over a string (any valid escapes), number, true, false
// or null, checking it as encoding/json would. Objects and arrays give up.
func (s *scanner) skipScalar() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.skipNumber()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// skipString passes over a string, checking its escapes.
func (s *scanner) skipString() bool {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if len(s.b)-s.i < 6 {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
			continue
		}
		s.i++
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipNumber passes over a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) skipNumber() bool {
	s.consume('-')
	switch {
	case s.consume('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits passes over a run of digits and reports whether there was one.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// frameType returns the constant for a client frame type, so the common
// ones cost no allocation.
func frameType(b []byte) string {
	switch string(b) {
	case TypeChat:
		return TypeChat
	case TypeTyping:
		return TypeTyping
	case TypePing:
		return TypePing
	case TypeRead:
		return TypeRead
	case TypeJoin:
		return TypeJoin
	case TypePrivate:
		return TypePrivate
	}
	return string(b)
}

// decodeEnvelopeFast decodes data (trimmed, starting with '{') when it is an
// object of "type" and "id" strings and a "body" that is an object of
// scalar members. Body shares data's bytes.
func decodeEnvelopeFast(data []byte) (env Envelope, ok bool) {
	s := scanner{b: data}
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			raw, ok := s.rawString()
			env.Type = frameType(raw)
			return ok
		case "id":
			var ok bool
			env.ID, ok = s.str()
			return ok
		case "body":
			start := s.i
			if !s.object(func([]byte) bool { return s.skipScalar() }) {
				return false
			}
			env.Body = data[start:s.i:s.i]
			return true
		}
		return false
	})
	s.ws()
	return env, ok && s.i == len(data)
}

// decodeStringsFast decodes body, an object whose members are all strings,
// into dst: the value of key keys[i] goes to dst[i]. It gives up on a key
// not in keys or a value that is not a string.
func decodeStringsFast(body []byte, keys []string, dst ...*string) bool {
	s := scanner{b: body}
	ok := s.object(func(key []byte) bool {
		i := slices.Index(keys, string(key))
		if i < 0 {
			return false
		}
		v, ok := s.str()
		if ok {
			*dst[i] = v
		}
		return ok
	})
	return ok && s.i == len(body)
}

// The members of the bodies decodeBodyFast knows, in the order it passes
// their fields.
var (
	chatKeys    = []string{"room", "text", "client_id"}
	privateKeys = []string{"to", "text", "client_id"}
	typingKeys  = []string{"room", "state"}
)

// decodeBodyFast decodes the bodies of the frames sent most often. Like
// encoding/json, it leaves the fields of keys the body lacks as they were.
// When it gives up it may have set some fields, to the values the decoding
// with encoding/json that follows sets them to again.
func decodeBodyFast(body []byte, v any) bool {
	switch v := v.(type) {
	case *ChatBody:
		return decodeStringsFast(body, chatKeys, &v.Room, &v.Text, &v.ClientID)
	case *PrivateBody:
		return decodeStringsFast(body, privateKeys, &v.To, &v.Text, &v.ClientID)
	case *TypingBody:
		return decodeStringsFast(body, typingKeys, &v.Room, &v.State)
	}
	return false
}
