package protocol_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/protocol/protocoltest"
)

const docPath = "../../docs/PROTOCOL.md"

func TestSchemaCompiles(t *testing.T) {
	protocoltest.NewValidator(t)
	var doc struct {
		Schema string                     `json:"$schema"`
		ID     string                     `json:"$id"`
		Defs   map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(protocol.SchemaJSON, &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", doc.Schema)
	}
	if doc.ID != protocoltest.SchemaURL {
		t.Errorf("$id = %q, want %q", doc.ID, protocoltest.SchemaURL)
	}
	for _, name := range []string{"clientFrame", "serverFrame"} {
		if _, ok := doc.Defs[name]; !ok {
			t.Errorf("$defs/%s is missing", name)
		}
	}
}

// Example values shared by the frame tables.
var (
	alice   = protocol.User{ID: "01J9Y2A7QJ4M8ZK3D5T6VWXN0B", Name: "alice"}
	guest   = protocol.User{ID: "guest:carol", Name: "carol", Guest: true}
	ts      = "2026-05-01T12:00:00.123Z"
	yes     = true
	message = protocol.MessageBody{Room: "general", ID: "01JA0C7R5XG2M9K4T8W6Z3N1QB", Seq: 42, TS: ts, From: alice, Text: "hello"}
	full    = protocol.MessageBody{Room: "general", ID: "01JA0C7R5XG2M9K4T8W6Z3N1QB", Seq: 42, TS: ts, From: guest,
		Text: "", ClientID: "c-1", EditedAt: ts, Deleted: true,
		Reactions: []protocol.Reaction{{Emoji: "👍", Users: []string{alice.ID, guest.ID}}}}
	direct = protocol.MessageBody{Room: "@01J9Y2A7QJ4M8ZK3D5T6VWXN0B+guest:carol", ID: "01JA0C7R5XG2M9K4T8W6Z3N1QC",
		Seq: 3, TS: ts, From: alice, To: guest.ID, Text: "psst"}
	limits = protocol.Limits{MaxFrameBytes: 65536, MaxMessageLength: 4000, MaxRoomName: 64, MaxRooms: 100,
		RateMessages: 10, RateBurst: 20, TypingTimeoutMS: 6000, RecoveryWindow: 1000}
)

// serverFrame is a frame built the way the server builds one.
type serverFrame struct {
	name, typ, id string
	body          any
}

// serverFrames cover each server frame type and body type, with optional
// fields absent and present.
var serverFrames = []serverFrame{
	{"welcome guest", protocol.TypeWelcome, "", protocol.WelcomeBody{Session: "n1-1", User: guest, Protocol: protocol.Subprotocol,
		HeartbeatMS: 25000, TimeoutMS: 35000, Limits: limits}},
	{"welcome account", protocol.TypeWelcome, "", protocol.WelcomeBody{Session: "n1-2", User: alice, Protocol: protocol.Subprotocol,
		Server: "0.1.0", HeartbeatMS: 25000, TimeoutMS: 35000, ExpiresAt: ts, Limits: limits}},
	{"unread empty", protocol.TypeUnread, "", protocol.UnreadBody{Rooms: []protocol.UnreadRoom{}}},
	{"unread", protocol.TypeUnread, "", protocol.UnreadBody{Rooms: []protocol.UnreadRoom{
		{Room: "general", Unread: 2, LastSeq: 44, ReadSeq: 40}, {Room: direct.Room, Direct: true, LastSeq: 3}}}},
	{"joined", protocol.TypeJoined, "j1", protocol.JoinedBody{Room: "general", LastSeq: 0, Members: []protocol.User{alice}}},
	{"joined from path", protocol.TypeJoined, "", protocol.JoinedBody{Room: "general", Members: []protocol.User{}}},
	{"joined recovered", protocol.TypeJoined, "j2", protocol.JoinedBody{Room: "general", Private: true, Topic: "t",
		LastSeq: 44, Members: []protocol.User{alice, guest}, Recovered: &yes, Replayed: 2}},
	{"left", protocol.TypeLeft, "l1", protocol.RoomBody{Room: "general"}},
	{"ack", protocol.TypeAck, "c1", protocol.AckBody{Room: "general", MessageID: message.ID, Seq: 43, TS: ts}},
	{"ack duplicate", protocol.TypeAck, "c1", protocol.AckBody{Room: "general", MessageID: message.ID, Seq: 43, TS: ts, Duplicate: true}},
	{"ack no-op reaction", protocol.TypeAck, "r1", protocol.AckBody{Room: "general", MessageID: message.ID, Seq: 0, TS: ts}},
	{"message", protocol.TypeMessage, "", message},
	{"message every field", protocol.TypeMessage, "", full},
	{"private", protocol.TypePrivate, "", direct},
	{"update edit", protocol.TypeUpdate, "", protocol.UpdateBody{Room: "general", Seq: 45, Kind: "edit", Actor: alice.ID, Message: message}},
	{"update reaction", protocol.TypeUpdate, "", protocol.UpdateBody{Room: "general", Seq: 46, Kind: "reaction", Actor: alice.ID,
		Emoji: "👍", Removed: true, Message: full}},
	{"presence", protocol.TypePresence, "", protocol.PresenceBody{Room: "general", User: guest, Event: "join"}},
	{"presence_diff", protocol.TypePresenceDiff, "", protocol.PresenceDiffBody{Room: "general", Joins: []protocol.User{guest}, Leaves: []protocol.User{}, MemberCount: 3}},
	{"presence_diff truncated", protocol.TypePresenceDiff, "", protocol.PresenceDiffBody{Room: "general", Joins: []protocol.User{guest},
		Leaves: []protocol.User{alice}, MemberCount: 5000, Truncated: true}},
	{"typing", protocol.TypeTyping, "", protocol.TypingEvent{Room: "general", User: alice, State: "stop"}},
	{"read receipt", protocol.TypeRead, "", protocol.ReadEvent{Room: "general", User: alice, Seq: 44}},
	{"read reply", protocol.TypeRead, "r1", protocol.ReadEvent{Room: direct.Room, User: alice, Seq: 3}},
	{"history", protocol.TypeHistory, "h1", protocol.HistoryReply{Room: "general", Messages: []protocol.MessageBody{full, message}}},
	{"history empty", protocol.TypeHistory, "h1", protocol.HistoryReply{Room: "general", Messages: []protocol.MessageBody{}}},
	{"system", protocol.TypeSystem, "", protocol.SystemBody{Text: "maintenance at noon"}},
	{"system room", protocol.TypeSystem, "", protocol.SystemBody{Room: "general", Text: "topic changed"}},
	{"error", protocol.TypeError, "c1", protocol.Errorf(protocol.CodeNotJoined, "join first").Body()},
	{"error without id", protocol.TypeError, "", protocol.Errorf(protocol.CodeBadFrame, "malformed frame").Body()},
	{"error rate limited", protocol.TypeError, "c2", protocol.ErrorBody{Code: protocol.CodeRateLimited, Message: "slow down", RetryAfterMS: 100}},
	{"pong", protocol.TypePong, "p1", protocol.PongBody{TS: ts}},
	{"auth reply", protocol.TypeAuth, "a1", protocol.AuthReply{ExpiresAt: ts}},
	{"auth reply never expires", protocol.TypeAuth, "a1", protocol.AuthReply{}},
	{"welcome with a guest token", protocol.TypeWelcome, "", protocol.WelcomeBody{Session: "n1-3", User: guest, Protocol: protocol.Subprotocol,
		HeartbeatMS: 25000, TimeoutMS: 35000, GuestToken: "eyJ.x.y", Limits: limits}},
	{"room added", protocol.TypeRoom, "", protocol.RoomEventBody{Room: "general", Event: protocol.RoomAdded, User: alice.ID,
		Role: "member", By: protocol.SystemUserID, Private: true, Topic: "t"}},
	{"room updated", protocol.TypeRoom, "", protocol.RoomEventBody{Room: "general", Event: protocol.RoomUpdated, By: alice.ID}},
	{"subscribed", protocol.TypeSubscribed, "s1", protocol.SubscribeBody{Topic: "orders.*"}},
	{"unsubscribed", protocol.TypeUnsubscribed, "s2", protocol.SubscribeBody{Topic: "orders.>"}},
	{"notification", protocol.TypeNotification, "", notification},
	{"notifications", protocol.TypeNotifications, "", protocol.NotificationsReply{Notifications: []protocol.Notification{notification,
		{ID: "n0", Title: "Welcome", TS: ts, Read: true}}, Unread: 1}},
	{"notifications empty", protocol.TypeNotifications, "n1", protocol.NotificationsReply{Notifications: []protocol.Notification{}}},
	{"notifications read", protocol.TypeNotificationsRead, "r1", protocol.NotificationsReadBody{IDs: []string{"n1"}, Unread: &zero}},
	{"notifications read all", protocol.TypeNotificationsRead, "", protocol.NotificationsReadBody{All: true, Unread: &zero}},
}

var (
	zero         = 0
	notification = protocol.Notification{ID: "n1", Topic: "orders.42", Title: "Shipped", Body: "b",
		Data: json.RawMessage(`{"order":42}`), Link: "https://shop.example/o/42", TS: ts}
)

func TestSchemaServerFrames(t *testing.T) {
	v := protocoltest.NewValidator(t)
	for _, tc := range serverFrames {
		t.Run(tc.name, func(t *testing.T) {
			v.ServerFrame(t, protocol.Encode(tc.typ, tc.id, tc.body))
		})
	}
}

// TestSchemaServerFramesCoverTypes keeps serverFrames in step with the frame
// types the server sends.
func TestSchemaServerFramesCoverTypes(t *testing.T) {
	sent := []string{
		protocol.TypeWelcome, protocol.TypeJoined, protocol.TypeLeft, protocol.TypeAck, protocol.TypeMessage,
		protocol.TypeUpdate, protocol.TypePresence, protocol.TypePresenceDiff, protocol.TypeSystem, protocol.TypeError, protocol.TypePong,
		protocol.TypeUnread, protocol.TypePrivate, protocol.TypeTyping, protocol.TypeRead, protocol.TypeHistory,
		protocol.TypeAuth,
	}
	for _, typ := range sent {
		if !slices.ContainsFunc(serverFrames, func(f serverFrame) bool { return f.typ == typ }) {
			t.Errorf("no serverFrames case for type %q", typ)
		}
	}
}

func TestSchemaRejectsServerFrames(t *testing.T) {
	v := protocoltest.NewValidator(t)
	good := string(protocol.Encode(protocol.TypeAck, "c1", protocol.AckBody{Room: "general", MessageID: "m1", Seq: 1, TS: ts}))
	if err := v.ValidateServer([]byte(good)); err != nil {
		t.Fatalf("baseline ack is invalid: %v", err)
	}
	cases := []struct{ name, frame string }{
		{"missing required field", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","ts":"` + ts + `"}}`},
		{"wrong type", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":"1","ts":"` + ts + `"}}`},
		{"fractional seq", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":1.5,"ts":"` + ts + `"}}`},
		{"negative seq", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":-1,"ts":"` + ts + `"}}`},
		{"extra body property", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":1,"ts":"` + ts + `","x":1}}`},
		{"extra envelope property", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":1,"ts":"` + ts + `"},"x":1}`},
		{"timestamp not UTC milliseconds", `{"type":"ack","id":"c1","body":{"room":"general","message_id":"m1","seq":1,"ts":"2026-05-01T12:00:00+02:00"}}`},
		{"id too long", `{"type":"ack","id":"` + strings.Repeat("x", 65) + `","body":{"room":"general","message_id":"m1","seq":1,"ts":"` + ts + `"}}`},
		{"missing body", `{"type":"pong","id":"p1"}`},
		{"unknown type", `{"type":"shout","body":{}}`},
		{"missing type", `{"body":{}}`},
		{"not an object", `["ack"]`},
		{"id on a broadcast", `{"type":"presence","id":"x","body":{"room":"general","user":{"id":"u","name":"u"},"event":"join"}}`},
		{"unknown presence event", `{"type":"presence","body":{"room":"general","user":{"id":"u","name":"u"},"event":"away"}}`},
		{"extra user property", `{"type":"typing","body":{"room":"general","user":{"id":"u","name":"u","admin":true},"state":"start"}}`},
		{"unknown error code", `{"type":"error","body":{"code":"oops","message":"m"}}`},
		{"private without to", `{"type":"private","body":{"room":"@a+b","id":"m1","seq":1,"ts":"` + ts + `","from":{"id":"a","name":"a"},"text":"hi"}}`},
		{"welcome of another protocol", strings.Replace(string(protocol.Encode(protocol.TypeWelcome, "", protocol.WelcomeBody{
			Session: "s", User: alice, Protocol: protocol.Subprotocol, HeartbeatMS: 1, TimeoutMS: 2, Limits: limits})), "parley.v1", "parley.v2", 1)},
		{"welcome without limits", `{"type":"welcome","body":{"session":"s","user":{"id":"u","name":"u"},"protocol":"parley.v1","server":"","heartbeat_ms":1,"timeout_ms":2}}`},
		{"members null", `{"type":"joined","body":{"room":"general","private":false,"last_seq":0,"members":null}}`},
		{"trailing data", good + good},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := v.ValidateServer([]byte(tc.frame)); err == nil {
				t.Errorf("invalid server frame passed: %s", tc.frame)
			}
		})
	}
}

func TestSchemaClientFrames(t *testing.T) {
	v := protocoltest.NewValidator(t)
	valid := []struct{ name, frame string }{
		{"auth", `{"type":"auth","body":{"token":"eyJ.x.y"}}`},
		{"join", `{"type":"join","id":"j1","body":{"room":"general"}}`},
		{"join since", `{"type":"join","id":"j1","body":{"room":"General","since":0}}`},
		{"leave", `{"type":"leave","body":{"room":"general"}}`},
		{"chat", `{"type":"chat","id":"c1","body":{"room":"general","text":"hi","client_id":"k1"}}`},
		{"chat unknown body field", `{"type":"chat","body":{"room":"general","text":"hi","mood":"happy"}}`},
		{"chat unknown envelope field", `{"type":"chat","body":{"room":"general","text":"hi"},"trace":"abc"}`},
		{"private", `{"type":"private","body":{"to":"01J9Y2A7QJ4M8ZK3D5T6VWXN0B","text":"hi"}}`},
		{"typing", `{"type":"typing","body":{"room":"general","state":"start"}}`},
		{"ping", `{"type":"ping","id":"p1"}`},
		{"ping with body", `{"type":"ping","id":"p1","body":{"anything":1}}`},
		{"edit", `{"type":"edit","body":{"room":"general","message_id":"m1","text":"fixed"}}`},
		{"delete", `{"type":"delete","body":{"room":"general","message_id":"m1"}}`},
		{"react", `{"type":"react","body":{"room":"general","message_id":"m1","emoji":"👍","remove":true}}`},
		{"read", `{"type":"read","body":{"room":"@a+b","seq":3}}`},
		{"history", `{"type":"history","body":{"room":"general","before":40,"limit":50}}`},
		{"history after", `{"type":"history","body":{"room":"general","after":0}}`},
	}
	for _, tc := range valid {
		t.Run("valid "+tc.name, func(t *testing.T) {
			v.ClientFrame(t, []byte(tc.frame))
			decodes(t, []byte(tc.frame))
		})
	}
	invalid := []struct{ name, frame string }{
		{"missing type", `{"id":"x","body":{}}`},
		{"unknown type", `{"type":"shout","body":{}}`},
		{"server-only type", `{"type":"welcome","body":{}}`},
		{"id too long", `{"type":"ping","id":"` + strings.Repeat("x", 65) + `"}`},
		{"id not a string", `{"type":"ping","id":7}`},
		{"missing body", `{"type":"chat","id":"c1"}`},
		{"body not an object", `{"type":"chat","body":"hi"}`},
		{"missing text", `{"type":"chat","body":{"room":"general"}}`},
		{"empty text", `{"type":"chat","body":{"room":"general","text":""}}`},
		{"blank text", `{"type":"chat","body":{"room":"general","text":"   "}}`},
		{"room not a string", `{"type":"join","body":{"room":7}}`},
		{"empty room", `{"type":"join","body":{"room":""}}`},
		{"negative since", `{"type":"join","body":{"room":"general","since":-1}}`},
		{"since not an integer", `{"type":"join","body":{"room":"general","since":"5"}}`},
		{"client_id too long", `{"type":"chat","body":{"room":"general","text":"hi","client_id":"` + strings.Repeat("k", 65) + `"}}`},
		{"typing state", `{"type":"typing","body":{"room":"general","state":"maybe"}}`},
		{"emoji too long", `{"type":"react","body":{"room":"general","message_id":"m1","emoji":"` + strings.Repeat("x", 17) + `"}}`},
		{"remove not a boolean", `{"type":"react","body":{"room":"general","message_id":"m1","emoji":"x","remove":"yes"}}`},
		{"read without seq", `{"type":"read","body":{"room":"general"}}`},
		{"history limit", `{"type":"history","body":{"room":"general","limit":1001}}`},
		{"auth empty token", `{"type":"auth","body":{"token":""}}`},
	}
	for _, tc := range invalid {
		t.Run("invalid "+tc.name, func(t *testing.T) {
			if err := v.ValidateClient([]byte(tc.frame)); err == nil {
				t.Errorf("invalid client frame passed: %s", tc.frame)
			}
		})
	}
}

// clientBodies maps each client frame type to the Go type the server decodes
// its body into.
var clientBodies = map[string]func() any{
	protocol.TypeAuth:    func() any { return new(protocol.AuthBody) },
	protocol.TypeJoin:    func() any { return new(protocol.JoinBody) },
	protocol.TypeLeave:   func() any { return new(protocol.RoomBody) },
	protocol.TypeChat:    func() any { return new(protocol.ChatBody) },
	protocol.TypePrivate: func() any { return new(protocol.PrivateBody) },
	protocol.TypeTyping:  func() any { return new(protocol.TypingBody) },
	protocol.TypePing:    nil,
	protocol.TypeEdit:    func() any { return new(protocol.EditBody) },
	protocol.TypeDelete:  func() any { return new(protocol.DeleteBody) },
	protocol.TypeReact:   func() any { return new(protocol.ReactBody) },
	protocol.TypeRead:    func() any { return new(protocol.ReadBody) },
	protocol.TypeHistory: func() any { return new(protocol.HistoryBody) },

	protocol.TypeSubscribe:         func() any { return new(protocol.SubscribeBody) },
	protocol.TypeUnsubscribe:       func() any { return new(protocol.SubscribeBody) },
	protocol.TypeNotifications:     func() any { return new(protocol.NotificationsBody) },
	protocol.TypeNotificationsRead: func() any { return new(protocol.NotificationsReadBody) },
}

// decodes checks that a schema-valid client frame also gets through the
// server's own decoder, so the schema is no stricter than needed and no
// looser than the Go types.
func decodes(t *testing.T, frame []byte) {
	t.Helper()
	env, perr := protocol.DecodeEnvelope(frame)
	if perr != nil {
		t.Errorf("server rejects the envelope: %v\nframe: %s", perr, frame)
		return
	}
	newBody, ok := clientBodies[env.Type]
	if !ok {
		t.Errorf("type %q is not a client frame type", env.Type)
		return
	}
	if newBody == nil {
		return
	}
	if perr := protocol.DecodeBody(env, newBody()); perr != nil {
		t.Errorf("server rejects the body: %v\nframe: %s", perr, frame)
	}
}

// TestSchemaErrorCodes keeps the schema's list of error codes equal to the
// constants clients branch on.
func TestSchemaErrorCodes(t *testing.T) {
	var doc struct {
		Defs struct {
			ErrorBody struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"errorBody"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(protocol.SchemaJSON, &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Defs.ErrorBody.Properties.Code.Enum
	slices.Sort(got)
	want := slices.Clone(errorCodes)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("schema error codes = %v, want %v", got, want)
	}
}

var errorCodes = []string{
	protocol.CodeBadFrame, protocol.CodeUnknownType, protocol.CodeInvalid, protocol.CodeTooLong,
	protocol.CodeInvalidRoom, protocol.CodeNotJoined, protocol.CodeTooManyRooms, protocol.CodeRateLimited,
	protocol.CodeForbidden, protocol.CodeNotFound, protocol.CodeUnauthorized, protocol.CodeUnavailable,
	protocol.CodeInternal, protocol.CodeLookalike,
}

var closeCodes = []int{
	protocol.CloseNormal, protocol.CloseGoingAway, protocol.CloseUnsupportedData, protocol.CloseInvalidPayload,
	protocol.ClosePolicyViolation, protocol.CloseTooBig, protocol.CloseInternalError, protocol.CloseUnauthorized,
	protocol.CloseTokenExpired, protocol.CloseTooSlow, protocol.CloseTooManyConns, protocol.CloseHeartbeatMissed,
}

// docExample is one frame quoted in docs/PROTOCOL.md.
type docExample struct {
	line   int    // where the frame starts
	dir    string // "client" or "server"
	frame  string
	marker string // what preceded the block, for error messages
}

// docExamples extracts every ```json block (one frame each, marked by the
// line `<!-- client -->` or `<!-- server -->` before it) and every line of a
// ```text block marked `<!-- transcript -->` ("C: {...}" from the client,
// "S: {...}" from the server, "-- comment" or blank otherwise).
func docExamples(t *testing.T, doc []byte) []docExample {
	t.Helper()
	var (
		out       []docExample
		prev      string // last non-blank line outside a block
		inBlock   bool
		kind      string // "json", "transcript" or "" for other blocks
		start     int
		buf       strings.Builder
		blockMark string
	)
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if !inBlock {
			if info, ok := strings.CutPrefix(trimmed, "```"); ok {
				inBlock, start, blockMark = true, n, prev
				buf.Reset()
				switch {
				case strings.HasPrefix(strings.ToLower(info), "json"):
					kind = "json"
					if info != "json" {
						t.Errorf("%s:%d: use ```json exactly for frames, or another language for other JSON", docPath, n)
					}
				case prev == "<!-- transcript -->":
					kind = "transcript"
				default:
					kind = ""
				}
				continue
			}
			if trimmed != "" {
				prev = trimmed
			}
			continue
		}
		if trimmed == "```" {
			inBlock = false
			if kind == "json" {
				dir := strings.TrimSuffix(strings.TrimPrefix(blockMark, "<!-- "), " -->")
				if dir != "client" && dir != "server" {
					t.Errorf("%s:%d: ```json block not preceded by <!-- client --> or <!-- server --> (found %q)", docPath, start, blockMark)
				} else {
					out = append(out, docExample{line: start + 1, dir: dir, frame: buf.String(), marker: blockMark})
				}
			}
			prev = ""
			continue
		}
		switch kind {
		case "json":
			buf.WriteString(line)
			buf.WriteByte('\n')
		case "transcript":
			switch {
			case trimmed == "" || strings.HasPrefix(trimmed, "-- "):
			case strings.HasPrefix(line, "C: "):
				out = append(out, docExample{line: n, dir: "client", frame: line[3:], marker: "C:"})
			case strings.HasPrefix(line, "S: "):
				out = append(out, docExample{line: n, dir: "server", frame: line[3:], marker: "S:"})
			default:
				t.Errorf("%s:%d: transcript lines start with \"C: \", \"S: \" or \"-- \"", docPath, n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inBlock {
		t.Errorf("%s:%d: unterminated code block", docPath, start)
	}
	return out
}

func TestProtocolDocExamples(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	v := protocoltest.NewValidator(t)
	examples := docExamples(t, doc)
	seen := map[string]bool{}
	for _, ex := range examples {
		var env struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(ex.frame), &env); err != nil {
			t.Errorf("%s:%d: not JSON: %v", docPath, ex.line, err)
			continue
		}
		seen[ex.dir+" "+env.Type] = true
		switch ex.dir {
		case "client":
			if err := v.ValidateClient([]byte(ex.frame)); err != nil {
				t.Errorf("%s:%d: client example breaks the schema: %v\n%s", docPath, ex.line, err, ex.frame)
			}
			decodes(t, []byte(ex.frame))
		case "server":
			if err := v.ValidateServer([]byte(ex.frame)); err != nil {
				t.Errorf("%s:%d: server example breaks the schema: %v\n%s", docPath, ex.line, err, ex.frame)
			}
		}
	}
	// Every frame type in both directions has at least one example.
	for typ := range clientBodies {
		if !seen["client "+typ] {
			t.Errorf("%s has no client example of %q", docPath, typ)
		}
	}
	for _, f := range serverFrames {
		if !seen["server "+f.typ] {
			t.Errorf("%s has no server example of %q", docPath, f.typ)
		}
	}
}

// TestProtocolDocCodes checks that the error and close code tables of
// docs/PROTOCOL.md list every code.
func TestProtocolDocCodes(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `") {
			cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			rows[cell] = true
		}
	}
	for _, code := range errorCodes {
		if !rows[code] {
			t.Errorf("%s: no table row for error code %q", docPath, code)
		}
	}
	for _, code := range closeCodes {
		if s := strconv.Itoa(code); !rows[s] {
			t.Errorf("%s: no table row for close code %s", docPath, s)
		}
	}
}
