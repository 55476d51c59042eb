package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestNormaliseUsername(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"plain", "alice", "alice", false},
		{"upper case", "ALICE", "alice", false},
		{"mixed punctuation", "a.l_i-ce", "a.l_i-ce", false},
		{"digits", "r2d2", "r2d2", false},
		{"full-width folds to ASCII", "ＡＬＩＣＥ", "alice", false},
		{"German sharp s folds", "Straße", "strasse", false},
		{"Greek final sigma folds", "ΟΔΥΣΣΕΥΣ", "οδυσσευσ", false},
		{"shortest", "abc", "abc", false},
		{"longest", strings.Repeat("a", 32), strings.Repeat("a", 32), false},
		{"non-Latin letters", "日本語", "日本語", false},
		{"too short", "ab", "", true},
		{"too long", strings.Repeat("a", 33), "", true},
		{"space", "al ice", "", true},
		{"at sign", "al@ice", "", true},
		{"colon", "guest:bob", "", true},
		{"only punctuation", "...", "", true},
		{"empty", "", "", true},
		{"invalid UTF-8", "ali\xffce", "", true},
		{"emoji", "ali😀ce", "", true},
		{"control", "ali\x00ce", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormaliseUsername(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidUsername) {
					t.Fatalf("NormaliseUsername(%q) = %q, %v; want ErrInvalidUsername", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormaliseUsername(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestGuestIdentity(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantID   string
		wantName string
		wantErr  bool
	}{
		{"named", "Bob", "guest:bob", "Bob", false},
		{"full-width", "Ｂｏｂ", "guest:bob", "Bob", false},
		{"invalid", "b b", "", "", true},
		{"too short", "b", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := GuestIdentity(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidUsername) {
					t.Fatalf("GuestIdentity(%q) = %+v, %v; want ErrInvalidUsername", tc.in, id, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GuestIdentity(%q): %v", tc.in, err)
			}
			want := Identity{UserID: tc.wantID, Name: tc.wantName, Guest: true}
			if id.UserID != want.UserID || id.Name != want.Name || !id.Guest || id.External || id.Rooms != nil || !id.ExpiresAt.IsZero() {
				t.Fatalf("GuestIdentity(%q) = %+v, want %+v", tc.in, id, want)
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		seen := map[string]bool{}
		for range 50 {
			id, err := GuestIdentity("")
			if err != nil {
				t.Fatalf("GuestIdentity(\"\"): %v", err)
			}
			suffix, ok := strings.CutPrefix(id.Name, "guest-")
			if !ok || len(suffix) != 6 || strings.Trim(suffix, guestAlphabet) != "" {
				t.Fatalf("random guest name %q, want guest-xxxxxx", id.Name)
			}
			if id.UserID != "guest:"+id.Name || !id.Guest {
				t.Fatalf("random guest %+v", id)
			}
			seen[id.Name] = true
		}
		if len(seen) < 45 {
			t.Fatalf("only %d distinct names in 50 random guests", len(seen))
		}
	})
}
