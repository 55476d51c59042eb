package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// APIKeyPrefix starts every API key, so that a key is told from a user's
// token at a glance (and by a secret scanner).
const APIKeyPrefix = "pk_"

// Scopes an API key may carry.
const (
	// ScopePublish posts messages, private messages and notices.
	ScopePublish = "publish"
	// ScopeRooms does what the room endpoints offer, as an administrator.
	ScopeRooms = "rooms"
	// ScopeUsers looks users up and manages them.
	ScopeUsers = "users"
	// ScopePresence asks who is online and disconnects users.
	ScopePresence = "presence"
	// ScopeAdmin manages API keys; it implies every other scope.
	ScopeAdmin = "admin"
)

// Scopes lists every scope, in the order documented.
var Scopes = []string{ScopePublish, ScopeRooms, ScopeUsers, ScopePresence, ScopeAdmin}

// keyIDLen is the length of a key's id: 20 hex digits (80 random bits).
const keyIDLen = 20

// NewAPIKey returns a new key, its id (public: it names the key in lists
// and logs) and its hash (SHA-256 hex of the whole key: all that is
// stored). The key is "pk_", the id, "_" and 32 random bytes in base64url;
// it is shown once, to whoever created it.
func NewAPIKey() (key, id, hash string, err error) {
	var b [10 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("auth: new API key: %w", err)
	}
	id = hex.EncodeToString(b[:10])
	key = APIKeyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[10:])
	return key, id, HashAPIKey(key), nil
}

// ParseAPIKey returns the id inside a key of NewAPIKey's form; ok is false
// for anything else.
func ParseAPIKey(key string) (id string, ok bool) {
	rest, found := strings.CutPrefix(key, APIKeyPrefix)
	if !found || len(rest) != keyIDLen+1+43 || rest[keyIDLen] != '_' {
		return "", false
	}
	id = rest[:keyIDLen]
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// HashAPIKey returns the SHA-256 hex of a key, the form stores keep. A
// plain hash suffices: a key holds 256 random bits, nothing to guess.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// APIKeyMatches reports whether key hashes to hash, comparing in constant
// time so that the answer's timing says nothing of how much matched.
func APIKeyMatches(key, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashAPIKey(key)), []byte(hash)) == 1
}

// HasScope reports whether scopes grant want; the admin scope grants all.
func HasScope(scopes []string, want string) bool {
	return slices.Contains(scopes, want) || slices.Contains(scopes, ScopeAdmin)
}

// CheckScopes returns an error naming the first scope that is not one of
// Scopes, or that is repeated; at least one is needed.
func CheckScopes(scopes []string) error {
	if len(scopes) == 0 {
		return fmt.Errorf("give at least one scope: %s", strings.Join(Scopes, ", "))
	}
	for i, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return fmt.Errorf("%q is not a scope; the scopes are %s", s, strings.Join(Scopes, ", "))
		}
		if slices.Contains(scopes[:i], s) {
			return fmt.Errorf("scope %q is given twice", s)
		}
	}
	return nil
}
