package main

import (
	"testing"
	"time"
)

// TestParseBanTime checks the durations parley ban --for takes: Go
// durations, with whole days in front, from 1s to ten years, or 0.
func TestParseBanTime(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{"12h", 12 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"7d", 7 * day, true},
		{"1d12h", 36 * time.Hour, true},
		{"0", 0, true},
		{"1s", time.Second, true},
		{"3650d", 3650 * day, true},
		{"3650d1s", 0, false},
		{"3700d", 0, false},
		{"500ms", 0, false},
		{"-1h", 0, false},
		{"-1d", 0, false},
		{"d", 0, false},
		{"7", 0, false},
		{"1w", 0, false},
		{"a week", 0, false},
		{"7d7d", 0, false},
		{"99999999999999d", 0, false},
	} {
		got, err := parseBanTime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBanTime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
