package groupcommit

import (
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFillTakesWhatIsQueuedUpToMax(t *testing.T) {
	ch := make(chan int, 10)
	for i := range 5 {
		ch <- i
	}
	if got := Fill([]int{-1}, ch, 3); !slices.Equal(got, []int{-1, 0, 1}) {
		t.Fatalf("Fill up to 3 = %v, want [-1 0 1]", got)
	}
	if got := Fill(nil, ch, 10); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("Fill of the rest = %v, want [2 3 4] without waiting for more", got)
	}
	ch <- 5
	close(ch)
	if got := Fill(nil, ch, 10); !slices.Equal(got, []int{5}) {
		t.Fatalf("Fill of a closed channel = %v, want [5]", got)
	}
}

func TestCompleterRunsInOrderOneAtATime(t *testing.T) {
	var got []int
	running := 0
	c := NewCompleter(func(v int) {
		running++
		if running > 1 {
			t.Error("two callbacks at once")
		}
		got = append(got, v)
		running--
	})
	var want []int
	for b := range 20 {
		batch := []int{}
		for i := range b % 4 { // some batches are empty
			batch = append(batch, b*10+i)
		}
		want = append(want, batch...)
		c.Hand(batch)
	}
	c.Close() // every batch has run when Close returns
	if !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}
