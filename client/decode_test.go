package client

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// refMessage decodes a message or private frame the way encoding/json does.
func refMessage(data []byte) (typ, id string, m Message, err error) {
	var f struct {
		Type string  `json:"type"`
		ID   string  `json:"id"`
		Body Message `json:"body"`
	}
	err = json.Unmarshal(data, &f)
	return f.Type, f.ID, f.Body, err
}

// refAck decodes an ack frame the way encoding/json does.
func refAck(data []byte) (typ, id string, a Ack, err error) {
	var f struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Body Ack    `json:"body"`
	}
	err = json.Unmarshal(data, &f)
	return f.Type, f.ID, f.Body, err
}

// body wraps a message body in a message frame as the server writes it.
func body(b string) string { return `{"type":"message","body":` + b + `}` }

const (
	from = `"from":{"id":"guest:x","name":"x","guest":true}`
	head = `{"room":"r","id":"01M8","seq":7,"ts":"2026-11-26T07:00:00.000Z",` + from
)

var messageCases = []struct {
	name  string
	frame string
	fast  bool // the fast path must accept it
}{
	{"as the server writes it", body(head + `,"text":"3 123 lorem"}`), true},
	{"unicode", body(head + `,"text":"héllo 世界 🎉"}`), true},
	{"empty text", body(head + `,"text":""}`), true},
	{"DEL is not a control character to JSON", body(head + `,"text":"a` + "\x7f" + `b"}`), true},
	{"every optional field", body(`{"room":"r","id":"i","seq":1,"ts":"t","from":{"id":"u","name":"n"},"to":"v","text":"x","client_id":"k","edited_at":"e","deleted":true}`), true},
	{"guest false written out", body(`{"room":"r","id":"i","seq":1,"ts":"t","from":{"id":"u","name":"n","guest":false},"text":"x"}`), true},
	{"body keys reordered", body(`{"text":"x",` + from + `,"seq":9,"ts":"t","id":"i","room":"r"}`), true},
	{"user keys reordered", body(`{"room":"r","id":"i","seq":1,"ts":"t","from":{"guest":true,"name":"n","id":"u"},"text":"x"}`), true},
	{"negative seq", body(`{"room":"r","id":"i","seq":-3,"ts":"t",` + from + `,"text":"x"}`), true},
	{"seq of 18 digits", body(`{"room":"r","id":"i","seq":123456789012345678,"ts":"t",` + from + `,"text":"x"}`), true},
	{"private", `{"type":"private","body":{"room":"","id":"i","seq":0,"ts":"t",` + from + `,"to":"guest:y","text":"psst"}}`, true},

	{"escaped quote", body(head + `,"text":"he said \"hi\""}`), false},
	{"escaped backslash at the end", body(head + `,"text":"c:\\"}`), false},
	{"unicode escape", body(head + `,"text":"\u003cb\u003e \u00e9"}`), false},
	{"escaped newline", body(head + `,"text":"a\nb"}`), false},
	{"escape in a key", body(`{"r\u006fom":"r","id":"i","seq":1,"ts":"t",` + from + `,"text":"x"}`), false},
	{"raw control character", body(head + `,"text":"a` + "\x01" + `b"}`), false},
	{"invalid UTF-8", body(head + `,"text":"a` + "\xff\xfe" + `b"}`), false},
	{"truncated UTF-8", body(head + `,"text":"a` + "\xe4\xb8" + `"}`), false},
	{"missing seq", body(`{"room":"r","id":"i","ts":"t",` + from + `,"text":"x"}`), false},
	{"missing text", body(head + `}`), false},
	{"missing from.name", body(`{"room":"r","id":"i","seq":1,"ts":"t","from":{"id":"u"},"text":"x"}`), false},
	{"unknown key", body(head + `,"text":"x","extra":1}`), false},
	{"unknown key in from", body(`{"room":"r","id":"i","seq":1,"ts":"t","from":{"id":"u","name":"n","x":1},"text":"x"}`), false},
	{"reactions", body(head + `,"text":"x","reactions":[{"emoji":"👍","users":["u"]}]}`), false},
	{"duplicate key", body(head + `,"text":"x","text":"y"}`), false},
	{"duplicate from", body(head + `,` + from + `,"text":"x"}`), false},
	{"key in another case", body(head + `,"Text":"x"}`), false},
	{"null", body(head + `,"to":null,"text":"x"}`), false},
	{"seq as a string", body(`{"room":"r","id":"i","seq":"1","ts":"t",` + from + `,"text":"x"}`), false},
	{"seq with a fraction", body(`{"room":"r","id":"i","seq":1.0,"ts":"t",` + from + `,"text":"x"}`), false},
	{"seq with an exponent", body(`{"room":"r","id":"i","seq":1e3,"ts":"t",` + from + `,"text":"x"}`), false},
	{"seq with a leading zero", body(`{"room":"r","id":"i","seq":012,"ts":"t",` + from + `,"text":"x"}`), false},
	{"seq of 19 digits", body(`{"room":"r","id":"i","seq":1234567890123456789,"ts":"t",` + from + `,"text":"x"}`), false},
	{"deleted as a number", body(head + `,"text":"x","deleted":1}`), false},
	{"whitespace", body(`{"room": "r","id":"i","seq":1,"ts":"t",` + from + `,"text":"x"}`), false},
	{"trailing whitespace", body(head+`,"text":"x"}`) + "\n", false},
	{"trailing garbage", body(head+`,"text":"x"}`) + "x", false},
	{"envelope reordered", `{"body":` + head + `,"text":"x"},"type":"message"}`, false},
	{"envelope with an extra key", `{"type":"message","body":` + head + `,"text":"x"},"x":1}`, false},
	{"message with an id", `{"type":"message","id":"5","body":` + head + `,"text":"x"}}`, false},
	{"trailing comma", body(head + `,"text":"x",}`), false},
	{"empty body", body(`{}`), false},
	{"body not an object", body(`[]`), false},
	{"truncated", body(head + `,"text":"x"`), false},
}

