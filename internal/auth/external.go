package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/protocol"
)

// Limits on what an external token may carry.
const (
	// MaxSubjectLen is the longest sub claim accepted, in bytes.
	MaxSubjectLen = 256
	// MaxDisplayNameLen is the longest name claim accepted, in characters.
	MaxDisplayNameLen = 64
	// MaxTokenRooms is the most entries a rooms claim may list.
	MaxTokenRooms = 1000
	// MinRSABits is the smallest RSA modulus accepted for RS256/384/512.
	MinRSABits = 2048
)

// ExternalConfig configures verification of tokens minted by an integrating
// app's backend. Exactly one kind of key must be given: Secret for the HS
// algorithms, PublicKeyPEM or JWKS for the others.
type ExternalConfig struct {
	// Algorithm is the one JWS algorithm accepted: HS256, HS384, HS512,
	// RS256, RS384, RS512, ES256, ES384, ES512 or EdDSA. Tokens whose header
	// names any other algorithm, "none" included, are refused.
	Algorithm string
	// Secret is the shared HMAC key for HS256/384/512: at least as long as
	// the hash (RFC 7518 §3.2), so 32, 48 or 64 bytes. It is used as given;
	// a hex string from `openssl rand -hex 32` is 64 bytes of key.
	Secret []byte
	// PublicKeyPEM is a PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS #1)
	// or "CERTIFICATE" block whose key fits Algorithm: RSA of at least 2048
	// bits for RS*, the matching curve for ES* (P-256, P-384, P-521), Ed25519
	// for EdDSA. Only the first block is read; a token's kid header is
	// ignored.
	PublicKeyPEM []byte
	// JWKS is a JSON Web Key Set ({"keys":[…]}). Keys whose kty, crv, alg or
	// use do not fit Algorithm are ignored; at least one must fit. A token's
	// kid header picks the key. When exactly one key fits, it also verifies
	// tokens without a kid, and a key without a kid verifies any token; a key
	// without a kid beside other fitting keys is a configuration error.
	JWKS []byte
	// Audience, when set, must appear in the token's aud claim.
	Audience string
	// Issuer, when set, must equal the token's iss claim.
	Issuer string
}

