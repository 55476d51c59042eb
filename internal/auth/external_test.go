package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKeys holds key pairs generated once for all external-token tests.
var testKeys = sync.OnceValue(func() (k struct {
	rsa, rsa2   *rsa.PrivateKey
	p256, p256b *ecdsa.PrivateKey
	p384        *ecdsa.PrivateKey
	ed, ed2     ed25519.PrivateKey
}) {
	var err error
	must := func(e error) {
		if e != nil {
			panic(e)
		}
	}
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p256b, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	_, k.ed2, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

func pemOf(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// jwkOf describes pub as a JSON Web Key; extra fields (kid, alg, use) are
// merged in.
func jwkOf(t testing.TB, pub crypto.PublicKey, extra map[string]string) map[string]string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]string{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", enc(k.N.Bytes()), enc(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(b) - 1) / 2
		m["kty"], m["crv"], m["x"], m["y"] = "EC", k.Curve.Params().Name, enc(b[1:1+size]), enc(b[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(k)
	}
	for key, v := range extra {
		m[key] = v
	}
	return m
}

func jwksOf(t testing.TB, keys ...map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mint signs claims with method and key, setting the kid header when kid is
// not empty.
func mint(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// claims returns valid claims for the test audience and issuer, changed by
// the edits (a nil value deletes the claim).
func claims(edits map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "user-42",
		"aud": "myapp",
		"iss": "https://app.example",
		"exp": time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestExternalHS256(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	v, err := NewExternalVerifier(ExternalConfig{Algorithm: "HS256", Secret: secret, Audience: "myapp", Issuer: "https://app.example"})
	if err != nil {
		t.Fatalf("NewExternalVerifier: %v", err)
	}
	hs := jwt.SigningMethodHS256
	tests := []struct {
		name  string
		token string
		want  Identity // checked when err is nil
		err   error
	}{
		{"minimal", mint(t, hs, secret, "", claims(nil)),
			Identity{UserID: "user-42", Name: "user-42", External: true}, nil},
		{"name and rooms", mint(t, hs, secret, "", claims(map[string]any{"name": "Ada", "rooms": []string{"general", "ops"}})),
			Identity{UserID: "user-42", Name: "Ada", External: true, Rooms: []string{"general", "ops"}}, nil},
		{"bidi override dropped from name", mint(t, hs, secret, "", claims(map[string]any{"name": "alice\u202egnp.exe"})),
			Identity{UserID: "user-42", Name: "alicegnp.exe", External: true}, nil},
		{"hidden-only name falls back to sub", mint(t, hs, secret, "", claims(map[string]any{"name": "\u2066\u200b"})),
			Identity{UserID: "user-42", Name: "user-42", External: true}, nil},
		{"empty rooms", mint(t, hs, secret, "", claims(map[string]any{"rooms": []string{}})),
			Identity{UserID: "user-42", Name: "user-42", External: true, Rooms: []string{}}, nil},
		{"audience in a list", mint(t, hs, secret, "", claims(map[string]any{"aud": []string{"other", "myapp"}})),
			Identity{UserID: "user-42", Name: "user-42", External: true}, nil},
		{"expired within leeway", mint(t, hs, secret, "", claims(map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()})),
			Identity{UserID: "user-42", Name: "user-42", External: true}, nil},

		{"wrong key", mint(t, hs, []byte(strings.Repeat("x", 32)), "", claims(nil)), Identity{}, ErrInvalidToken},
		{"wrong algorithm HS512", mint(t, jwt.SigningMethodHS512, secret, "", claims(nil)), Identity{}, ErrInvalidToken},
		{"alg none", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil)), Identity{}, ErrInvalidToken},
		{"expired", mint(t, hs, secret, "", claims(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), Identity{}, ErrTokenExpired},
		{"missing exp", mint(t, hs, secret, "", claims(map[string]any{"exp": nil})), Identity{}, ErrInvalidToken},
		{"not yet valid", mint(t, hs, secret, "", claims(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})), Identity{}, ErrInvalidToken},
		{"wrong audience", mint(t, hs, secret, "", claims(map[string]any{"aud": "otherapp"})), Identity{}, ErrInvalidToken},
		{"missing audience", mint(t, hs, secret, "", claims(map[string]any{"aud": nil})), Identity{}, ErrInvalidToken},
		{"wrong issuer", mint(t, hs, secret, "", claims(map[string]any{"iss": "https://evil.example"})), Identity{}, ErrInvalidToken},
		{"missing issuer", mint(t, hs, secret, "", claims(map[string]any{"iss": nil})), Identity{}, ErrInvalidToken},
		{"missing sub", mint(t, hs, secret, "", claims(map[string]any{"sub": nil})), Identity{}, ErrInvalidToken},
		{"guest sub", mint(t, hs, secret, "", claims(map[string]any{"sub": "guest:bob"})), Identity{}, ErrInvalidToken},
		{"system as sub", mint(t, hs, secret, "", claims(map[string]any{"sub": "system"})), Identity{}, ErrInvalidToken},
		{"account id as sub", mint(t, hs, secret, "", claims(map[string]any{"sub": "u_01jt8x3m4q7v0c9h2k5n6p8r1s"})), Identity{}, ErrInvalidToken},
		{"control in sub", mint(t, hs, secret, "", claims(map[string]any{"sub": "bob\n"})), Identity{}, ErrInvalidToken},
		{"long sub", mint(t, hs, secret, "", claims(map[string]any{"sub": strings.Repeat("a", MaxSubjectLen+1)})), Identity{}, ErrInvalidToken},
		{"long name", mint(t, hs, secret, "", claims(map[string]any{"name": strings.Repeat("é", MaxDisplayNameLen+1)})), Identity{}, ErrInvalidToken},
		{"rooms not an array", mint(t, hs, secret, "", claims(map[string]any{"rooms": "general"})), Identity{}, ErrInvalidToken},
		{"empty room name", mint(t, hs, secret, "", claims(map[string]any{"rooms": []string{""}})), Identity{}, ErrInvalidToken},
		{"exp as string", mint(t, hs, secret, "", claims(map[string]any{"exp": "tomorrow"})), Identity{}, ErrInvalidToken},
		{"garbage", "a.b.c", Identity{}, ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkExternal(t, v, tc.token, tc.want, tc.err)
		})
	}
}

func checkExternal(t *testing.T, v *ExternalVerifier, token string, want Identity, wantErr error) {
	t.Helper()
	id, err := v.Verify(token)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Verify = %+v, %v; want %v", id, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.UserID != want.UserID || id.Name != want.Name || !id.External || id.Guest || id.Admin ||
		id.SessionID != "" || id.ExpiresAt.IsZero() || (id.Rooms == nil) != (want.Rooms == nil) || !slices.Equal(id.Rooms, want.Rooms) {
		t.Fatalf("Verify = %+v, want %+v", id, want)
	}
}

// TestExternalPublicKey covers RS256, ES256 and EdDSA, each with a PEM key
// and with a JWKS, against genuine and forged tokens.
func TestExternalPublicKey(t *testing.T) {
	k := testKeys()
	rsaPEM := pemOf(t, &k.rsa.PublicKey)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	ok := Identity{UserID: "user-42", Name: "user-42", External: true}

	type tokenCase struct {
		name  string
		token string
		err   error
	}
	suites := []struct {
		name   string
		cfg    ExternalConfig
		tokens []tokenCase
	}{
		{"RS256 PEM", ExternalConfig{Algorithm: "RS256", PublicKeyPEM: rsaPEM, Audience: "myapp"}, []tokenCase{
			{"genuine", mint(t, jwt.SigningMethodRS256, k.rsa, "", claims(nil)), nil},
			{"genuine with any kid", mint(t, jwt.SigningMethodRS256, k.rsa, "whatever", claims(nil)), nil},
			{"other RSA key", mint(t, jwt.SigningMethodRS256, k.rsa2, "", claims(nil)), ErrInvalidToken},
			{"RS512 by the right key", mint(t, jwt.SigningMethodRS512, k.rsa, "", claims(nil)), ErrInvalidToken},
			{"HS256 with the PEM as secret", mint(t, jwt.SigningMethodHS256, rsaPEM, "", claims(nil)), ErrInvalidToken},
			{"HS256 with the DER as secret", mint(t, jwt.SigningMethodHS256, rsaDER, "", claims(nil)), ErrInvalidToken},
			{"alg none", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil)), ErrInvalidToken},
			{"ES256", mint(t, jwt.SigningMethodES256, k.p256, "", claims(nil)), ErrInvalidToken},
			{"expired", mint(t, jwt.SigningMethodRS256, k.rsa, "", claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})), ErrTokenExpired},
			{"missing exp", mint(t, jwt.SigningMethodRS256, k.rsa, "", claims(map[string]any{"exp": nil})), ErrInvalidToken},
			{"wrong audience", mint(t, jwt.SigningMethodRS256, k.rsa, "", claims(map[string]any{"aud": "x"})), ErrInvalidToken},
		}},
		{"RS256 JWKS", ExternalConfig{Algorithm: "RS256", JWKS: jwksOf(t,
			jwkOf(t, &k.rsa.PublicKey, map[string]string{"kid": "r1", "alg": "RS256", "use": "sig"}),
			jwkOf(t, &k.rsa2.PublicKey, map[string]string{"kid": "r2"}),
			jwkOf(t, &k.p256.PublicKey, map[string]string{"kid": "ec"}),                   // wrong kty: ignored
			jwkOf(t, &k.rsa2.PublicKey, map[string]string{"kid": "r512", "alg": "RS512"}), // wrong alg: ignored
			jwkOf(t, &k.rsa2.PublicKey, map[string]string{"kid": "enc", "use": "enc"}),    // wrong use: ignored
		)}, []tokenCase{
			{"kid r1", mint(t, jwt.SigningMethodRS256, k.rsa, "r1", claims(nil)), nil},
			{"kid r2", mint(t, jwt.SigningMethodRS256, k.rsa2, "r2", claims(nil)), nil},
			{"kid r1 signed by r2", mint(t, jwt.SigningMethodRS256, k.rsa2, "r1", claims(nil)), ErrInvalidToken},
			{"unknown kid", mint(t, jwt.SigningMethodRS256, k.rsa, "r9", claims(nil)), ErrInvalidToken},
			{"no kid among several keys", mint(t, jwt.SigningMethodRS256, k.rsa, "", claims(nil)), ErrInvalidToken},
			{"kid of an ignored RS512 key", mint(t, jwt.SigningMethodRS256, k.rsa2, "r512", claims(nil)), ErrInvalidToken},
			{"kid of an ignored enc key", mint(t, jwt.SigningMethodRS256, k.rsa2, "enc", claims(nil)), ErrInvalidToken},
			{"kid of an ignored EC key", mint(t, jwt.SigningMethodES256, k.p256, "ec", claims(nil)), ErrInvalidToken},
			{"HS256 with the PEM as secret", mint(t, jwt.SigningMethodHS256, rsaPEM, "r1", claims(nil)), ErrInvalidToken},
			{"alg none", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "r1", claims(nil)), ErrInvalidToken},
		}},
		{"ES256 PEM", ExternalConfig{Algorithm: "ES256", PublicKeyPEM: pemOf(t, &k.p256.PublicKey), Issuer: "https://app.example"}, []tokenCase{
			{"genuine", mint(t, jwt.SigningMethodES256, k.p256, "", claims(nil)), nil},
			{"other P-256 key", mint(t, jwt.SigningMethodES256, k.p256b, "", claims(nil)), ErrInvalidToken},
			{"ES384", mint(t, jwt.SigningMethodES384, k.p384, "", claims(nil)), ErrInvalidToken},
			{"HS256 with the PEM as secret", mint(t, jwt.SigningMethodHS256, pemOf(t, &k.p256.PublicKey), "", claims(nil)), ErrInvalidToken},
			{"wrong issuer", mint(t, jwt.SigningMethodES256, k.p256, "", claims(map[string]any{"iss": "x"})), ErrInvalidToken},
		}},
		{"ES256 JWKS", ExternalConfig{Algorithm: "ES256", JWKS: jwksOf(t,
			jwkOf(t, &k.p256.PublicKey, map[string]string{"kid": "e1"}),
			jwkOf(t, &k.p384.PublicKey, map[string]string{"kid": "e384"}), // wrong curve: ignored
		)}, []tokenCase{
			{"genuine", mint(t, jwt.SigningMethodES256, k.p256, "e1", claims(nil)), nil},
			{"genuine without kid, one key fits", mint(t, jwt.SigningMethodES256, k.p256, "", claims(nil)), nil},
			{"genuine under an unknown kid", mint(t, jwt.SigningMethodES256, k.p256, "e2", claims(nil)), ErrInvalidToken},
			{"other key", mint(t, jwt.SigningMethodES256, k.p256b, "e1", claims(nil)), ErrInvalidToken},
			{"kid of the ignored P-384 key", mint(t, jwt.SigningMethodES384, k.p384, "e384", claims(nil)), ErrInvalidToken},
		}},
		{"ES256 JWKS one kid-less key", ExternalConfig{Algorithm: "ES256", JWKS: jwksOf(t,
			jwkOf(t, &k.p256.PublicKey, nil),
		)}, []tokenCase{
			{"genuine without kid", mint(t, jwt.SigningMethodES256, k.p256, "", claims(nil)), nil},
			{"genuine with a kid", mint(t, jwt.SigningMethodES256, k.p256, "k7", claims(nil)), nil},
			{"other key", mint(t, jwt.SigningMethodES256, k.p256b, "", claims(nil)), ErrInvalidToken},
		}},
		{"EdDSA PEM", ExternalConfig{Algorithm: "EdDSA", PublicKeyPEM: pemOf(t, k.ed.Public())}, []tokenCase{
			{"genuine", mint(t, jwt.SigningMethodEdDSA, k.ed, "", claims(nil)), nil},
			{"other key", mint(t, jwt.SigningMethodEdDSA, k.ed2, "", claims(nil)), ErrInvalidToken},
			{"HS256 with the PEM as secret", mint(t, jwt.SigningMethodHS256, pemOf(t, k.ed.Public()), "", claims(nil)), ErrInvalidToken},
			{"expired", mint(t, jwt.SigningMethodEdDSA, k.ed, "", claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})), ErrTokenExpired},
		}},
		{"EdDSA JWKS", ExternalConfig{Algorithm: "EdDSA", JWKS: jwksOf(t,
			jwkOf(t, k.ed.Public(), map[string]string{"kid": "d1", "alg": "EdDSA"}),
			jwkOf(t, k.ed2.Public(), map[string]string{"kid": "d2", "crv": "X25519"}), // wrong curve: ignored
		)}, []tokenCase{
			{"genuine", mint(t, jwt.SigningMethodEdDSA, k.ed, "d1", claims(nil)), nil},
			{"kid of the ignored key", mint(t, jwt.SigningMethodEdDSA, k.ed2, "d2", claims(nil)), ErrInvalidToken},
			{"other key under d1", mint(t, jwt.SigningMethodEdDSA, k.ed2, "d1", claims(nil)), ErrInvalidToken},
		}},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			v, err := NewExternalVerifier(s.cfg)
			if err != nil {
				t.Fatalf("NewExternalVerifier: %v", err)
			}
			for _, tc := range s.tokens {
				t.Run(tc.name, func(t *testing.T) {
					checkExternal(t, v, tc.token, ok, tc.err)
				})
			}
		})
	}
}

