package auth

import (
	"strings"
	"testing"
)

func TestAPIKeys(t *testing.T) {
	key, id, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "pk_"+id+"_") || len(id) != keyIDLen {
		t.Fatalf("key %q, id %q: want pk_<id>_<secret>", key, id)
	}
	if got, ok := ParseAPIKey(key); !ok || got != id {
		t.Fatalf("ParseAPIKey(%q) = %q, %v; want %q", key, got, ok, id)
	}
	if !APIKeyMatches(key, hash) {
		t.Fatal("a key does not match its own hash")
	}
	other, _, _, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if other == key || APIKeyMatches(other, hash) {
		t.Fatal("two keys are the same, or one matches the other's hash")
	}
	last := byte('A')
	if key[len(key)-1] == 'A' {
		last = 'B'
	}
	tampered := key[:len(key)-1] + string(last)
	if APIKeyMatches(tampered, hash) {
		t.Fatal("a key with its last character changed matches")
	}
	for _, bad := range []string{"", "pk_", "eyJhbGciOi.x.y", "pk_" + id, strings.Replace(key, "_", "-", 2),
		"pk_zzzzzzzzzzzzzzzzzzzz_" + key[len("pk_")+keyIDLen+1:], key + "x"} {
		if _, ok := ParseAPIKey(bad); ok {
			t.Errorf("ParseAPIKey(%q) accepted it", bad)
		}
	}
}

func TestScopes(t *testing.T) {
	if !HasScope([]string{"publish"}, "publish") || HasScope([]string{"publish"}, "rooms") {
		t.Fatal("HasScope does not follow the list")
	}
	if !HasScope([]string{"admin"}, "rooms") {
		t.Fatal("admin does not grant rooms")
	}
	for _, bad := range [][]string{nil, {}, {"publish", "nope"}, {"rooms", "rooms"}, {"Admin"}} {
		if err := CheckScopes(bad); err == nil {
			t.Errorf("CheckScopes(%q) accepted it", bad)
		}
	}
	if err := CheckScopes(Scopes); err != nil {
		t.Fatal(err)
	}
}
