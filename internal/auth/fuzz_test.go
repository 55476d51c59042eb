package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// signRaw makes an HS256 JWT of any payload bytes, so a fuzz target reaches
// the claim checks behind the signature with claims no JWT library would
// write.
func signRaw(tb testing.TB, key, payload []byte) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	sig, err := jwt.SigningMethodHS256.Sign(head, key)
	if err != nil {
		tb.Fatal(err)
	}
	return head + "." + enc.EncodeToString(sig)
}

// checkTokenError fails t unless err wraps one of the two sentinels callers
// map to answers.
func checkTokenError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("error %v wraps neither ErrInvalidToken nor ErrTokenExpired", err)
	}
}

// FuzzIssuerClaims signs fuzzed claims with the issuer's own key, as a
// token Parley issued would be, and verifies them: whatever passes must
// be a consistent identity (a guest is a guest id with no session or admin
// flag), and whatever fails wraps a sentinel.
func FuzzIssuerClaims(f *testing.F) {
	key := []byte(strings.Repeat("k", MinKeyLen))
	iss := NewIssuer(key, 0, "")
	for _, c := range []string{
		`{"sub":"u_1","name":"Ada","sid":"s1","iss":"parley","exp":4102444800,"iat":1700000000}`,
		`{"sub":"u_1","name":"Ada","adm":true,"iss":"parley","exp":4102444800}`,
		`{"sub":"guest:abc","name":"G","gst":true,"iss":"parley","exp":4102444800}`,
		`{"sub":"guest:abc","gst":true,"sid":"s","iss":"parley","exp":4102444800}`,
		`{"sub":"u_1","gst":true,"iss":"parley","exp":4102444800}`,
		`{"sub":"","iss":"parley","exp":4102444800}`, `{"sub":"u_1","iss":"parley","exp":1}`,
		`{"sub":"u_1","iss":"other","exp":4102444800}`, `{"sub":"u_1","iss":"parley"}`,
		`{"sub":"u_1","iss":"parley","exp":"soon"}`, `{"sub":1}`, `[]`, `null`, ``, `{"exp":1e400}`,
		`{"sub":"u_1","iss":"parley","exp":4102444800,"nbf":4102444800}`,
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, claims []byte) {
		id, err := iss.Verify(signRaw(t, key, claims))
		if err != nil {
			checkTokenError(t, err)
			return
		}
		if id.UserID == "" || id.External || id.KeyID != "" {
			t.Fatalf("%s verified as %+v", claims, id)
		}
		if id.Guest != strings.HasPrefix(id.UserID, GuestIDPrefix) || (id.Guest && (id.SessionID != "" || id.Admin)) {
			t.Fatalf("%s verified as an inconsistent guest %+v", claims, id)
		}
	})
}

// FuzzExternalClaims signs fuzzed claims with an application's HS256
// secret and verifies them as an external token: what passes must meet
// every rule on sub, name and rooms; FuzzExternalVerify covers the token's
// own syntax.
func FuzzExternalClaims(f *testing.F) {
	secret := []byte(strings.Repeat("s", 32))
	v, err := NewExternalVerifier(ExternalConfig{Algorithm: "HS256", Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []string{
		`{"sub":"user-42","name":"Ada","rooms":["a","b"],"exp":4102444800}`,
		`{"sub":"user-42","exp":4102444800}`, `{"sub":"guest:x","exp":4102444800}`, `{"sub":"u_1","exp":4102444800}`,
		`{"sub":"a\u0000b","exp":4102444800}`, `{"sub":"x","name":"\u001b[31m","exp":4102444800}`,
		`{"sub":"x","rooms":[""],"exp":4102444800}`, `{"sub":"x","rooms":"lobby","exp":4102444800}`,
		`{"sub":"x","rooms":[1],"exp":4102444800}`, `{"sub":"x","exp":1}`, `{"sub":"x"}`, `{"sub":"x","exp":4102444800,"aud":["a"]}`,
		`{"sub":"` + strings.Repeat("x", 300) + `","exp":4102444800}`, `{}`, `null`,
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, claims []byte) {
		id, err := v.Verify(signRaw(t, secret, claims))
		if err != nil {
			checkTokenError(t, err)
			return
		}
		if id.UserID == "" || len(id.UserID) > MaxSubjectLen || !printable(id.UserID) || !id.External || id.Guest ||
			strings.HasPrefix(id.UserID, GuestIDPrefix) || strings.HasPrefix(id.UserID, AccountIDPrefix) {
			t.Fatalf("%s verified as %+v", claims, id)
		}
		if id.Name == "" || !printable(id.Name) || utf8.RuneCountInString(id.Name) > MaxDisplayNameLen || len(id.Rooms) > MaxTokenRooms {
			t.Fatalf("%s verified with name %q and %d rooms", claims, id.Name, len(id.Rooms))
		}
		for _, r := range id.Rooms {
			if r == "" || !printable(r) {
				t.Fatalf("%s verified with room %q", claims, r)
			}
		}
	})
}

// FuzzAPIKey parses fuzzed API keys: only NewAPIKey's form yields an id, the
// id is the key's own, and a key matches its own hash only.
func FuzzAPIKey(f *testing.F) {
	key, _, _, err := NewAPIKey()
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{key, key[:len(key)-1], key + "A", strings.ToUpper(key), "pk_", "",
		"pk_zzzzzzzzzzzzzzzzzzzz_" + strings.Repeat("A", 43), "pk_0123456789abcdef0123-" + strings.Repeat("A", 43)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		id, ok := ParseAPIKey(k)
		if ok != (id != "") {
			t.Fatalf("ParseAPIKey(%q) = %q, %v", k, id, ok)
		}
		if ok && (len(id) != keyIDLen || !strings.HasPrefix(k, APIKeyPrefix+id+"_")) {
			t.Fatalf("ParseAPIKey(%q) = %q: not the key's own id", k, id)
		}
		h := HashAPIKey(k)
		if !APIKeyMatches(k, h) || APIKeyMatches(k+"x", h) || APIKeyMatches(k, HashAPIKey(k+"x")) {
			t.Fatalf("key %q and its hash %s do not match one to one", k, h)
		}
	})
}

// FuzzParseJWKS reads fuzzed key sets for each algorithm external tokens
// may use: no panic, and every key it keeps fits the algorithm.
func FuzzParseJWKS(f *testing.F) {
	algs := []string{"RS256", "ES256", "EdDSA", "PS256", "ES384", "ES512", "RS512"}
	for _, doc := range []string{
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[]}`, `{"keys":[{},{}]}`, `{"keys":[{"kty":"RSA","n":"","e":""}]}`, `{"keys":[{"kty":"RSA","n":"AA","e":"AQAB","use":"enc"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`, `{"keys":null}`, `[]`, `null`, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}`,
	} {
		for i := range algs {
			f.Add(uint8(i), []byte(doc))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		alg := algs[int(which)%len(algs)]
		keys, err := parseJWKS(doc, alg)
		if err != nil {
			if keys != nil {
				t.Fatalf("parseJWKS gave keys with error %v", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatalf("parseJWKS(%s) gave no keys and no error", alg)
		}
		for kid, k := range keys {
			if err := keyFits(alg, k); err != nil {
				t.Fatalf("parseJWKS(%s) kept key %q that does not fit: %v", alg, kid, err)
			}
		}
	})
}
