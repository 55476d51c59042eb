package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// jwk is the subset of a JSON Web Key (RFC 7517, 7518, 8037) Parley reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the keys of a JSON Web Key Set that fit alg, by kid. A key
// is skipped when its kty or crv is not the one alg needs, when its alg is set
// and differs, when its use is set and is not "sig", or when its parameters do
// not make a valid key of the right size. A kid-less key is kept only when it
// is the only key that fits. No fitting key, or two fitting keys with the
// same kid, is an error.
func parseJWKS(b []byte, alg string) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys := make(map[string]crypto.PublicKey)
	for _, k := range set.Keys {
		if (k.Alg != "" && k.Alg != alg) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		key, ok := k.publicKey(alg)
		if !ok || keyFits(alg, key) != nil {
			continue
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("JWKS: two %s keys with kid %q", alg, k.Kid)
		}
		keys[k.Kid] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("JWKS: no key fits %s", alg)
	}
	if _, ok := keys[""]; ok && len(keys) > 1 {
		return nil, fmt.Errorf("JWKS: a %s key without kid is allowed only as the only key", alg)
	}
	return keys, nil
}

// publicKey builds the key k describes if its kty and crv are those alg
// needs.
func (k jwk) publicKey(alg string) (crypto.PublicKey, bool) {
	switch {
	case k.Kty == "RSA" && alg[:2] == "RS":
		n, ok1 := b64uInt(k.N)
		e, ok2 := b64uInt(k.E)
		if !ok1 || !ok2 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, false
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, true
	case k.Kty == "EC" && alg[:2] == "ES":
		curve, ok := curveFor[alg]
		if !ok || k.Crv != curve.Params().Name {
			return nil, false
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, false
		}
		point := append(append([]byte{4}, x...), y...)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point) // checks the point is on the curve
		if err != nil {
			return nil, false
		}
		return key, true
	case k.Kty == "OKP" && alg == "EdDSA" && k.Crv == "Ed25519":
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, false
		}
		return ed25519.PublicKey(x), true
	}
	return nil, false
}

// b64uInt decodes an unsigned big-endian integer in base64url without padding.
func b64uInt(s string) (*big.Int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return new(big.Int).SetBytes(b), true
}
