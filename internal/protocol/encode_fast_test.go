package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// viaJSON is what Encode wrote before the hand-written encoders, and what
// they must keep writing.
func viaJSON(t testing.TB, typ, id string, body any) []byte {
	t.Helper()
	b, err := json.Marshal(outFrame{Type: typ, ID: id, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// awkward holds strings that need every kind of escaping json.Marshal does.
var awkward = []string{
	"", "plain", `quote " and backslash \`, "<b>&amp;</b>", "tab\tnew\nline\rreturn",
	"\b\f\x00\x01\x1f\x7f", "caf\u00e9 \u65e5\u672c \U0001F600", "sep\u2028par\u2029end",
	"bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", strings.Repeat("ü", 40),
}

func TestFastEncodeMatchesJSON(t *testing.T) {
	var cases []struct {
		typ, id string
		body    any
	}
	add := func(typ, id string, body any) {
		cases = append(cases, struct {
			typ, id string
			body    any
		}{typ, id, body})
	}
	for i, s := range awkward {
		add(TypeMessage, "", MessageBody{Room: s, ID: "01JA0C9B2KX7M4T1W8Z6N3Q5RD", Seq: int64(i), TS: "2026-05-01T12:00:03.512Z",
			From: User{ID: s, Name: s}, Text: s})
		add(TypePrivate, "", MessageBody{Room: "@a+b", ID: s, Seq: -int64(i), TS: s, From: User{ID: "a", Name: "A", Guest: true},
			To: s, Text: s, ClientID: s, EditedAt: s, Deleted: true,
			Reactions: []Reaction{{Emoji: s, Users: []string{s, "b"}}, {Emoji: "👍", Users: nil}, {Emoji: "x", Users: []string{}}}})
		add(TypeAck, s, AckBody{Room: s, MessageID: s, Seq: 1 << 62, TS: s, Duplicate: i%2 == 0})
		add(TypeChat, s, ChatBody{Room: s, Text: s, ClientID: s})
		add(TypePrivate, "p1", PrivateBody{To: s, Text: s, ClientID: s})
	}
	add(TypeChat, "c1", ChatBody{Room: "general", Text: "hi"}) // no client_id: omitted
	add(TypePrivate, "", PrivateBody{})
	add(TypeMessage, "", MessageBody{Reactions: []Reaction{}}) // empty, not nil: omitted all the same
	add(TypeAck, "", AckBody{})
	for _, c := range cases {
		got, ok := encodeFast(c.typ, c.id, c.body)
		if !ok {
			t.Fatalf("%T not encoded by hand", c.body)
		}
		if want := viaJSON(t, c.typ, c.id, c.body); !bytes.Equal(got, want) {
			t.Fatalf("encoding of %+v:\n got %s\nwant %s", c.body, got, want)
		}
		if !bytes.Equal(Encode(c.typ, c.id, c.body), got) {
			t.Fatal("Encode does not use the hand-written encoder")
		}
	}
	if _, ok := encodeFast(TypeUpdate, "", UpdateBody{}); ok {
		t.Fatal("a body without a hand-written encoder was taken")
	}
}

func FuzzFastEncode(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, int64(len(s)), true)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int64, flag bool) {
		bodies := []any{
			MessageBody{Room: a, ID: b, Seq: n, TS: a, From: User{ID: b, Name: a, Guest: flag}, To: b, Text: a,
				ClientID: b, EditedAt: a, Deleted: flag, Reactions: []Reaction{{Emoji: a, Users: []string{b}}}},
			MessageBody{Room: a, Text: b, Seq: n},
			AckBody{Room: a, MessageID: b, Seq: n, TS: a, Duplicate: flag},
			ChatBody{Room: a, Text: b, ClientID: a},
			PrivateBody{To: b, Text: a, ClientID: b},
		}
		for _, body := range bodies {
			got, _ := encodeFast(TypeMessage, b, body)
			if want := viaJSON(t, TypeMessage, b, body); !bytes.Equal(got, want) {
				t.Fatalf("encoding of %+v:\n got %q\nwant %q", body, got, want)
			}
		}
	})
}
