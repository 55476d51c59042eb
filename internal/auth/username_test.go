package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
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
		{"Devanagari with vowel signs", "नमस्ते", "नमस्ते", false},
		{"dotted capital I folds with a mark", "İzmir", "i\u0307zmir", false},
		{"leading combining mark", "\u0301abc", "", true},
		{"mark after punctuation", "ab-\u0301c", "", true},
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
		wantName string
		wantErr  bool
	}{
		{"named", "Bob", "Bob", false},
		{"full-width", "Ｂｏｂ", "Bob", false},
		{"invalid", "b b", "", true},
		{"too short", "b", "", true},
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
			suffix, ok := strings.CutPrefix(id.UserID, GuestIDPrefix)
			if !ok || len(suffix) != guestIDLen || strings.Trim(suffix, guestAlphabet) != "" {
				t.Fatalf("GuestIdentity(%q) id %q, want guest: and %d random characters", tc.in, id.UserID, guestIDLen)
			}
			if id.Name != tc.wantName || !id.Guest || id.External || id.Rooms != nil || !id.ExpiresAt.IsZero() {
				t.Fatalf("GuestIdentity(%q) = %+v, want name %q", tc.in, id, tc.wantName)
			}
			// The same name twice is two guests: a guest's id never
			// follows from a name someone else can take.
			again, err := GuestIdentity(tc.in)
			if err != nil || again.UserID == id.UserID {
				t.Fatalf("GuestIdentity(%q) twice gave id %q both times (err %v)", tc.in, id.UserID, err)
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
			if !strings.HasPrefix(id.UserID, "guest:") || !id.Guest {
				t.Fatalf("random guest %+v", id)
			}
			seen[id.Name] = true
		}
		if len(seen) < 45 {
			t.Fatalf("only %d distinct names in 50 random guests", len(seen))
		}
	})
}

func FuzzNormaliseUsername(f *testing.F) {
	for _, s := range []string{"alice", "ＡＬＩＣＥ", "Straße", "नमस्ते", "İzmir", "a\u0301bc", "...", "guest-abc123", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := NormaliseUsername(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidUsername) {
				t.Fatalf("error %v does not wrap ErrInvalidUsername", err)
			}
			return
		}
		if key == "" || !utf8.ValidString(key) {
			t.Fatalf("NormaliseUsername(%q) = %q", s, key)
		}
		upper, err := NormaliseUsername(strings.ToUpper(s))
		if err == nil && upper != key && strings.ToLower(strings.ToUpper(s)) == strings.ToLower(s) {
			t.Fatalf("keys differ by case: %q -> %q, upper %q -> %q", s, key, strings.ToUpper(s), upper)
		}
	})
}

// TestGuestIDsDrawEveryCharacterEquallyOften: the random part of a guest's
// id takes each of its 31 characters equally often. A byte taken modulo 31
// without rejecting its top values would favour the first characters by
// 1/8 (about 1,250 more of 310,000); chance moves a count by about 100,
// and the test allows 500.
func TestGuestIDsDrawEveryCharacterEquallyOften(t *testing.T) {
	const n = 310_000
	s, err := randomGuestSuffix(n)
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[rune]int, len(guestAlphabet))
	for _, c := range s {
		counts[c]++
	}
	each := n / len(guestAlphabet)
	for _, c := range guestAlphabet {
		if d := counts[c] - each; d > each/20 || d < -each/20 {
			t.Fatalf("%q comes %d times in %d, want about %d: biased", c, counts[c], n, each)
		}
	}
}
