package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/store"
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

// MaxAPIKeyNameLen is the longest name of an API key, in characters.
const MaxAPIKeyNameLen = 64

// CheckAPIKey checks what a new key is asked for with: its name, trimmed
// of surrounding white space, must be 1 to MaxAPIKeyNameLen characters
// without control characters, and its scopes must pass CheckScopes. It
// returns the trimmed name, or a *RuleError wrapping ErrInvalidAPIKey that
// names the field at fault ("name …", "scopes: …").
func CheckAPIKey(name string, scopes []string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxAPIKeyNameLen || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", &RuleError{Msg: fmt.Sprintf("name must be 1 to %d characters without control characters", MaxAPIKeyNameLen),
			Err: ErrInvalidAPIKey}
	}
	if err := CheckScopes(scopes); err != nil {
		return "", &RuleError{Msg: "scopes: " + err.Error(), Err: ErrInvalidAPIKey}
	}
	return name, nil
}

// APIKeyStore is what CreateAPIKey needs of a store; store.Store has it.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k store.APIKey) error
}

// CreateAPIKey is the one way an API key is made, by POST
// /api/v1/admin/keys and by `parley apikey create`. It checks name and
// scopes (CheckAPIKey: a *RuleError before anything is stored), makes a
// key (NewAPIKey) and stores its hash, with createdBy the id of the
// administrator who asked ("" from the command line). It returns the key
// itself, to be shown once and never again, and what was stored.
func CreateAPIKey(ctx context.Context, st APIKeyStore, name string, scopes []string, createdBy string) (key string, k store.APIKey, err error) {
	name, err = CheckAPIKey(name, scopes)
	if err != nil {
		return "", store.APIKey{}, err
	}
	key, id, hash, err := NewAPIKey()
	if err != nil {
		return "", store.APIKey{}, err
	}
	k = store.APIKey{ID: id, Name: name, Hash: hash, Scopes: slices.Clone(scopes), CreatedBy: createdBy, CreatedAt: store.Now()}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, fmt.Errorf("auth: create API key %q: %w", name, err)
	}
	return key, k, nil
}
