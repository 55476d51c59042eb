package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fastDecodeSeeds are frames and bodies on both sides of what the fast
// decoder takes: every escape, whitespace everywhere, keys repeated or in
// another case, values of the wrong type, nested values, bad numbers.
var fastDecodeSeeds = []string{
	`{"type":"chat","id":"c-1","body":{"room":"General","text":"hello","client_id":"k-42"}}`,
	` { "type" : "chat" , "body" : { "room" : "a" , "text" : "b" } , "id" : "x" } `,
	"{\"type\":\"chat\",\n\t\"body\":{\"room\":\"a\",\r\"text\":\"tab\\there \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\"}}",
	`{"type":"chat","body":{"room":"a","text":"\u00e9\ud83d\ude00 and \ud800 alone"}}`,
	`{"type":"chat","body":{"room":"a","text":"x","room":"b"}}`,
	`{"type":"chat","type":"typing","id":"1","id":"2","body":{},"body":{"room":"r","state":"start"}}`,
	`{"Type":"chat","body":{"Room":"a","TEXT":"b"}}`,
	`{"type":"chat","body":{"room":5,"text":"b"}}`,
	`{"type":"chat","body":{"room":null,"text":"b","client_id":null}}`,
	`{"type":"chat","body":{"room":"a","text":"b","extra":true}}`,
	`{"type":"join","id":"j","body":{"room":"a","since":-0.5e+10}}`,
	`{"type":"history","body":{"room":"a","before":10,"limit":05}}`,
	`{"type":"history","body":{"room":"a","before":1.,"limit":-}}`,
	`{"type":"react","body":{"room":"a","message_id":"m","emoji":"👍","remove":false,"x":null}}`,
	`{"type":"chat","body":{"room":"a","text":{"nested":1}}}`,
	`{"type":"chat","body":[1,2]}`, `{"type":"chat","body":"text"}`, `{"type":"chat","body":null}`,
	`{"type":"ping"}`, `{"type":"ping",}`, `{"type":"ping"} x`, `{"type":"ping"`, `{}`, `{"type":""}`,
	`{"type":"chat","id":"a\u0062c","body":{"room":"a"}}`, `{"type":"ch\at"}`, "{\"type\":\"ch\tat\"}",
	`{"type":"chat","body":{"room":"a","text":"\x"}}`, `{"type":"chat","body":{"room":"a","text":"\u12"}}`,
	`{"type":"join","body":{"room":"\u00zz"}}`, `{"type":"join","body":{"room":"\u00Ef"}}`,
	`{"type":1}`, `{"type":true}`, `{"type":"chat","id":7}`,
	`{"type":"private","id":"p","body":{"to":"u_1","text":"hi","client_id":"k"}}`,
	`{"type":"typing","body":{"room":"a","state":"stop"}}`,
}

// FuzzFastDecode checks the fast decoder against encoding/json: whatever it
// accepts, encoding/json must accept too and decode to the same values, and
// whatever it leaves to encoding/json is simply decoded the slow way.
func FuzzFastDecode(f *testing.F) {
	for _, seed := range fastDecodeSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the transport closes such frames with 1007 before decoding
		}
		data = bytes.TrimSpace(data)
		if len(data) == 0 || data[0] != '{' {
			return // DecodeEnvelope turns these away before either decoder
		}
		if env, ok := decodeEnvelopeFast(data); ok {
			var want Envelope
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("fast decoder took %q, which encoding/json rejects: %v", data, err)
			}
			if env.Type != want.Type || env.ID != want.ID || !bytes.Equal(env.Body, want.Body) {
				t.Fatalf("%q: fast decoder gave %+v, encoding/json %+v", data, env, want)
			}
		}
		// The input's body, and the whole input as a body, decoded into
		// structs that already hold values: keys a body lacks must keep them.
		bodies := [][]byte{data}
		var env Envelope
		if json.Unmarshal(data, &env) == nil && len(env.Body) > 0 {
			bodies = append(bodies, env.Body)
		}
		for _, body := range bodies {
			checkFastBody(t, body)
		}
	})
}

func checkFastBody(t *testing.T, body []byte) {
	t.Helper()
	for _, fresh := range []func() any{
		func() any { return &ChatBody{Room: "before", Text: "before", ClientID: "before"} },
		func() any { return &PrivateBody{To: "before", Text: "before", ClientID: "before"} },
		func() any { return &TypingBody{Room: "before", State: "before"} },
	} {
		got, want := fresh(), fresh()
		if !decodeBodyFast(body, got) {
			continue
		}
		if err := json.Unmarshal(body, want); err != nil {
			t.Fatalf("fast decoder took body %q, which encoding/json rejects: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("body %q: fast decoder gave %+v, encoding/json %+v", body, got, want)
		}
	}
}

// TestFastDecodeTakesCommonFrames makes sure the frames clients send most
// keep to the fast decoder: falling back would still be correct, so
// nothing else would notice if they stopped.
func TestFastDecodeTakesCommonFrames(t *testing.T) {
	cases := []struct {
		name  string
		frame string
		body  any
	}{
		{"chat", `{"type":"chat","id":"c-1","body":{"room":"General","text":"hello, \"everyone\"\n","client_id":"k-42"}}`, &ChatBody{}},
		{"private", `{"type":"private","id":"p-1","body":{"to":"u_01j9","text":"hi"}}`, &PrivateBody{}},
		{"typing", `{"type":"typing","body":{"room":"General","state":"start"}}`, &TypingBody{}},
		{"join", `{"type":"join","id":"j-1","body":{"room":"General","since":42}}`, nil},
		{"ping", `{"type":"ping","id":"p"}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, ok := decodeEnvelopeFast([]byte(c.frame))
			if !ok {
				t.Fatalf("fast decoder gave up on %s", c.frame)
			}
			if env.Type != c.name {
				t.Fatalf("type %q, want %q", env.Type, c.name)
			}
			if c.body != nil && !decodeBodyFast(env.Body, c.body) {
				t.Fatalf("fast decoder gave up on body %s", env.Body)
			}
		})
	}
	var chat ChatBody
	env, _ := decodeEnvelopeFast([]byte(cases[0].frame))
	decodeBodyFast(env.Body, &chat)
	if want := (ChatBody{Room: "General", Text: "hello, \"everyone\"\n", ClientID: "k-42"}); chat != want {
		t.Fatalf("chat body %+v, want %+v", chat, want)
	}
}

// FuzzRoomKeyASCII holds NormaliseRoom's ASCII shortcut to the full way:
// every name the shortcut takes must get the key the full way gives it.
func FuzzRoomKeyASCII(f *testing.F) {
	for _, seed := range []string{"general", "General", "LOBBY-2", "a.b_c", "-x", "x-", "9", "é", "a b", "K", "ǅ", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return
		}
		key, ok := asciiRoomKey(name, 64)
		if !ok {
			return
		}
		want, perr := normaliseRoom(name, 64)
		if perr != nil || key != want {
			t.Fatalf("room %q: shortcut gives %q, the full way %q (%v)", name, key, want, perr)
		}
	})
}
