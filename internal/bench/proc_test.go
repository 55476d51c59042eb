package bench

import (
	"os"
	"testing"
)

func TestMeterReadsProc(t *testing.T) {
	m := Meter{ServerPID: os.Getpid()}
	a := m.Sample()
	x := 0
	for i := range 5_000_000 {
		x += i * i
	}
	_ = x
	b := m.Sample()
	if !b.ServerOK || b.ServerRSS <= 0 || b.SelfRSS <= 0 {
		t.Fatalf("snapshot %+v: want server figures and RSS", b)
	}
	u := Between(a, b)
	if u.ServerCPU == nil || *u.ServerCPU < 0 || u.ClientCPU < 0 {
		t.Fatalf("usage %+v", u)
	}
	if u := Between(a, (&Meter{}).Sample()); u.ServerCPU != nil {
		t.Fatalf("unknown pid gave server CPU %v", *u.ServerCPU)
	}
}
