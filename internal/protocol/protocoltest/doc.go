// Package protocoltest checks frames against the JSON Schema of protocol v1
// (protocol.SchemaJSON) in tests anywhere in the repository:
//
//	v := protocoltest.NewValidator(t)
//	v.ServerFrame(t, frame) // fails the test if the server's frame breaks the schema
package protocoltest
