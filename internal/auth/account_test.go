package auth

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cheapHasher hashes quickly; the parameters are read back from the hash,
// so Verify checks what it made.
func cheapHasher() *Hasher {
	return newHasher(1, argonParams{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32})
}

func TestNewAccountID(t *testing.T) {
	a, b := NewAccountID(), NewAccountID()
	if !regexp.MustCompile(`^u_[0-9a-z]{26}$`).MatchString(a) || a == b {
		t.Fatalf("NewAccountID() = %q, then %q", a, b)
	}
}

func TestNewAccountCheck(t *testing.T) {
	const pw = "correct horse"
	tests := []struct {
		name               string
		a                  NewAccount
		wantUser, wantName string
		wantErr            error
		wantMsg            string
	}{
		{"name as typed", NewAccount{Username: "Alice", Password: pw}, "alice", "Alice", nil, ""},
		{"full width", NewAccount{Username: "ａｌｉｃｅ", Password: pw}, "alice", "alice", nil, ""},
		{"display name trimmed", NewAccount{Username: "bob", Password: pw, DisplayName: "  Bob B. "}, "bob", "Bob B.", nil, ""},
		{"bad username first", NewAccount{Username: "a!", Password: "short"}, "", "", ErrInvalidUsername, "username"},
		{"short password", NewAccount{Username: "bob", Password: "short"}, "", "", ErrInvalidPassword, "at least 8"},
		{"long display name", NewAccount{Username: "bob", Password: pw, DisplayName: strings.Repeat("n", 65)},
			"", "", ErrInvalidDisplayName, "the display name must be 1 to 64 characters"},
		{"blank display name", NewAccount{Username: "bob", Password: pw, DisplayName: " \t"},
			"", "", ErrInvalidDisplayName, "1 to 64"},
		{"control character", NewAccount{Username: "bob", Password: pw, DisplayName: "Bob\x07"},
			"", "", ErrInvalidDisplayName, "control character"},
		{"display name of the longest length", NewAccount{Username: "bob", Password: pw, DisplayName: strings.Repeat("ñ", 64)},
			"bob", strings.Repeat("ñ", 64), nil, ""},
		{"display name of one character", NewAccount{Username: "bob", Password: pw, DisplayName: "B"}, "bob", "B", nil, ""},
		{"control character first", NewAccount{Username: "bob", Password: pw, DisplayName: "\x1bBob"},
			"", "", ErrInvalidDisplayName, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, name, err := tt.a.Check()
			if tt.wantErr != nil {
				var re *RuleError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &re) || !strings.Contains(re.Msg, tt.wantMsg) {
					t.Fatalf("Check() error = %v, want a *RuleError wrapping %v saying %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil || user != tt.wantUser || name != tt.wantName {
				t.Fatalf("Check() = %q, %q, %v; want %q, %q", user, name, err, tt.wantUser, tt.wantName)
			}
		})
	}
}

