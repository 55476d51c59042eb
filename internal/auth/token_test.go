package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKey(filepath.Join(dir, "missing", "jwt.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key in a missing directory: err %v, want one wrapping os.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadOrCreateKey created the missing directory")
	}
	path := filepath.Join(dir, "keys", "jwt.key")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	key, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("create: created %v, err %v", created, err)
	}
	if len(key) != 32 {
		t.Fatalf("key is %d bytes, want 32", len(key))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if string(raw) != hex.EncodeToString(key)+"\n" {
		t.Fatalf("key file holds %q, want the hex key and a newline", raw)
	}
	again, created, err := LoadOrCreateKey(path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("reload = %x, created %v, %v; want %x", again, created, err, key)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("key directory holds %d entries, want only the key (temp file left behind?)", len(entries))
	}

	bad := []struct {
		name, content string
	}{
		{"not hex", strings.Repeat("zz", 32)},
		{"too short", strings.Repeat("ab", 16)},
		{"empty", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if k, _, err := LoadOrCreateKey(p); err == nil {
				t.Fatalf("LoadOrCreateKey accepted %q as %x", tc.content, k)
			}
		})
	}
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestIssuerRoundTrip(t *testing.T) {
	iss := NewIssuer(testKey(1), time.Hour, "parley-test")
	before := time.Now()
	tok, exp, err := iss.Issue("u123", "Alice", "s456", true)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if d := exp.Sub(before); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Fatalf("exp is %v from now, want 1h", d)
	}
	id, err := iss.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := Identity{UserID: "u123", Name: "Alice", Admin: true, SessionID: "s456", ExpiresAt: exp}
	if id.UserID != want.UserID || id.Name != want.Name || id.Admin != want.Admin || id.SessionID != want.SessionID ||
		!id.ExpiresAt.Equal(want.ExpiresAt) || id.Guest || id.External || id.Rooms != nil {
		t.Fatalf("Verify = %+v, want %+v", id, want)
	}
	plain, _, _ := iss.Issue("u1", "Bob", "s1", false)
	if id, err := iss.Verify(plain); err != nil || id.Admin {
		t.Fatalf("non-admin token verifies as %+v, %v", id, err)
	}
	if iss.TTL() != time.Hour {
		t.Fatalf("TTL = %v", iss.TTL())
	}
}

func TestIssuerRefuses(t *testing.T) {
	key := testKey(1)
	iss := NewIssuer(key, time.Minute, "parley-test")
	good, _, err := iss.Issue("u1", "Alice", "s1", false)
	if err != nil {
		t.Fatal(err)
	}

	past := NewIssuer(key, time.Minute, "parley-test")
	past.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	expired, _, _ := past.Issue("u1", "Alice", "s1", false)
	inLeeway := NewIssuer(key, time.Minute, "parley-test")
	inLeeway.now = func() time.Time { return time.Now().Add(-time.Minute - 10*time.Second) }
	justExpired, _, _ := inLeeway.Issue("u1", "Alice", "s1", false)

	otherKey, _, _ := NewIssuer(testKey(2), time.Minute, "parley-test").Issue("u1", "Alice", "s1", false)
	otherIss, _, _ := NewIssuer(key, time.Minute, "someone-else").Issue("u1", "Alice", "s1", false)
	sign := func(m jwt.SigningMethod, claims jwt.MapClaims, k any) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Minute).Unix()
	noExp := sign(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "iss": "parley-test"}, key)
	noSub := sign(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "parley-test", "exp": exp}, key)
	hs512 := sign(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "u1", "iss": "parley-test", "exp": exp}, key)
	none := sign(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u1", "iss": "parley-test", "exp": exp}, jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	tamperedSig := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"expired", expired, ErrTokenExpired},
		{"wrong key", otherKey, ErrInvalidToken},
		{"wrong issuer", otherIss, ErrInvalidToken},
		{"missing exp", noExp, ErrInvalidToken},
		{"missing sub", noSub, ErrInvalidToken},
		{"HS512", hs512, ErrInvalidToken},
		{"alg none", none, ErrInvalidToken},
		{"tampered signature", tamperedSig, ErrInvalidToken},
		{"garbage", "not.a.token", ErrInvalidToken},
		{"empty", "", ErrInvalidToken},
		{"huge", strings.Repeat("a", MaxTokenLen+1), ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := iss.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tc.want)
			}
			if errors.Is(tc.want, ErrTokenExpired) == errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v matches both or neither of ErrTokenExpired and ErrInvalidToken", err)
			}
		})
	}
	t.Run("expired within leeway", func(t *testing.T) {
		if _, err := iss.Verify(justExpired); err != nil {
			t.Fatalf("token 10s past exp refused despite 30s leeway: %v", err)
		}
	})
	t.Run("short key", func(t *testing.T) {
		short := NewIssuer([]byte("short"), time.Minute, "")
		if _, _, err := short.Issue("u1", "A", "s", false); err == nil {
			t.Fatal("Issue with a 5-byte key succeeded")
		}
		if _, err := short.Verify(good); err == nil {
			t.Fatal("Verify with a 5-byte key succeeded")
		}
	})
}

