package protocol

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

// rawString reads a string with no escapes and returns its bytes.
func (s *scanner) rawString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// str reads a string value. It decodes the one-letter escapes and gives up
// on \u, whose surrogate rules are encoding/json's to apply.
func (s *scanner) str() (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(s.b[start : s.i-1]), true
		case c == '\\':
			return s.escapedRest(start)
		case c < 0x20:
			return "", false
		}
		s.i++
	}
	return "", false
}

// escapedRest finishes a string that has an escape, from start (just after
// its opening quote); the scanner is at the first backslash.
func (s *scanner) escapedRest(start int) (string, bool) {
	out := make([]byte, s.i-start, len(s.b)-start)
	copy(out, s.b[start:s.i])
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
// into the fields that field names; it gives up on a key field does not
// know or a value that is not a string.
func decodeStringsFast(body []byte, field func(key []byte) *string) bool {
	s := scanner{b: body}
	ok := s.object(func(key []byte) bool {
		dst := field(key)
		if dst == nil {
			return false
		}
		v, ok := s.str()
		if ok {
			*dst = v
		}
		return ok
	})
	return ok && s.i == len(body)
}

// decodeBodyFast decodes the bodies of the frames sent most often. Like
// encoding/json, it leaves the fields of keys the body lacks as they were.
// When it gives up it may have set some fields, to the values the decoding
// with encoding/json that follows sets them to again.
func decodeBodyFast(body []byte, v any) bool {
	switch v := v.(type) {
	case *ChatBody:
		return decodeStringsFast(body, func(key []byte) *string {
			switch string(key) {
			case "room":
				return &v.Room
			case "text":
				return &v.Text
			case "client_id":
				return &v.ClientID
			}
			return nil
		})
	case *PrivateBody:
		return decodeStringsFast(body, func(key []byte) *string {
			switch string(key) {
			case "to":
				return &v.To
			case "text":
				return &v.Text
			case "client_id":
				return &v.ClientID
			}
			return nil
		})
	case *TypingBody:
		return decodeStringsFast(body, func(key []byte) *string {
			switch string(key) {
			case "room":
				return &v.Room
			case "state":
				return &v.State
			}
			return nil
		})
	}
	return false
}