func TestExternalConfigRefused(t *testing.T) {
	k := testKeys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(strings.Repeat("s", 32))
	rsaPEM := pemOf(t, &k.rsa.PublicKey)
	tests := []struct {
		name string
		cfg  ExternalConfig
	}{
		{"no algorithm", ExternalConfig{Secret: secret}},
		{"alg none", ExternalConfig{Algorithm: "none", Secret: secret}},
		{"unsupported PS256", ExternalConfig{Algorithm: "PS256", PublicKeyPEM: rsaPEM}},
		{"lower-case hs256", ExternalConfig{Algorithm: "hs256", Secret: secret}},
		{"HS256 short secret", ExternalConfig{Algorithm: "HS256", Secret: secret[:31]}},
		{"HS384 with 32 bytes", ExternalConfig{Algorithm: "HS384", Secret: secret}},
		{"HS512 with 63 bytes", ExternalConfig{Algorithm: "HS512", Secret: []byte(strings.Repeat("s", 63))}},
		{"HS256 without secret", ExternalConfig{Algorithm: "HS256"}},
		{"HS256 with a public key", ExternalConfig{Algorithm: "HS256", Secret: secret, PublicKeyPEM: rsaPEM}},
		{"RS256 with a secret", ExternalConfig{Algorithm: "RS256", Secret: secret, PublicKeyPEM: rsaPEM}},
		{"RS256 with a secret only", ExternalConfig{Algorithm: "RS256", Secret: rsaPEM}},
		{"RS256 without key", ExternalConfig{Algorithm: "RS256"}},
		{"RS256 with PEM and JWKS", ExternalConfig{Algorithm: "RS256", PublicKeyPEM: rsaPEM, JWKS: jwksOf(t, jwkOf(t, &k.rsa.PublicKey, nil))}},
		{"RS256 with an EC key", ExternalConfig{Algorithm: "RS256", PublicKeyPEM: pemOf(t, &k.p256.PublicKey)}},
		{"RS256 with a 1024-bit key", ExternalConfig{Algorithm: "RS256", PublicKeyPEM: pemOf(t, &small.PublicKey)}},
		{"ES256 with a P-384 key", ExternalConfig{Algorithm: "ES256", PublicKeyPEM: pemOf(t, &k.p384.PublicKey)}},
		{"ES384 with a P-256 key", ExternalConfig{Algorithm: "ES384", PublicKeyPEM: pemOf(t, &k.p256.PublicKey)}},
		{"EdDSA with an RSA key", ExternalConfig{Algorithm: "EdDSA", PublicKeyPEM: rsaPEM}},
		{"PEM private key", ExternalConfig{Algorithm: "EdDSA", PublicKeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}},
		{"not PEM", ExternalConfig{Algorithm: "RS256", PublicKeyPEM: []byte("hello")}},
		{"JWKS not JSON", ExternalConfig{Algorithm: "RS256", JWKS: []byte("{")}},
		{"JWKS without fitting key", ExternalConfig{Algorithm: "RS256", JWKS: jwksOf(t, jwkOf(t, &k.p256.PublicKey, nil))}},
		{"JWKS duplicate kid", ExternalConfig{Algorithm: "RS256", JWKS: jwksOf(t,
			jwkOf(t, &k.rsa.PublicKey, map[string]string{"kid": "a"}), jwkOf(t, &k.rsa2.PublicKey, map[string]string{"kid": "a"}))}},
		{"JWKS kid-less key among others", ExternalConfig{Algorithm: "RS256", JWKS: jwksOf(t,
			jwkOf(t, &k.rsa.PublicKey, nil), jwkOf(t, &k.rsa2.PublicKey, map[string]string{"kid": "b"}))}},
		{"JWKS EC point off the curve", ExternalConfig{Algorithm: "ES256", JWKS: jwksOf(t,
			jwkOf(t, &k.p256.PublicKey, map[string]string{"y": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if v, err := NewExternalVerifier(tc.cfg); err == nil {
				t.Fatalf("NewExternalVerifier accepted the config: %+v", v)
			}
		})
	}
}

// TestExternalAlgorithms checks every supported algorithm end to end with a
// PEM key or a secret of the minimum size.
func TestExternalAlgorithms(t *testing.T) {
	k := testKeys()
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s48, s64 := []byte(strings.Repeat("4", 48)), []byte(strings.Repeat("6", 64))
	tests := []struct {
		alg    string
		method jwt.SigningMethod
		sign   any
		cfg    ExternalConfig
	}{
		{"HS256", jwt.SigningMethodHS256, s64[:32], ExternalConfig{Secret: s64[:32]}},
		{"HS384", jwt.SigningMethodHS384, s48, ExternalConfig{Secret: s48}},
		{"HS512", jwt.SigningMethodHS512, s64, ExternalConfig{Secret: s64}},
		{"RS256", jwt.SigningMethodRS256, k.rsa, ExternalConfig{PublicKeyPEM: pemOf(t, &k.rsa.PublicKey)}},
		{"RS384", jwt.SigningMethodRS384, k.rsa, ExternalConfig{PublicKeyPEM: pemOf(t, &k.rsa.PublicKey)}},
		{"RS512", jwt.SigningMethodRS512, k.rsa, ExternalConfig{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})}},
		{"ES256", jwt.SigningMethodES256, k.p256, ExternalConfig{PublicKeyPEM: pemOf(t, &k.p256.PublicKey)}},
		{"ES384", jwt.SigningMethodES384, k.p384, ExternalConfig{PublicKeyPEM: pemOf(t, &k.p384.PublicKey)}},
		{"ES512", jwt.SigningMethodES512, p521, ExternalConfig{JWKS: jwksOf(t, jwkOf(t, &p521.PublicKey, map[string]string{"kid": "p521"}))}},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, ExternalConfig{PublicKeyPEM: pemOf(t, k.ed.Public())}},
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			tc.cfg.Algorithm = tc.alg
			v, err := NewExternalVerifier(tc.cfg)
			if err != nil {
				t.Fatalf("NewExternalVerifier: %v", err)
			}
			tok := mint(t, tc.method, tc.sign, "p521", claims(map[string]any{"aud": nil, "iss": nil}))
			checkExternal(t, v, tok, Identity{UserID: "user-42", Name: "user-42", External: true}, nil)
		})
	}
}