func TestCreateAccountAndSetPassword(t *testing.T) {
	ctx := context.Background()
	st, h := openStore(t), cheapHasher()
	u, err := CreateAccount(ctx, st, h, NewAccount{Username: "Ann", Password: "first password", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, AccountIDPrefix) || u.Username != "ann" || u.DisplayName != "Ann" || !u.Admin {
		t.Fatalf("created %+v", u)
	}
	got, err := st.UserByName(ctx, "ann")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByName = %+v, %v", got, err)
	}
	if ok, err := h.Verify(ctx, "first password", got.PasswordHash); !ok || err != nil {
		t.Fatalf("the stored hash does not verify the password: %v, %v", ok, err)
	}

	_, err = CreateAccount(ctx, st, h, NewAccount{Username: "ANN", Password: "another password"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a taken name: err = %v, want store.ErrConflict", err)
	}
	_, err = CreateAccount(ctx, st, h, NewAccount{Username: "bo", Password: "another password"})
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("a short name: err = %v, want a *RuleError", err)
	}

	if err := st.CreateSession(ctx, store.Session{ID: "s1", UserID: u.ID, TokenHash: "h1",
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := SetPassword(ctx, st, h, u.ID, "short", ""); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("SetPassword with a short password: err = %v, want ErrInvalidPassword", err)
	}
	n, err := SetPassword(ctx, st, h, u.ID, "second password", "")
	if err != nil || n != 1 {
		t.Fatalf("SetPassword = %d, %v; want 1 session signed out", n, err)
	}
	got, _ = st.User(ctx, u.ID)
	if ok, _ := h.Verify(ctx, "first password", got.PasswordHash); ok {
		t.Fatal("the old password still verifies")
	}
	if ok, _ := h.Verify(ctx, "second password", got.PasswordHash); !ok {
		t.Fatal("the new password does not verify")
	}
	if _, err := SetPassword(ctx, st, h, "u_nobody", "second password", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPassword of a missing account: err = %v, want store.ErrNotFound", err)
	}
}

func TestCheckAPIKey(t *testing.T) {
	tests := []struct {
		name    string
		keyName string
		scopes  []string
		want    string // the name, or what the error says
		ok      bool
	}{
		{"trimmed", "  billing ", []string{ScopePublish}, "billing", true},
		{"blank", " ", []string{ScopePublish}, "name must be 1 to 64 characters", false},
		{"too long", strings.Repeat("k", 65), []string{ScopePublish}, "name must be 1 to 64", false},
		{"control character", "bad\nname", []string{ScopePublish}, "without control characters", false},
		{"the longest name", strings.Repeat("ķ", 64), []string{ScopePublish}, strings.Repeat("ķ", 64), true},
		{"a name of one character", "k", []string{ScopePublish}, "k", true},
		{"control character first", "\x1bname", []string{ScopePublish}, "name must be 1 to 64", false},
		{"no scopes", "k", nil, "scopes: give at least one scope", false},
		{"unknown scope", "k", []string{"everything"}, `scopes: "everything" is not a scope`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckAPIKey(tt.keyName, tt.scopes)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("CheckAPIKey = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var re *RuleError
			if !errors.Is(err, ErrInvalidAPIKey) || !errors.As(err, &re) || !strings.Contains(re.Msg, tt.want) {
				t.Fatalf("CheckAPIKey error = %v, want a *RuleError saying %q", err, tt.want)
			}
		})
	}
}

func TestCreateAPIKey(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, _, err := CreateAPIKey(ctx, st, "", []string{ScopeRooms}, ""); !errors.Is(err, ErrInvalidAPIKey) {
		t.Fatalf("a blank name: err = %v, want ErrInvalidAPIKey", err)
	}
	scopes := []string{ScopeRooms, ScopePublish}
	key, k, err := CreateAPIKey(ctx, st, " ops ", scopes, "")
	if err != nil {
		t.Fatal(err)
	}
	scopes[0] = "changed" // the key keeps its own copy
	id, ok := ParseAPIKey(key)
	if !ok || id != k.ID || k.Name != "ops" || k.Scopes[0] != ScopeRooms || !APIKeyMatches(key, k.Hash) {
		t.Fatalf("key %q, stored %+v", key, k)
	}
	stored, err := st.APIKey(ctx, k.ID)
	if err != nil || stored.Hash != k.Hash || stored.CreatedBy != "" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
}

// TestCheckDisplayNameHidden checks that display names refuse what would
// disguise them: bidi overrides and isolates and other format characters.
func TestCheckDisplayNameHidden(t *testing.T) {
	for _, s := range []string{"alice\u202egnp.exe", "\u2067bob\u2069", "ad\u200bmin", "a\u00adb", "x\u2028y"} {
		if _, err := CheckDisplayName(s); !errors.Is(err, ErrInvalidDisplayName) || !strings.Contains(err.Error(), "U+") {
			t.Errorf("CheckDisplayName(%q) = %v, want ErrInvalidDisplayName naming the character", s, err)
		}
	}
	for _, s := range []string{"Alice Smith", "👩\u200d💻 Ada", "مریم\u200cجان"} {
		if got, err := CheckDisplayName(s); err != nil || got != s {
			t.Errorf("CheckDisplayName(%q) = %q, %v; want it accepted", s, got, err)
		}
	}
}
