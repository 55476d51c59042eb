package protocol

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary frames through everything the read path does
// with a client's bytes before the hub: it must never panic, and whatever it
// accepts must be well-formed.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"chat","id":"c1","body":{"room":"lobby","text":"hi","client_id":"k"}}`,
		`{"type":"join","body":{"room":"Ｌｏｂｂｙ","since":3}}`,
		`{"type":"history","id":"h","body":{"room":"@a+b","before":10,"limit":5}}`,
		`{"type":"typing","body":{"room":"x","state":"start"}}`,
		`{"type":"chat","id":`, `[]`, `"x"`, `{"type":1}`, `{"id":"` + string(make([]byte, 70)) + `"}`,
		`{"type":"chat","body":null}`, `{"type":"chat","body":{"room":5}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the transport closes such frames with 1007 before decoding
		}
		env, perr := DecodeEnvelope(data)
		if perr != nil {
			if perr.Code == "" || perr.Message == "" {
				t.Fatalf("error without code or message: %+v", perr)
			}
			if len(env.ID) > MaxIDLength {
				t.Fatalf("error echoes an id of %d bytes", len(env.ID))
			}
			return
		}
		if env.Type == "" || len(env.ID) > MaxIDLength {
			t.Fatalf("accepted envelope %+v", env)
		}
		var chat ChatBody
		if DecodeBody(env, &chat) == nil {
			if key, perr := NormaliseRoom(chat.Room, 64); perr == nil {
				if key == "" || IsDirectRoom(key) || utf8.RuneCountInString(key) > 64 {
					t.Fatalf("room %q normalised to %q", chat.Room, key)
				}
				if again, perr := NormaliseRoom(key, 64); perr != nil || again != key {
					t.Fatalf("normalising %q is not stable: %q, %v", key, again, perr)
				}
			}
			_ = ValidText(chat.Text, 4000)
		}
	})
}
