package limit

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestGateCapsPerAddressAndNode(t *testing.T) {
	g := NewGate(GateConfig{MaxConns: 5, MaxPerAddress: 3})
	ctx := context.Background()
	var releases []func()
	for i := range 3 {
		rel, ref, err := g.Admit(ctx, "1.2.3.4")
		if ref != nil || err != nil {
			t.Fatalf("connection %d from one address refused: %+v %v", i+1, ref, err)
		}
		releases = append(releases, rel)
	}
	_, ref, _ := g.Admit(ctx, "1.2.3.4")
	if ref == nil || ref.Status != http.StatusTooManyRequests || ref.Reason != RefusedAddress || ref.RetryAfter <= 0 {
		t.Fatalf("fourth from one address: %+v, want 429 for the address with a retry", ref)
	}
	for i := range 2 {
		rel, ref, _ := g.Admit(ctx, "5.6.7.8")
		if ref != nil {
			t.Fatalf("connection %d from a second address refused: %+v", i+1, ref)
		}
		releases = append(releases, rel)
	}
	_, ref, _ = g.Admit(ctx, "9.9.9.9")
	if ref == nil || ref.Status != http.StatusServiceUnavailable || ref.Reason != RefusedNode || ref.RetryAfter <= 0 {
		t.Fatalf("sixth on the node: %+v, want 503 node full with a retry", ref)
	}
	releases[0]()
	releases[0]() // a second release must not free a second place
	if _, ref, _ := g.Admit(ctx, "1.2.3.4"); ref != nil {
		t.Fatalf("refused after a release: %+v", ref)
	}
	if _, ref, _ := g.Admit(ctx, "9.9.9.9"); ref == nil {
		t.Fatal("a double release freed two places")
	}
	for _, rel := range releases[1:] {
		rel()
	}
	st := g.Stats()
	if st.Conns != 1 || st.Addresses != 1 || st.RefusedAddress != 1 || st.RefusedNode != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGatePacesAndBoundsTheQueue(t *testing.T) {
	// 20 a second with a burst of 1: ten at once queue up 50 ms apart, and
	// those that would wait above MaxWait (150 ms) are refused as busy.
	g := NewGate(GateConfig{AcceptRate: 20, AcceptBurst: 1, MaxWait: 150 * time.Millisecond})
	refusals := make(chan *Refusal, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ref, err := g.Admit(context.Background(), "a")
			if err != nil {
				t.Error(err)
			}
			refusals <- ref
		}()
	}
	wg.Wait()
	close(refusals)
	admitted, busy := 0, 0
	for ref := range refusals {
		switch {
		case ref == nil:
			admitted++
		case ref.Reason == RefusedBusy && ref.Status == http.StatusServiceUnavailable && ref.RetryAfter > 0:
			busy++
		default:
			t.Fatalf("unexpected refusal %+v", ref)
		}
	}
	// 1 at once, then one per 50 ms up to 150 ms: 4 admitted (timer
	// granularity may let a fifth in).
	if admitted < 3 || admitted > 5 || busy != 10-admitted {
		t.Fatalf("admitted %d, busy %d; want about 4 admitted and the rest busy", admitted, busy)
	}
	if st := g.Stats(); st.Waited == 0 || st.WaitedFor <= 0 || st.Conns != admitted {
		t.Fatalf("stats %+v after %d admitted", st, admitted)
	}
}

func TestGateWaitEndsWithTheRequest(t *testing.T) {
	g := NewGate(GateConfig{MaxConns: 10, AcceptRate: 1, AcceptBurst: 1, MaxWait: time.Minute})
	if _, ref, err := g.Admit(context.Background(), "a"); ref != nil || err != nil {
		t.Fatal(ref, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := g.Admit(ctx, "a"); err == nil {
		t.Fatal("a cancelled request was admitted after its wait")
	}
	if st := g.Stats(); st.Conns != 1 {
		t.Fatalf("the cancelled request kept its place: %d held", st.Conns)
	}
}
