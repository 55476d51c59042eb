package server_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/protocol/protocoltest"
	"github.com/parley-chat/parley/internal/testutil"
)

func TestMain(m *testing.M) {
	// Every frame any test receives must match the published JSON Schema.
	testutil.FrameCheck = func(tb testing.TB, raw []byte) {
		protocoltest.NewValidator(tb).ServerFrame(tb, raw)
	}
	goleak.VerifyTestMain(m)
}
