package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/durable"
)

// Defaults and limits for Parley's own tokens.
const (
	// DefaultAccessTTL is how long an access token lives when NewIssuer is
	// given a ttl of zero or less. Short, because a token stays valid until
	// it expires unless its session is checked.
	DefaultAccessTTL = 15 * time.Minute
	// DefaultIssuer is the iss claim when NewIssuer is given "".
	DefaultIssuer = "parley"
	// MinKeyLen is the shortest HMAC key accepted, in bytes.
	MinKeyLen = 32
	// Leeway is the clock skew allowed when checking exp, nbf and iat, for
	// own and external tokens alike.
	Leeway = 30 * time.Second
	// MaxTokenLen is the longest token, in bytes, that is parsed at all.
	MaxTokenLen = 8 << 10
)

// keyFileLen is the number of random bytes LoadOrCreateKey generates.
const keyFileLen = 32

// LoadOrCreateKey returns the HMAC key stored in the file at path, creating
// the file first with 32 random bytes if it does not exist (created is then
// true). The file holds the key as hex (64 characters and a newline;
// surrounding white space is ignored when reading) and is created with mode
// 0600. Its directory must exist: a mistyped path must not quietly become a
// new key that no other node shares. A key shorter than MinKeyLen bytes, or
// a file that is not hex, is an error. Two processes racing to create the
// file agree on one key: the file is written aside and linked into place.
// A key it returns is durable: the file and its directory are synced, so a
// power cut cannot lose a key that tokens were signed with.
func LoadOrCreateKey(path string) (key []byte, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return key, false, err
	}
	dir := filepath.Dir(path)
	key = make([]byte, keyFileLen)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("auth: generate key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".parley-key-*")
	if err != nil {
		return nil, false, fmt.Errorf("auth: create key file in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync() // CreateTemp already made it 0600
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			key, err := LoadKey(path) // another process won the race
			if err == nil {
				err = durable.SyncDir(dir) // its name may not be durable yet
			}
			return key, false, err
		}
		return nil, false, fmt.Errorf("auth: install key file: %w", err)
	}
	// The new name is durable only once the directory is synced: without
	// it a power cut can lose the key after tokens were signed with it,
	// and the next start would make another that rejects them all.
	os.Remove(tmp.Name())
	if err := durable.SyncDir(dir); err != nil {
		return nil, false, fmt.Errorf("auth: %w", err)
	}
	return key, true, nil
}

// LoadKey reads a hex key file as LoadOrCreateKey writes it. A missing file
// gives an error wrapping os.ErrNotExist; a file that is not hex or holds
// fewer than MinKeyLen bytes is an error too.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("auth: key file %s is not hex", path)
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("auth: key file %s holds %d bytes, want at least %d", path, len(key), MinKeyLen)
	}
	return key, nil
}

// accessClaims are the claims of Parley's own access tokens.
type accessClaims struct {
	Name      string `json:"name"`
	SessionID string `json:"sid,omitempty"`
	Admin     bool   `json:"adm,omitempty"`
	Guest     bool   `json:"gst,omitempty"`
	jwt.RegisteredClaims
}

// Issuer signs and verifies Parley's own access tokens: HS256 JWTs carrying
// sub (user id), name, sid (session id), adm (admin flag, only when true),
// iss, iat and exp. An Issuer is safe for concurrent use.
type Issuer struct {
	key    []byte
	ttl    time.Duration
	issuer string
	parser *jwt.Parser
	now    func() time.Time // time.Now outside tests
}

// NewIssuer returns an Issuer signing with key (at least MinKeyLen bytes, or
// Issue and Verify fail), giving tokens a life of ttl (DefaultAccessTTL when
// ttl <= 0) and the iss claim issuer (DefaultIssuer when ""). Verify pins
// HS256, requires exp and the same iss, and allows Leeway of clock skew.
func NewIssuer(key []byte, ttl time.Duration, issuer string) *Issuer {
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	i := &Issuer{key: append([]byte(nil), key...), ttl: ttl, issuer: issuer, now: time.Now}
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return i.now() }),
	)
	return i
}

