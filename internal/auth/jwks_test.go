package auth

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"testing"
)

// TestJWKSTakesRSAExponentsFrom3To2Pow31Minus1: an RSA key of a JWKS is
// used when its public exponent is from 3 to 2^31-1, the range Go's
// crypto/rsa verifies with, and skipped (here: no key fits) outside it.
func TestJWKSTakesRSAExponentsFrom3To2Pow31Minus1(t *testing.T) {
	k := testKeys()
	for _, tc := range []struct {
		e    int64
		used bool
	}{{2, false}, {3, true}, {65537, true}, {1<<31 - 1, true}, {1 << 31, false}} {
		t.Run(fmt.Sprint("e=", tc.e), func(t *testing.T) {
			key := jwkOf(t, &k.rsa.PublicKey, map[string]string{
				"kid": "r1", "e": base64.RawURLEncoding.EncodeToString(big.NewInt(tc.e).Bytes())})
			keys, err := parseJWKS(jwksOf(t, key), "RS256")
			if used := err == nil && keys["r1"] != nil; used != tc.used {
				t.Fatalf("exponent %d: keys %v, err %v; want used %v", tc.e, keys, err, tc.used)
			}
		})
	}
}
