package memory

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/broker"
	"github.com/parley-chat/parley/internal/broker/brokertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return New() })
}
