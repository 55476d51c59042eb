package protocoltest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/protocol/protocoltest"
)

// recorder is a testing.TB that collects Errorf calls instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestValidatorReports(t *testing.T) {
	v := protocoltest.NewValidator(t)
	if v != protocoltest.NewValidator(t) {
		t.Errorf("NewValidator compiled the schema twice")
	}
	pong := protocol.Encode(protocol.TypePong, "p1", protocol.PongBody{TS: "2026-05-01T12:00:00.000Z"})
	badPong := []byte(`{"type":"pong","id":"p1","body":{"ts":"noon"}}`)
	ping := []byte(`{"type":"ping","id":"p1"}`)
	cases := []struct {
		name    string
		check   func(testing.TB, []byte)
		frame   []byte
		wantErr bool
	}{
		{"server frame valid", v.ServerFrame, pong, false},
		{"server frame invalid", v.ServerFrame, badPong, true},
		{"client frame as server frame", v.ServerFrame, ping, true},
		{"client frame valid", v.ClientFrame, ping, false},
		{"server frame as client frame", v.ClientFrame, pong, true},
		{"not JSON", v.ClientFrame, []byte(`{"type":`), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			tc.check(r, tc.frame)
			if got := len(r.errs) > 0; got != tc.wantErr {
				t.Fatalf("reported %v, want an error: %v", r.errs, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(r.errs[0], string(tc.frame)) {
				t.Errorf("the report does not quote the frame: %s", r.errs[0])
			}
		})
	}
	if err := v.ValidateServer(pong); err != nil {
		t.Errorf("ValidateServer(pong) = %v", err)
	}
	if err := v.ValidateClient(pong); err == nil {
		t.Errorf("ValidateClient(pong) = nil, want an error")
	}
}