var ackCases = []struct {
	name  string
	frame string
	fast  bool
}{
	{"as the server writes it", `{"type":"ack","id":"2s","body":{"room":"r","message_id":"m","seq":4,"ts":"t"}}`, true},
	{"duplicate", `{"type":"ack","id":"2s","body":{"room":"r","message_id":"m","seq":4,"ts":"t","duplicate":true}}`, true},
	{"body keys reordered", `{"type":"ack","id":"2s","body":{"seq":4,"ts":"t","message_id":"m","room":"r"}}`, true},
	{"empty id", `{"type":"ack","id":"","body":{"room":"r","message_id":"m","seq":4,"ts":"t"}}`, false},
	{"escaped id", `{"type":"ack","id":"2\u0073","body":{"room":"r","message_id":"m","seq":4,"ts":"t"}}`, false},
	{"missing ts", `{"type":"ack","id":"2s","body":{"room":"r","message_id":"m","seq":4}}`, false},
	{"unknown key", `{"type":"ack","id":"2s","body":{"room":"r","message_id":"m","seq":4,"ts":"t","x":"y"}}`, false},
	{"no id", `{"type":"ack","body":{"room":"r","message_id":"m","seq":4,"ts":"t"}}`, false},
}

// TestDecodeMessage checks which frames the fast path takes and that what it
// takes decodes as encoding/json decodes it.
func TestDecodeMessage(t *testing.T) {
	for _, tc := range messageCases {
		t.Run(tc.name, func(t *testing.T) {
			checkMessage(t, []byte(tc.frame), tc.fast)
		})
	}
}

func TestDecodeAck(t *testing.T) {
	for _, tc := range ackCases {
		t.Run(tc.name, func(t *testing.T) {
			checkAck(t, []byte(tc.frame), tc.fast)
		})
	}
}

