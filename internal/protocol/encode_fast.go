package protocol

import (
	"strconv"
	"unicode/utf8"
)

// The frames every stored message produces — its broadcast and its sender's
// ack — are written by hand rather than through encoding/json's reflection:
// at ten thousand messages a second that was several per cent of the
// server's CPU, much of it growing the fresh goroutines' stacks for
// reflection's deep calls. So are the chat and private frames the Go client
// sends (4 % of the load tool's CPU through encoding/json). The output is
// byte for byte what json.Marshal gives for the same frame
// (TestFastEncodeMatchesJSON and FuzzFastEncode hold it to that), so
// clients and servers see no difference.

// encodeFast returns the encoding of the frame when it is one of the kinds
// written by hand, and ok false otherwise.
func encodeFast(typ, id string, body any) (b []byte, ok bool) {
	// The buffers are sized for the frame without escapes, so the common
	// frame takes one allocation of the right size.
	switch v := body.(type) {
	case MessageBody:
		n := 130 + len(typ) + len(id) + len(v.Room) + len(v.ID) + len(v.TS) + len(v.From.ID) + len(v.From.Name) +
			len(v.To) + len(v.Text) + len(v.ClientID) + len(v.EditedAt)
		for _, r := range v.Reactions {
			n += 24 + len(r.Emoji)
			for _, u := range r.Users {
				n += 3 + len(u)
			}
		}
		b = appendFrameStart(make([]byte, 0, n), typ, id)
		b = appendMessageBody(b, &v)
	case AckBody:
		b = appendFrameStart(make([]byte, 0, 100+len(typ)+len(id)+len(v.Room)+len(v.MessageID)+len(v.TS)), typ, id)
		b = appendAckBody(b, &v)
	case ChatBody:
		b = appendFrameStart(make([]byte, 0, 70+len(typ)+len(id)+len(v.Room)+len(v.Text)+len(v.ClientID)), typ, id)
		b = appendSendBody(b, `{"room":`, v.Room, v.Text, v.ClientID)
	case PrivateBody:
		b = appendFrameStart(make([]byte, 0, 70+len(typ)+len(id)+len(v.To)+len(v.Text)+len(v.ClientID)), typ, id)
		b = appendSendBody(b, `{"to":`, v.To, v.Text, v.ClientID)
	default:
		return nil, false
	}
	return append(b, '}'), true
}

func appendFrameStart(b []byte, typ, id string) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, typ)
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, id)
	}
	return append(b, `,"body":`...)
}

func appendMessageBody(b []byte, m *MessageBody) []byte {
	b = append(b, `{"room":`...)
	b = appendString(b, m.Room)
	b = append(b, `,"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"ts":`...)
	b = appendString(b, m.TS)
	b = append(b, `,"from":{"id":`...)
	b = appendString(b, m.From.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, m.From.Name)
	if m.From.Guest {
		b = append(b, `,"guest":true`...)
	}
	b = append(b, '}')
	if m.To != "" {
		b = append(b, `,"to":`...)
		b = appendString(b, m.To)
	}
	b = append(b, `,"text":`...)
	b = appendString(b, m.Text)
	if m.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b = appendString(b, m.ClientID)
	}
	if m.EditedAt != "" {
		b = append(b, `,"edited_at":`...)
		b = appendString(b, m.EditedAt)
	}
	if m.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	if len(m.Reactions) > 0 {
		b = append(b, `,"reactions":[`...)
		for i, r := range m.Reactions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"emoji":`...)
			b = appendString(b, r.Emoji)
			b = append(b, `,"users":`...)
			if r.Users == nil {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
				for j, u := range r.Users {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendString(b, u)
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendAckBody(b []byte, a *AckBody) []byte {
	b = append(b, `{"room":`...)
	b = appendString(b, a.Room)
	b = append(b, `,"message_id":`...)
	b = appendString(b, a.MessageID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, a.Seq, 10)
	b = append(b, `,"ts":`...)
	b = appendString(b, a.TS)
	if a.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	return append(b, '}')
}

// appendSendBody appends the body of a chat or private frame, whose first
// field (opening, with its key) names where it goes.
func appendSendBody(b []byte, opening, where, text, clientID string) []byte {
	b = append(b, opening...)
	b = appendString(b, where)
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	if clientID != "" {
		b = append(b, `,"client_id":`...)
		b = appendString(b, clientID)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way json.Marshal writes it:
// quotes, backslashes and control characters escaped (\b \f \n \r \t in
// short form), <, > and & as \u escapes, invalid UTF-8 as U+FFFD, and the
// line and paragraph separators U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
