package protocol

import (
	"regexp"
	"strings"
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

// clientBodies makes, for each frame type a client sends, the body it
// decodes into.
var clientBodies = map[string]func() any{
	TypeAuth: func() any { return new(AuthBody) }, TypeJoin: func() any { return new(JoinBody) },
	TypeLeave: func() any { return new(RoomBody) }, TypeChat: func() any { return new(ChatBody) },
	TypePrivate: func() any { return new(PrivateBody) }, TypeTyping: func() any { return new(TypingBody) },
	TypeEdit: func() any { return new(EditBody) }, TypeDelete: func() any { return new(DeleteBody) },
	TypeReact: func() any { return new(ReactBody) }, TypeRead: func() any { return new(ReadBody) },
	TypeHistory: func() any { return new(HistoryBody) }, TypeSubscribe: func() any { return new(SubscribeBody) },
	TypeUnsubscribe: func() any { return new(SubscribeBody) }, TypeNotifications: func() any { return new(NotificationsBody) },
	TypeNotificationsRead: func() any { return new(NotificationsReadBody) },
}

// documentedCodes are the error codes docs/PROTOCOL.md lists.
var documentedCodes = map[string]bool{CodeBadFrame: true, CodeUnknownType: true, CodeInvalid: true, CodeTooLong: true,
	CodeInvalidRoom: true, CodeNotJoined: true, CodeTooManyRooms: true, CodeRateLimited: true, CodeForbidden: true,
	CodeNotFound: true, CodeUnauthorized: true, CodeUnavailable: true, CodeInternal: true}

// quoted matches what an error message quotes: one character in single
// quotes, or a Go-quoted string.
var quoted = regexp.MustCompile(`(?s)'.'|"(?:\\.|[^"\\])*"`)

// checkError fails t unless perr has a documented code and a message that
// is a sentence, not a Go type or decoder's text.
func checkError(t *testing.T, perr *Error) {
	t.Helper()
	if !documentedCodes[perr.Code] || len(perr.Message) < 5 {
		t.Fatalf("error %+v: want a documented code and a sentence", perr)
	}
	// What a message quotes of the input ('*', "x.y") may hold anything.
	plain := quoted.ReplaceAllString(perr.Message, "")
	for _, g := range []string{"json:", "Go value", "struct", "int64", "*int", "*protocol", "map[", "unmarshal", "reflect"} {
		if strings.Contains(plain, g) {
			t.Fatalf("error message %q shows Go internals (%q)", perr.Message, g)
		}
	}
}

// FuzzDecodeBodies extends FuzzDecode to every body a client may send: the
// fuzzed frame's body is decoded as its own type's and as every other's,
// and the validators run on what decodes. Errors carry documented codes
// and plain sentences; names and texts that pass are what the rules say.
func FuzzDecodeBodies(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","id":"j","body":{"room":"lobby","since":4}}`, `{"type":"join","body":{"room":"a","since":-1}}`,
		`{"type":"history","id":"h","body":{"room":"lobby","before":10,"after":null,"limit":50}}`,
		`{"type":"history","body":{"room":"@u_1+u_2","after":3,"limit":1000}}`, `{"type":"history","body":{"room":"x","after":"3"}}`,
		`{"type":"react","body":{"room":"r","message_id":"m","emoji":"👍","remove":true}}`,
		`{"type":"notifications","body":{"before":"n_5","unread":true,"limit":10}}`,
		`{"type":"notifications_read","body":{"ids":["n_1"],"all":false,"unread":3}}`,
		`{"type":"read","body":{"room":"r","seq":9223372036854775807}}`, `{"type":"read","body":{"room":"r","seq":1e30}}`,
		`{"type":"edit","body":{"room":"r","message_id":"m","text":"  "}}`, `{"type":"auth","body":{"token":"x.y.z"}}`,
		`{"type":"private","body":{"to":"u_1","text":"` + strings.Repeat("é", 50) + `"}}`,
		`{"type":"subscribe","body":{"topic":"news.*"}}`, `{"type":"typing","body":{"room":"x","state":1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the transport closes such frames with 1007 before decoding
		}
		env, perr := DecodeEnvelope(data)
		if perr != nil {
			checkError(t, perr)
			return
		}
		for typ, body := range clientBodies {
			v := body()
			if perr := DecodeBody(Envelope{Type: typ, ID: env.ID, Body: env.Body}, v); perr != nil {
				checkError(t, perr)
				continue
			}
			var room, text string
			switch b := v.(type) {
			case *JoinBody:
				room = b.Room
			case *ChatBody:
				room, text = b.Room, b.Text
			case *EditBody:
				room, text = b.Room, b.Text
			case *PrivateBody:
				text = b.Text
			case *HistoryBody:
				room = b.Room
			}
			if room != "" {
				if key, perr := NormaliseRoom(room, 64); perr != nil {
					checkError(t, perr)
				} else if key == "" || IsDirectRoom(key) || !utf8.ValidString(key) {
					t.Fatalf("room %q normalised to %q", room, key)
				}
			}
			if perr := ValidText(text, 4000); perr != nil {
				checkError(t, perr)
			} else if strings.TrimSpace(text) == "" || utf8.RuneCountInString(text) > 4000 {
				t.Fatalf("ValidText took %q", text)
			}
		}
	})
}
