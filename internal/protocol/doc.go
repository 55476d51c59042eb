// Package protocol defines Parley's wire protocol v1: the JSON frames a client
// and the server exchange over a WebSocket, their validation, the stable error
// codes and close codes, and the room-name rules. It does no I/O; the transport
// reads and writes bytes, the hub acts on decoded frames.
//
// Every frame is one JSON object in one WebSocket text message:
//
//	{"type": "chat", "id": "c1", "body": {"room": "lobby", "text": "hi"}}
//
// docs/PROTOCOL.md is the reference for client authors and schema/v1.schema.json
// the machine-checkable form of the same rules.
package protocol
