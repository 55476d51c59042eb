package protocol

import "testing"

// BenchmarkDecodeChat is the per-frame work of the read path before the hub:
// envelope, body, room name and text checks.
func BenchmarkDecodeChat(b *testing.B) {
	frame := []byte(`{"type":"chat","id":"c-1234","body":{"room":"General","text":"hello, everyone in the room","client_id":"k-42"}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env, perr := DecodeEnvelope(frame)
		if perr != nil {
			b.Fatal(perr)
		}
		var body ChatBody
		if perr := DecodeBody(env, &body); perr != nil {
			b.Fatal(perr)
		}
		if _, perr := NormaliseRoom(body.Room, 64); perr != nil {
			b.Fatal(perr)
		}
		if perr := ValidText(body.Text, 4000); perr != nil {
			b.Fatal(perr)
		}
	}
}

// BenchmarkEncodeMessage is the once-per-broadcast encoding of a message.
func BenchmarkEncodeMessage(b *testing.B) {
	body := MessageBody{Room: "general", ID: "01JA0C9B2KX7M4T1W8Z6N3Q5RD", Seq: 45, TS: "2026-05-01T12:00:03.512Z",
		From: User{ID: "u_01j9y2b3c4d5e6f7g8h9jkmnpq", Name: "alice"}, Text: "hello, everyone in the room"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Encode(TypeMessage, "", body)
	}
}

// BenchmarkEncodeAck is the encoding of the ack every stored message gets.
func BenchmarkEncodeAck(b *testing.B) {
	body := AckBody{Room: "general", MessageID: "01JA0C9B2KX7M4T1W8Z6N3Q5RD", Seq: 45, TS: "2026-05-01T12:00:03.512Z"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Encode(TypeAck, "c-1234", body)
	}
}

// BenchmarkEncodeChat is the encoding of the chat frame the Go client sends
// for every message.
func BenchmarkEncodeChat(b *testing.B) {
	body := ChatBody{Room: "room123", Text: "3 1234567890123 a typical line of chat, some forty characters", ClientID: "0mwxtfnev-4f1c2a9e5b3d-h"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Encode(TypeChat, "c-1234", body)
	}
}