// checkMessage fails t when the fast path's verdict on data is not fast
// (unless fast is nil) or when it accepts data and disagrees with
// encoding/json.
func checkMessage(t *testing.T, data []byte, fast ...bool) {
	t.Helper()
	for _, p := range []string{messagePrefix, privatePrefix} {
		var m Message
		ok := decodeMessage(string(data), p, &m)
		if len(fast) > 0 && p == messagePrefix && strings.HasPrefix(string(data), p) && ok != fast[0] {
			t.Fatalf("fast path took it: %v, want %v", ok, fast[0])
		}
		if !ok {
			continue
		}
		typ, id, want, err := refMessage(data)
		if err != nil {
			t.Fatalf("fast path took a frame encoding/json refuses (%v): %q", err, data)
		}
		if typ != p[len(`{"type":"`):len(p)-len(`","body":`)] || id != "" || !reflect.DeepEqual(m, want) {
			t.Fatalf("fast path decoded %q as %q %+v, encoding/json as %q id %q %+v", data, p, m, typ, id, want)
		}
	}
}

func checkAck(t *testing.T, data []byte, fast ...bool) {
	t.Helper()
	var a Ack
	id, ok := decodeAck(string(data), &a)
	if len(fast) > 0 && ok != fast[0] {
		t.Fatalf("fast path took it: %v, want %v", ok, fast[0])
	}
	if !ok {
		return
	}
	typ, wantID, want, err := refAck(data)
	if err != nil {
		t.Fatalf("fast path took a frame encoding/json refuses (%v): %q", err, data)
	}
	if typ != "ack" || id != wantID || a != want {
		t.Fatalf("fast path decoded %q as id %q %+v, encoding/json as %q id %q %+v", data, id, a, typ, wantID, want)
	}
}

// FuzzDecode checks that every frame the fast path accepts decodes exactly
// as encoding/json decodes it. Run it with
// go test -run '^$' -fuzz FuzzDecode -fuzztime 30s ./client/
func FuzzDecode(f *testing.F) {
	for _, tc := range messageCases {
		f.Add([]byte(tc.frame))
	}
	for _, tc := range ackCases {
		f.Add([]byte(tc.frame))
	}
	f.Add(benchMessageFrame)
	f.Add(benchAckFrame)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMessage(t, data)
		checkAck(t, data)
	})
}

// TestHandleFrameEitherPath checks that a frame delivers the same event
// whichever path decodes it, and the same nothing when it is dropped.
func TestHandleFrameEitherPath(t *testing.T) {
	for _, tc := range messageCases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.frame)
			var got []Message
			c := &Client{opts: Options{Handler: func(ev Event) {
				if ev.Message != nil {
					got = append(got, cloneMessage(*ev.Message))
				}
			}}, pending: map[string]*call{}, rooms: map[string]*roomState{"r": {last: -10}}}
			c.handleFrame(data)
			typ, id, want, err := refMessage(data)
			delivered := err == nil && id == "" && (typ == "private" || typ == "message" && want.Room == "r" && want.Seq > -10)
			switch {
			case !delivered && len(got) != 0:
				t.Fatalf("delivered %+v; encoding/json says it is not news (%v)", got, err)
			case delivered && (len(got) != 1 || !reflect.DeepEqual(got[0], want)):
				t.Fatalf("delivered %+v, want %+v", got, want)
			}
		})
	}
}

