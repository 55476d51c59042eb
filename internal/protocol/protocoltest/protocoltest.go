package protocoltest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parley-chat/parley/internal/protocol"
)

// SchemaURL is the $id of the protocol v1 schema.
const SchemaURL = "https://parley.invalid/protocol/v1.schema.json"

// Validator validates frames against the protocol v1 schema. It is safe for
// concurrent use.
type Validator struct {
	client *jsonschema.Schema
	server *jsonschema.Schema
}

// compiled is the schema compiled once per test binary; a Validator is
// immutable, so every caller can share it.
var compiled = sync.OnceValues(compile)

func compile() (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(protocol.SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("protocoltest: parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, fmt.Errorf("protocoltest: add schema: %w", err)
	}
	v := &Validator{}
	if v.client, err = c.Compile(SchemaURL + "#/$defs/clientFrame"); err != nil {
		return nil, fmt.Errorf("protocoltest: compile clientFrame: %w", err)
	}
	if v.server, err = c.Compile(SchemaURL + "#/$defs/serverFrame"); err != nil {
		return nil, fmt.Errorf("protocoltest: compile serverFrame: %w", err)
	}
	return v, nil
}

// NewValidator returns a Validator, failing tb if the schema does not
// compile.
func NewValidator(tb testing.TB) *Validator {
	tb.Helper()
	v, err := compiled()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// ServerFrame reports an error on tb, with the validation error and the
// frame, when frame is not a valid server frame. The test goes on.
func (v *Validator) ServerFrame(tb testing.TB, frame []byte) {
	tb.Helper()
	if err := v.ValidateServer(frame); err != nil {
		tb.Errorf("server frame breaks the protocol schema: %v\nframe: %s", err, frame)
	}
}

// ClientFrame reports an error on tb, with the validation error and the
// frame, when frame is not a valid client frame. The test goes on.
func (v *Validator) ClientFrame(tb testing.TB, frame []byte) {
	tb.Helper()
	if err := v.ValidateClient(frame); err != nil {
		tb.Errorf("client frame breaks the protocol schema: %v\nframe: %s", err, frame)
	}
}

// ValidateServer returns why frame is not a valid server frame, or nil.
func (v *Validator) ValidateServer(frame []byte) error {
	return validate(v.server, frame)
}

// ValidateClient returns why frame is not a valid client frame, or nil.
func (v *Validator) ValidateClient(frame []byte) error {
	return validate(v.client, frame)
}

func validate(sch *jsonschema.Schema, frame []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(frame))
	if err != nil {
		return fmt.Errorf("not a single JSON value: %w", err)
	}
	return sch.Validate(inst)
}
