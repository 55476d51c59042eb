package bench

import (
	"os"
	"runtime"
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

// TestMeterPeak holds the peak that the publish scenario reports around a
// notification: reset, then raised by memory touched after the reset.
func TestMeterPeak(t *testing.T) {
	m := Meter{ServerPID: os.Getpid()}
	if err := m.ResetPeak(); err != nil {
		t.Fatal(err)
	}
	before, ok := m.ServerPeak()
	if !ok || before <= 0 {
		t.Fatalf("peak %d, %v: want a size", before, ok)
	}
	const grow = 64 << 20
	b := make([]byte, grow)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	after, _ := m.ServerPeak()
	runtime.KeepAlive(b)
	if after-before < grow/2 {
		t.Errorf("peak went from %d to %d after touching %d bytes", before, after, grow)
	}
	if _, ok := (&Meter{}).ServerPeak(); ok {
		t.Error("a peak was read with no pid")
	}
}
