package protocol

import _ "embed"

// SchemaJSON is the JSON Schema (draft 2020-12) of protocol v1, the
// machine-checkable form of docs/PROTOCOL.md. Its $id is
// https://parley.invalid/protocol/v1.schema.json; validate client frames
// against #/$defs/clientFrame and server frames against #/$defs/serverFrame.
// The server serves these bytes at /protocol/v1.schema.json. Treat the slice
// as read-only: it is shared.
//
//go:embed schema/v1.schema.json
var SchemaJSON []byte
