package config

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "ADDR", 4},
		{"ADDR", "ADDR", 0},
		{"ADRR", "ADDR", 1},  // substitution
		{"ADR", "ADDR", 1},   // insertion
		{"ADDDR", "ADDR", 1}, // deletion
		{"ADRD", "ADDR", 1},  // adjacent swap
		{"GUSETS", "GUESTS", 1},
		{"kitten", "sitting", 3},
		{"CA", "ABC", 3}, // no substring edited twice
		{"PORT", "ADDR", 4},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	candidates := []string{"P_ADDR", "P_DATA_DIR", "P_DEBUG_ADDR", "P_LOG_LEVEL", "P_HEARTBEAT_INTERVAL", "P_MAX_ROOMS_PER_CONN"}
	tests := []struct {
		name, want string
	}{
		{"P_ADDR", "P_ADDR"},
		{"P_ADRR", "P_ADDR"},
		{"P_ADR", "P_ADDR"},
		{"P_addr", "P_ADDR"}, // case is ignored
		{"P_AD", ""},         // two edits in a short name
		{"P_DATADIR", "P_DATA_DIR"},
		{"P_LOG_LVL", ""},            // two edits in 7 characters
		{"P_DATADIRR", "P_DATA_DIR"}, // two edits in 8
		{"P_LOG", ""},
		{"P_HEARTBEAT_INTRVL", "P_HEARTBEAT_INTERVAL"}, // two edits in 16
		{"P_MAX_ROOM_PR_CON", "P_MAX_ROOMS_PER_CONN"},  // three edits in 15
		{"P_MAX_ROM_PR_CON", ""},                       // four
		{"P_PORT", ""},
		{"P_DEBUG_ADR", "P_DEBUG_ADDR"}, // not P_ADDR, which is further
	}
	for _, tt := range tests {
		if got := closest(tt.name, "P_", candidates); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
