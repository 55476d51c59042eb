package protocol

import (
	"strings"
	"testing"
)

func TestHiddenRunes(t *testing.T) {
	refused := map[string]string{
		"right-to-left override":  "alice\u202egnp.exe",
		"left-to-right override":  "\u202dbob",
		"right-to-left embedding": "a\u202bb",
		"pop directional":         "ab\u202c",
		"first strong isolate":    "a\u2068b",
		"right-to-left isolate":   "a\u2067b",
		"pop directional isolate": "a\u2069b",
		"right-to-left mark":      "a\u200fb",
		"Arabic letter mark":      "a\u061cb",
		"zero width space":        "a\u200bb",
		"word joiner":             "a\u2060b",
		"byte order mark":         "\ufeffab",
		"soft hyphen":             "ad\u00admin",
		"tag character":           "a\U000e0041b",
		"line separator":          "a\u2028b",
		"paragraph separator":     "a\u2029b",
		"control":                 "a\x07b",
		"newline":                 "a\nb",
	}
	for name, s := range refused {
		t.Run(name, func(t *testing.T) {
			msg := HiddenRuneProblem("display name", s)
			if msg == "" || !strings.Contains(msg, "U+") {
				t.Fatalf("HiddenRuneProblem(%q) = %q, want a refusal naming the character", s, msg)
			}
			if got := StripHidden(s); strings.IndexFunc(got, IsHiddenRune) >= 0 || len(got) >= len(s) {
				t.Fatalf("StripHidden(%q) = %q", s, got)
			}
		})
	}
	for _, s := range []string{"Alice", "Zoë Ünal", "مریم\u200cجان", "👩\u200d💻 dev", "日本語", "नमस्ते", "a\ufe0fb"} {
		if msg := HiddenRuneProblem("display name", s); msg != "" {
			t.Errorf("HiddenRuneProblem(%q) = %q, want allowed", s, msg)
		}
		if got := StripHidden(s); got != s {
			t.Errorf("StripHidden(%q) = %q, want it unchanged", s, got)
		}
	}
}