// TestHandlerGetsViews checks the Handler contract: the frame is decoded in
// place without allocating, and Events channel consumers own their memory.
func TestHandlerGetsViews(t *testing.T) {
	data := []byte(`{"type":"message","body":{"room":"r","id":"i","seq":1,"ts":"t","from":{"id":"u","name":"n"},"text":"hello"}}`)
	var seen int
	c := &Client{opts: Options{Handler: func(ev Event) {
		if ev.Message.Text == "hello" && ev.Room == "r" {
			seen++
		}
	}}, pending: map[string]*call{}, rooms: map[string]*roomState{"r": {}}}
	rs := c.rooms["r"]
	allocs := testing.AllocsPerRun(100, func() {
		rs.last = 0
		c.handleFrame(data)
	})
	if seen == 0 {
		t.Fatal("the Handler saw no message")
	}
	if allocs != 0 {
		t.Errorf("a message to a Handler costs %v allocations, want 0", allocs)
	}

	c = &Client{ctx: context.Background(), events: make(chan Event, 1), pending: map[string]*call{},
		rooms: map[string]*roomState{"r": {}}}
	c.handleFrame(data)
	copy(data, strings.Repeat("#", len(data))) // the read buffer is reused
	ev := <-c.Events()
	if ev.Room != "r" || ev.Message.Text != "hello" || ev.Message.From.ID != "u" {
		t.Fatalf("an event on the channel changed with the read buffer: %+v", ev.Message)
	}
}

func cloneMessage(m Message) Message {
	m.Room, m.ID, m.TS, m.To = strings.Clone(m.Room), strings.Clone(m.ID), strings.Clone(m.TS), strings.Clone(m.To)
	m.Text, m.ClientID, m.EditedAt = strings.Clone(m.Text), strings.Clone(m.ClientID), strings.Clone(m.EditedAt)
	m.From.ID, m.From.Name = strings.Clone(m.From.ID), strings.Clone(m.From.Name)
	return m
}

// TestPlainEveryByte puts every byte value at every position of the
// eight-at-a-time check and of the tail after it.
func TestPlainEveryByte(t *testing.T) {
	for b := range 256 {
		want := b >= 0x20 && b != '\\' && b < 0x80
		for i := range 19 {
			v := []byte(strings.Repeat("a", 19))
			v[i] = byte(b)
			if got := plain(string(v)); got != want {
				t.Fatalf("plain with byte %#x at %d = %v, want %v", b, i, got, want)
			}
		}
	}
	if !plain("smörgåsbord 世界 🎉 and then some more ascii") {
		t.Fatal("valid UTF-8 refused")
	}
}

// TestStrEveryByte puts every byte value at every position of a string,
// in the eight-at-a-time scan and in the tail after it, from every start
// offset, and checks where str ends it and whether it takes the string.
func TestStrEveryByte(t *testing.T) {
	const n = 19
	for lead := range 8 {
		for b := range 256 {
			for i := range n {
				v := []byte(strings.Repeat("a", n))
				v[i] = byte(b)
				src := strings.Repeat(" ", lead) + `"` + string(v) + `",` + strings.Repeat("z", 9)
				s := scanner{src: src, i: lead}
				got, ok := s.str()
				switch {
				case b == '"':
					if !ok || got != string(v[:i]) || s.i != lead+1+i+1 {
						t.Fatalf("lead %d, quote at %d: str = %q, %v, next %d", lead, i, got, ok, s.i)
					}
				case b < 0x20 || b == '\\' || b >= 0x80: // a lone byte beyond ASCII is not UTF-8
					if ok {
						t.Fatalf("lead %d, byte %#x at %d: str took %q", lead, b, i, got)
					}
				default:
					if !ok || got != string(v) || src[s.i] != ',' {
						t.Fatalf("lead %d, byte %#x at %d: str = %q, %v, next %d", lead, b, i, got, ok, s.i)
					}
				}
			}
		}
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`"smörgåsbord 世界 🎉 then ascii"`, true},
		{`"é then an escape \n"`, false},
		{`"é then an escaped quote \" and more"`, false},
		{`"é then a control ` + "\x01" + `"`, false},
		{`"no closing quote`, false},
		{`"é and no closing quote`, false},
	} {
		s := scanner{src: tc.in}
		got, ok := s.str()
		if ok != tc.want || (ok && `"`+got+`"` != tc.in) {
			t.Errorf("str(%s) = %q, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
}