func FuzzExternalVerify(f *testing.F) {
	secret := []byte(strings.Repeat("s", 32))
	v, err := NewExternalVerifier(ExternalConfig{Algorithm: "HS256", Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mint(f, jwt.SigningMethodHS256, secret, "", claims(map[string]any{"name": "Ada", "rooms": []string{"a"}})))
	f.Add(mint(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(nil)))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if id.UserID == "" || !id.External {
			t.Fatalf("accepted %q as %+v", token, id)
		}
	})
}

// TestExternalTokenOfTheLongestLengthIsVerified: a genuine token of
// exactly MaxTokenLen bytes is verified, and one byte longer it is refused
// before it is parsed. (The padding claim is one Verify ignores; base64
// cannot reach every length, so the kid header moves the token by one.)
func TestExternalTokenOfTheLongestLengthIsVerified(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	v, err := NewExternalVerifier(ExternalConfig{Algorithm: "HS256", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	sized := func(n int) string {
		t.Helper()
		for pad := n*3/4 - 300; pad < n; pad++ { // base64 makes 4 bytes of 3
			for _, kid := range []string{"", "k", "kk"} {
				if tok := mint(t, jwt.SigningMethodHS256, secret, kid, claims(map[string]any{"pad": strings.Repeat("p", pad)})); len(tok) == n {
					return tok
				}
			}
		}
		t.Fatalf("no token of %d bytes", n)
		return ""
	}
	checkExternal(t, v, sized(MaxTokenLen), Identity{UserID: "user-42", Name: "user-42", External: true}, nil)
	_, err = v.Verify(sized(MaxTokenLen + 1))
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "want at most") {
		t.Fatalf("a token one byte too long: %v, want ErrInvalidToken for its size", err)
	}
}