func TestRefreshToken(t *testing.T) {
	tok, hash, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || len(hash) != 64 {
		t.Fatalf("token %d chars, hash %d chars; want 43 and 64", len(tok), len(hash))
	}
	if HashRefreshToken(tok) != hash {
		t.Fatal("HashRefreshToken disagrees with NewRefreshToken")
	}
	// SHA-256("abc"), FIPS 180-2 test vector.
	if got := HashRefreshToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashRefreshToken(abc) = %s", got)
	}
	tok2, _, _ := NewRefreshToken()
	if tok2 == tok {
		t.Fatal("two refresh tokens are equal")
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	iss := NewIssuer(testKey(1), time.Hour, "parley")
	tok, _, err := iss.Issue("u123", "Alice", "s456", false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGuestTokens: a guest token makes its bearer the same guest again, is
// never taken for an account's token, and is refused when its claims do
// not fit together.
func TestGuestTokens(t *testing.T) {
	iss := NewIssuer(testKey(7), time.Hour, "")
	guest, err := GuestIdentity("Bob")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.IssueGuest(guest, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := iss.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != guest.UserID || got.Name != "Bob" || !got.Guest || got.SessionID != "" || got.Admin || !got.ExpiresAt.IsZero() {
		t.Fatalf("guest token verified as %+v, want the guest %+v", got, guest)
	}
	if _, err := iss.IssueGuest(Identity{UserID: "u_1", Name: "x"}, time.Hour); err == nil {
		t.Fatal("IssueGuest signed a token for an account id")
	}
	account, _, err := iss.Issue("u_abc", "ann", "s1", false)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := iss.Verify(account); err != nil || id.Guest {
		t.Fatalf("an account token verified as %+v, %v", id, err)
	}

	sign := func(c accessClaims) string {
		c.Issuer = DefaultIssuer
		c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testKey(7))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, c := range map[string]accessClaims{
		"guest claim on an account id": {Guest: true, RegisteredClaims: jwt.RegisteredClaims{Subject: "u_abc"}},
		"guest id without the claim":   {RegisteredClaims: jwt.RegisteredClaims{Subject: "guest:abc"}},
		"guest with a session":         {Guest: true, SessionID: "s1", RegisteredClaims: jwt.RegisteredClaims{Subject: "guest:abc"}},
		"guest who is an admin":        {Guest: true, Admin: true, RegisteredClaims: jwt.RegisteredClaims{Subject: "guest:abc"}},
	} {
		if id, err := iss.Verify(sign(c)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: verified as %+v, %v; want ErrInvalidToken", name, id, err)
		}
	}
}

// TestIssuerTakesTheDefaultLifeForZero: an Issuer made with a zero ttl
// gives its tokens DefaultAccessTTL, not a life of nothing.
func TestIssuerTakesTheDefaultLifeForZero(t *testing.T) {
	iss := NewIssuer(testKey(1), 0, "")
	tok, exp, err := iss.Issue("u1", "Ann", "s1", false)
	if err != nil {
		t.Fatal(err)
	}
	if iss.TTL() != DefaultAccessTTL || time.Until(exp) < DefaultAccessTTL-time.Minute {
		t.Fatalf("TTL %v, expiry in %v; want %v", iss.TTL(), time.Until(exp), DefaultAccessTTL)
	}
	if _, err := iss.Verify(tok); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
}

// TestAnAccessTokenOfTheLongestLengthVerifies: Parley's own token of
// exactly MaxTokenLen bytes verifies; one byte longer it is refused for
// its size.
func TestAnAccessTokenOfTheLongestLengthVerifies(t *testing.T) {
	iss := NewIssuer(testKey(1), time.Hour, "parley-test")
	sized := func(n int) string {
		t.Helper()
		for pad := n*3/4 - 300; pad < n; pad++ { // base64 makes 4 bytes of 3
			for _, sid := range []string{"s", "ss", "sss"} {
				if tok, _, err := iss.Issue("u1", strings.Repeat("n", pad), sid, false); err == nil && len(tok) == n {
					return tok
				}
			}
		}
		t.Fatalf("no token of %d bytes", n)
		return ""
	}
	if _, err := iss.Verify(sized(MaxTokenLen)); err != nil {
		t.Fatalf("a token of %d bytes: %v", MaxTokenLen, err)
	}
	if _, err := iss.Verify(sized(MaxTokenLen + 1)); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "want at most") {
		t.Fatalf("a token one byte too long: %v, want ErrInvalidToken for its size", err)
	}
}
