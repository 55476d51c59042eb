package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxIDLength bounds the client-chosen frame id echoed in replies.
const MaxIDLength = 64

// TimeFormat is how timestamps appear on the wire: RFC 3339 in UTC with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t for the wire.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// AppendClientIDTime appends the start of a time-led client_id to b: t's
// Unix milliseconds in nine base-36 digits (36^9 ms is over 3,000 years),
// so that such keys sort by time, and a "-". The caller appends what makes
// the key unique. Keys that grow with time keep the server's client-id
// index writes on its last pages (see docs/PROTOCOL.md).
func AppendClientIDTime(b []byte, t time.Time) []byte {
	const width = 9
	var digits [13]byte // the most an int64 takes in base 36
	ms := strconv.AppendInt(digits[:0], max(t.UnixMilli(), 0), 36)
	for range width - len(ms) {
		b = append(b, '0')
	}
	b = append(b, ms...)
	return append(b, '-')
}

// DecodeEnvelope parses one client frame's envelope. The caller has already
// checked that data is valid UTF-8 (the transport closes with 1007 otherwise).
// The returned error is an *Error with CodeBadFrame; the envelope's ID is
// returned whenever it could be read, so the error can reference the frame.
// The envelope's Body may share data's bytes, so data must not change while
// the envelope is in use.
func DecodeEnvelope(data []byte) (Envelope, *Error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Envelope{}, Errorf(CodeBadFrame, "a frame must be a JSON object")
	}
	env, ok := decodeEnvelopeFast(data)
	if !ok {
		var perr *Error
		if env, perr = decodeEnvelopeJSON(data); perr != nil {
			return env, perr
		}
	}
	if len(env.ID) > MaxIDLength {
		env.ID = ""
		return env, Errorf(CodeInvalid, "id is longer than %d bytes", MaxIDLength)
	}
	if env.Type == "" {
		return env, Errorf(CodeInvalid, "type is required")
	}
	return env, nil
}

// decodeEnvelopeJSON is DecodeEnvelope's way for the frames the fast
// decoder leaves, and the one that words what is wrong with a bad frame.
func decodeEnvelopeJSON(data []byte) (Envelope, *Error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		// Salvage the id so the client can match the error to its frame.
		var idOnly struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(data, &idOnly) == nil && len(idOnly.ID) <= MaxIDLength {
			env.ID = idOnly.ID
		} else {
			env.ID = ""
		}
		return env, Errorf(CodeBadFrame, "malformed frame: %s", jsonProblem(err))
	}
	return env, nil
}

// DecodeBody unmarshals an envelope's body into v, reporting a missing body or
// a field of the wrong type as CodeInvalid.
func DecodeBody(env Envelope, v any) *Error {
	if len(env.Body) == 0 || bytes.Equal(env.Body, []byte("null")) {
		return Errorf(CodeInvalid, "%s needs a body", env.Type)
	}
	if env.Body[0] != '{' {
		return Errorf(CodeInvalid, "body must be a JSON object")
	}
	if decodeBodyFast(env.Body, v) {
		return nil
	}
	if err := json.Unmarshal(env.Body, v); err != nil {
		return Errorf(CodeInvalid, "%s body: %s", env.Type, jsonProblem(err))
	}
	return nil
}

// jsonProblem turns a decoder error into a short message without Go type names.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return "field " + e.Field + " has the wrong type (want " + jsonKind(e.Type.Kind().String()) + ")"
		}
		return "wrong JSON type"
	case *json.SyntaxError:
		return "invalid JSON"
	}
	return "invalid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice", "array":
		return "array"
	}
	return "object"
}

// outFrame is the envelope the server writes.
type outFrame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Body any    `json:"body,omitempty"`
}

// Encode marshals one frame: the server's, and the Go client's. The result
// is immutable by convention: the hub hands the same slice to every
// recipient of a broadcast.
func Encode(typ, id string, body any) []byte {
	if b, ok := encodeFast(typ, id, body); ok {
		return b
	}
	b, err := json.Marshal(outFrame{Type: typ, ID: id, Body: body})
	if err != nil {
		// Every body type is a plain struct of strings and numbers, so this is
		// a programming error, not bad input.
		panic("protocol: encode " + typ + ": " + err.Error())
	}
	return b
}

// ValidText checks chat text: non-empty after trimming, at most maxRunes
// characters, valid UTF-8 (the decoder already guarantees it for frames).
func ValidText(text string, maxRunes int) *Error {
	if text == "" {
		return Errorf(CodeInvalid, "text is required")
	}
	if len(bytes.TrimSpace([]byte(text))) == 0 {
		return Errorf(CodeInvalid, "text must not be only white space")
	}
	if !utf8.ValidString(text) {
		return Errorf(CodeInvalid, "text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(text); n > maxRunes {
		return Errorf(CodeTooLong, "text has %d characters, the limit is %d", n, maxRunes)
	}
	return nil
}
