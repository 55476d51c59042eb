package client

import (
	"encoding/json"
	"testing"
)

// benchMessageFrame is a fanout delivery as the server writes it, with a
// payload of the bench tool as its text.
var benchMessageFrame = []byte(`{"type":"message","body":{"room":"fanout-x1","id":"01M8ZK4Q2W7X9Y3B5N6P8R0T1V","seq":123,"ts":"2026-11-26T07:00:00.000Z","from":{"id":"guest:fanpub","name":"fanpub","guest":true},"text":"3 1234567890123 lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusm"}}`)

// benchAckFrame is the ack of a chat message as the server writes it.
var benchAckFrame = []byte(`{"type":"ack","id":"2s","body":{"room":"chat-x1-7","message_id":"01M8ZK4Q2W7X9Y3B5N6P8R0T1V","seq":124,"ts":"2026-11-26T07:00:00.000Z"}}`)

// BenchmarkDecodeMessage compares decoding a message frame by the fast path,
// in place as with a Handler (view) and owning its memory as for the Events
// channel (copy), with encoding/json, which every frame took before.
func BenchmarkDecodeMessage(b *testing.B) {
	b.Run("fast-view", func(b *testing.B) {
		var m Message
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMessageFrame)))
		for b.Loop() {
			if !decodeMessage(view(benchMessageFrame), messagePrefix, &m) {
				b.Fatal("fast path refused the frame")
			}
		}
	})
	b.Run("fast-copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMessageFrame)))
		for b.Loop() {
			if !decodeMessage(string(benchMessageFrame), messagePrefix, new(Message)) {
				b.Fatal("fast path refused the frame")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchMessageFrame)))
		for b.Loop() {
			var f struct {
				Body Message `json:"body"`
			}
			if json.Unmarshal(benchMessageFrame, &f) != nil {
				b.Fatal("decode failed")
			}
		}
	})
}

// BenchmarkDecodeAck compares the fast path for an ack with encoding/json,
// which decoded its envelope, then its body (and the waiting caller decoded
// the body once more).
func BenchmarkDecodeAck(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		var a Ack
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeAck(string(benchAckFrame), &a); !ok {
				b.Fatal("fast path refused the frame")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var env envelope
			var a Ack
			if json.Unmarshal(benchAckFrame, &env) != nil || json.Unmarshal(env.Body, &a) != nil {
				b.Fatal("decode failed")
			}
		}
	})
}

// BenchmarkHandleFrame is the reader goroutine's whole work per frame with
// a Handler, as the bench tool runs it: decode, dedup, hand over.
func BenchmarkHandleFrame(b *testing.B) {
	b.Run("message", func(b *testing.B) {
		var got int64
		c := &Client{opts: Options{Handler: func(ev Event) { got += ev.Message.Seq }},
			rooms: map[string]*roomState{"fanout-x1": {}}, pending: map[string]*call{}}
		rs := c.rooms["fanout-x1"]
		b.ReportAllocs()
		for b.Loop() {
			rs.last = 0 // so that seq 123 is news every time
			c.handleFrame(benchMessageFrame)
		}
		if got == 0 {
			b.Fatal("no message delivered")
		}
	})
	b.Run("ack", func(b *testing.B) {
		c := &Client{opts: Options{Handler: func(Event) {}},
			rooms: map[string]*roomState{"chat-x1-7": {}}, pending: map[string]*call{}}
		b.ReportAllocs()
		for b.Loop() {
			c.handleFrame(benchAckFrame)
		}
	})
}