// minSecretLen is the shortest secret each HS algorithm accepts.
var minSecretLen = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// externalAlgorithms lists the algorithms ExternalConfig.Algorithm accepts.
var externalAlgorithms = map[string]bool{
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// ExternalVerifier checks tokens minted by an integrating app's backend
// against one pinned algorithm and key set. It is safe for concurrent use.
// Its keys are fixed at construction: to rotate, build a new verifier.
type ExternalVerifier struct {
	alg    string
	secret []byte                      // HS*
	single crypto.PublicKey            // a PEM key: used whatever the token's kid
	keys   map[string]crypto.PublicKey // JWKS keys that fit alg, by kid ("" for a lone kid-less key)
	parser *jwt.Parser
	now    func() time.Time // time.Now outside tests
}

// NewExternalVerifier checks cfg and returns a verifier for it. It refuses an
// unknown algorithm, a missing, short or misplaced key (a Secret with RS256,
// a PEM key with HS256), a PEM key of the wrong type or curve, and a JWKS in
// which no key fits the algorithm.
func NewExternalVerifier(cfg ExternalConfig) (*ExternalVerifier, error) {
	alg := cfg.Algorithm
	if !externalAlgorithms[alg] {
		return nil, fmt.Errorf("auth: external tokens: algorithm %q, want one of HS256/384/512, RS256/384/512, ES256/384/512, EdDSA", alg)
	}
	v := &ExternalVerifier{alg: alg, now: time.Now}
	if strings.HasPrefix(alg, "HS") {
		if len(cfg.PublicKeyPEM) > 0 || len(cfg.JWKS) > 0 {
			return nil, fmt.Errorf("auth: external tokens: %s takes a secret, not a public key or JWKS", alg)
		}
		if want := minSecretLen[alg]; len(cfg.Secret) < want {
			return nil, fmt.Errorf("auth: external tokens: %s secret is %d bytes, want at least %d", alg, len(cfg.Secret), want)
		}
		v.secret = append([]byte(nil), cfg.Secret...)
	} else {
		if len(cfg.Secret) > 0 {
			return nil, fmt.Errorf("auth: external tokens: %s takes a public key or JWKS, not a secret", alg)
		}
		switch {
		case len(cfg.PublicKeyPEM) > 0 && len(cfg.JWKS) > 0:
			return nil, fmt.Errorf("auth: external tokens: give a public key or a JWKS, not both")
		case len(cfg.PublicKeyPEM) > 0:
			key, err := parsePublicKeyPEM(cfg.PublicKeyPEM)
			if err != nil {
				return nil, fmt.Errorf("auth: external tokens: %w", err)
			}
			if err := keyFits(alg, key); err != nil {
				return nil, fmt.Errorf("auth: external tokens: public key: %w", err)
			}
			v.single = key
		case len(cfg.JWKS) > 0:
			keys, err := parseJWKS(cfg.JWKS, alg)
			if err != nil {
				return nil, fmt.Errorf("auth: external tokens: %w", err)
			}
			v.keys = keys
		default:
			return nil, fmt.Errorf("auth: external tokens: %s needs a public key (PEM) or a JWKS", alg)
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{alg}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// externalClaims are the claims read from an external token.
type externalClaims struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
	jwt.RegisteredClaims
}

// Verify checks an external token and returns its Identity: UserID is the
// sub claim as is, Name the name claim (sub when absent) without the hidden
// characters protocol.StripHidden drops, Rooms the rooms
// claim (nil when absent), External true, ExpiresAt from exp. Refused, with
// an error wrapping ErrInvalidToken: any algorithm but the pinned one
// ("none" and HMAC-signed tokens against a public-key verifier included), a
// bad signature, an unknown kid, a missing exp or sub, a wrong aud or iss
// (when configured), a token not yet valid (nbf), a sub longer than
// MaxSubjectLen, holding control characters or starting with "guest:", a
// name longer than MaxDisplayNameLen or holding control characters, a sub
// starting with AccountIDPrefix (reserved for accounts), and a
// rooms claim that is not an array of non-empty strings or has more than
// MaxTokenRooms entries. An expired token wraps ErrTokenExpired.
func (v *ExternalVerifier) Verify(token string) (Identity, error) {
	if len(token) > MaxTokenLen {
		return Identity{}, fmt.Errorf("auth: verify external token: %d bytes, want at most %d: %w", len(token), MaxTokenLen, ErrInvalidToken)
	}
	var c externalClaims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFor); err != nil {
		return Identity{}, tokenError("verify external token", err)
	}
	if err := checkExternalClaims(&c); err != nil {
		return Identity{}, fmt.Errorf("auth: verify external token: %w: %w", err, ErrInvalidToken)
	}
	// The integrating app vouches for its users' names; Parley does not
	// refuse a token for a name its user may not be able to change, but
	// drops the characters that would disguise it (bidi overrides and
	// other hidden formatting, see protocol.IsHiddenRune). Such names are
	// not checked for look-alikes: the app owns its namespace, and
	// Parley's own usernames are a separate one (ids never collide).
	name := protocol.StripHidden(c.Name)
	if name == "" {
		name = protocol.StripHidden(c.Subject)
	}
	return Identity{
		UserID:    c.Subject,
		Name:      name,
		External:  true,
		Rooms:     c.Rooms,
		ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// keyFor is the jwt.Keyfunc: it hands back only the key of the pinned type,
// so even a token that slipped past the method check could not be verified
// with the wrong kind of key.
func (v *ExternalVerifier) keyFor(t *jwt.Token) (any, error) {
	if t.Method.Alg() != v.alg { // WithValidMethods already refused it; belt and braces
		return nil, fmt.Errorf("algorithm %q, want %q", t.Method.Alg(), v.alg)
	}
	if v.secret != nil {
		return v.secret, nil
	}
	if v.single != nil {
		return v.single, nil
	}
	kid, _ := t.Header["kid"].(string)
	if key, ok := v.keys[kid]; ok {
		return key, nil
	}
	if len(v.keys) == 1 {
		for only, key := range v.keys {
			if kid == "" || only == "" {
				return key, nil
			}
		}
	}
	if kid == "" {
		return nil, fmt.Errorf("token has no kid and %d keys fit", len(v.keys))
	}
	return nil, fmt.Errorf("no key with kid %q", kid)
}

// checkExternalClaims applies the rules on sub, name and rooms.
func checkExternalClaims(c *externalClaims) error {
	switch {
	case c.Subject == "":
		return fmt.Errorf("no sub claim")
	case len(c.Subject) > MaxSubjectLen:
		return fmt.Errorf("sub is %d bytes, want at most %d", len(c.Subject), MaxSubjectLen)
	case !printable(c.Subject):
		return fmt.Errorf("sub holds control characters")
	case strings.HasPrefix(c.Subject, GuestIDPrefix):
		return fmt.Errorf("sub %q starts with %q, reserved for guests", c.Subject, GuestIDPrefix)
	case c.Subject == protocol.SystemUserID:
		return fmt.Errorf("sub %q is reserved for messages the application posts as itself", c.Subject)
	case strings.HasPrefix(c.Subject, AccountIDPrefix):
		return fmt.Errorf("sub %q starts with %q, reserved for Parley's own accounts", c.Subject, AccountIDPrefix)
	case utf8.RuneCountInString(c.Name) > MaxDisplayNameLen:
		return fmt.Errorf("name is longer than %d characters", MaxDisplayNameLen)
	case !printable(c.Name):
		return fmt.Errorf("name holds control characters")
	case len(c.Rooms) > MaxTokenRooms:
		return fmt.Errorf("rooms lists %d entries, want at most %d", len(c.Rooms), MaxTokenRooms)
	}
	for _, r := range c.Rooms {
		if r == "" || !printable(r) {
			return fmt.Errorf("rooms holds an empty name or control characters")
		}
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// parsePublicKeyPEM reads the first PEM block of b as a PKIX public key, a
// PKCS #1 RSA public key or a certificate.
func parsePublicKeyPEM(b []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("public key: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return key, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return key, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: certificate: %w", err)
		}
		return cert.PublicKey, nil
	default:
		return nil, fmt.Errorf("public key: PEM block %q, want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
}

// curveFor names the curve each ES algorithm uses.
var curveFor = map[string]elliptic.Curve{
	"ES256": elliptic.P256(),
	"ES384": elliptic.P384(),
	"ES512": elliptic.P521(),
}

// keyFits checks that key is the kind of public key alg verifies with.
func keyFits(alg string, key crypto.PublicKey) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(alg, "RS") {
			return fmt.Errorf("RSA key does not fit %s", alg)
		}
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key has %d bits, want at least %d", k.N.BitLen(), MinRSABits)
		}
	case *ecdsa.PublicKey:
		if curveFor[alg] != k.Curve {
			return fmt.Errorf("EC key on %s does not fit %s", k.Curve.Params().Name, alg)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return fmt.Errorf("Ed25519 key does not fit %s", alg)
		}
	default:
		return fmt.Errorf("key of type %T does not fit %s", key, alg)
	}
	return nil
}
