package store

import (
	"testing"
	"time"
)

func TestClampLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-5, 1}, {0, 1}, {1, 1}, {50, 50}, {1000, 1000}, {1001, 1000}, {1 << 40, 1000},
	} {
		if got := ClampLimit(tc.in); got != tc.want {
			t.Errorf("ClampLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestUsernameKey(t *testing.T) {
	if UsernameKey("ÅnnA") != UsernameKey("åNNa") {
		t.Fatal("UsernameKey is not case-insensitive")
	}
}

func TestTimestamp(t *testing.T) {
	loc := time.FixedZone("x", 3600)
	in := time.Date(2024, 5, 6, 7, 8, 9, 123456789, loc)
	got := Timestamp(in)
	want := time.Date(2024, 5, 6, 6, 8, 9, 123000000, time.UTC)
	if got != want {
		t.Fatalf("Timestamp = %v, want %v", got, want)
	}
	if !Timestamp(time.Time{}).IsZero() {
		t.Fatal("zero time did not stay zero")
	}
	if n := Now(); n.Location() != time.UTC || n.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("Now = %v, want UTC whole milliseconds", n)
	}
}