// TTL returns the life of the access tokens this Issuer signs.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue signs an access token for userID, displayed as name, tied to the
// sign-in session sessionID, with the admin flag when admin is true. It
// returns the token and its expiry.
func (i *Issuer) Issue(userID, name, sessionID string, admin bool) (token string, exp time.Time, err error) {
	if len(i.key) < MinKeyLen {
		return "", time.Time{}, fmt.Errorf("auth: issue token: key is %d bytes, want at least %d", len(i.key), MinKeyLen)
	}
	if userID == "" {
		return "", time.Time{}, fmt.Errorf("auth: issue token: empty user id")
	}
	now := i.now().Truncate(time.Second)
	exp = now.Add(i.ttl)
	claims := accessClaims{
		Name:      name,
		SessionID: sessionID,
		Admin:     admin,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token for %q: %w", userID, err)
	}
	return token, exp, nil
}

// IssueGuest signs a guest token for the guest id (from GuestIdentity),
// valid for ttl: presented as an access token, it makes a new connection
// the same guest again, for example after a dropped connection. It carries
// the gst claim and no session, and is never an account's token.
func (i *Issuer) IssueGuest(id Identity, ttl time.Duration) (string, error) {
	if !id.Guest || !strings.HasPrefix(id.UserID, GuestIDPrefix) {
		return "", fmt.Errorf("auth: issue guest token: %q is not a guest", id.UserID)
	}
	if len(i.key) < MinKeyLen {
		return "", fmt.Errorf("auth: issue guest token: key is %d bytes, want at least %d", len(i.key), MinKeyLen)
	}
	now := i.now().Truncate(time.Second)
	claims := accessClaims{
		Name:  id.Name,
		Guest: true,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   id.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign guest token: %w", err)
	}
	return token, nil
}

// Verify checks an access token signed by this Issuer and returns its
// Identity (UserID, Name, SessionID, Admin, ExpiresAt; Rooms nil; Guest
// for a token from IssueGuest, whose ExpiresAt is left zero: a guest's
// connection does not end with its token). An
// expired token gives an error wrapping ErrTokenExpired; any other fault
// (malformed, bad signature, another algorithm, missing exp or sub, wrong
// iss) wraps ErrInvalidToken. Verify does not check that the session still
// exists; callers that need revocation look SessionID up in the store.
func (i *Issuer) Verify(token string) (Identity, error) {
	if len(i.key) < MinKeyLen {
		return Identity{}, fmt.Errorf("auth: verify token: key is %d bytes, want at least %d", len(i.key), MinKeyLen)
	}
	if len(token) > MaxTokenLen {
		return Identity{}, fmt.Errorf("auth: verify token: %d bytes, want at most %d: %w", len(token), MaxTokenLen, ErrInvalidToken)
	}
	var c accessClaims
	_, err := i.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return i.key, nil })
	if err != nil {
		return Identity{}, tokenError("verify token", err)
	}
	if c.Subject == "" {
		return Identity{}, fmt.Errorf("auth: verify token: no sub claim: %w", ErrInvalidToken)
	}
	if c.Guest != strings.HasPrefix(c.Subject, GuestIDPrefix) || (c.Guest && (c.SessionID != "" || c.Admin)) {
		return Identity{}, fmt.Errorf("auth: verify token: a guest claim that does not fit its sub: %w", ErrInvalidToken)
	}
	if c.Guest {
		return Identity{UserID: c.Subject, Name: c.Name, Guest: true}, nil
	}
	return Identity{
		UserID:    c.Subject,
		Name:      c.Name,
		Admin:     c.Admin,
		SessionID: c.SessionID,
		ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// tokenError maps a jwt parse error to ErrTokenExpired or ErrInvalidToken,
// keeping the jwt error's text for logs.
func tokenError(op string, err error) error {
	if errors.Is(err, jwt.ErrTokenExpired) {
		return fmt.Errorf("auth: %s: %w (%v)", op, ErrTokenExpired, err)
	}
	return fmt.Errorf("auth: %s: %w (%v)", op, ErrInvalidToken, err)
}

// refreshTokenLen is the number of random bytes in a refresh token.
const refreshTokenLen = 32

// NewRefreshToken returns a fresh opaque refresh token (32 random bytes,
// base64url without padding: 43 characters) and its SHA-256 hex hash. Give
// the token to the client once; store only the hash (store.Session.TokenHash).
func NewRefreshToken() (token, sha256hex string, err error) {
	b := make([]byte, refreshTokenLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: new refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken returns the SHA-256 hex hash of a refresh token, the form
// in which sessions store it. A plain hash suffices because the token is 256
// random bits: there is nothing to guess.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
