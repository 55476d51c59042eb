package auth

import (
	"crypto/rand"
	"fmt"
	"time"
)

// GuestIDPrefix starts the UserID of every guest, so guest ids never collide
// with account ids or with the subjects of external tokens (which may not
// start with it).
const GuestIDPrefix = "guest:"

// AccountIDPrefix starts the UserID of every built-in account. External
// tokens whose sub starts with it are refused, so that an identity
// provider's user can never act as an account.
const AccountIDPrefix = "u_"

// Identity is who a connection or request acts as, whichever way they
// authenticated: an account's access token, a guest name or an external
// token.
type Identity struct {
	// UserID is the stable id: an account's id, "guest:"+key for guests, or
	// an external token's sub as is.
	UserID string
	// Name is the display name.
	Name string
	// Guest is true for guests: no account, nothing stored about them but
	// their id on messages and memberships.
	Guest bool
	// External is true when an integrating app's token vouched for the user.
	External bool
	// Admin is true for accounts with the server admin flag (own access
	// tokens only).
	Admin bool
	// Rooms lists the room names the token allows the user to join; nil means
	// the token places no restriction (the usual room rules still apply).
	// An empty non-nil slice allows no rooms at all.
	Rooms []string
	// SessionID is the sign-in session behind an own access token; signing
	// out deletes it, which revokes the token. Empty for guests and external
	// tokens.
	SessionID string
	// ExpiresAt is when the token stops being valid; zero means no expiry
	// (guests).
	ExpiresAt time.Time
	// KeyID is set, and UserID empty, when the caller is an API key on the
	// HTTP API (a backend, not a person); Scopes are then what it may do.
	KeyID  string
	Scopes []string
}

// guestAlphabet spells random guest names: lower-case letters and digits
// without look-alikes (0/o, 1/l/i).
const guestAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// guestIDLen is the number of random characters in a guest's id: 12 of
// guestAlphabet's 31, about 59 bits, so that nobody can guess another
// guest's id and address or be them.
const guestIDLen = 12

// GuestIdentity returns a new guest identity displayed as name. Every call
// makes a different guest: the UserID is GuestIDPrefix and random
// characters, never derived from the name, so a guest who leaves cannot be
// followed by someone else taking the same name and reading what was sent
// to them. (A guest comes back as the same guest with the token
// Issuer.IssueGuest gives it.) The name must follow the username rules
// (NormaliseUsername) and is kept in its NFKC form; an empty name picks a
// random "guest-xxxxxx". The error is a *RuleError wrapping
// ErrInvalidUsername.
func GuestIdentity(name string) (Identity, error) {
	if name == "" {
		suffix, err := randomGuestSuffix(6)
		if err != nil {
			return Identity{}, err
		}
		name = "guest-" + suffix
	}
	display, err := normaliseDisplay(name, "guest name")
	if err != nil {
		return Identity{}, err
	}
	id, err := randomGuestSuffix(guestIDLen)
	if err != nil {
		return Identity{}, err
	}
	return Identity{UserID: GuestIDPrefix + id, Name: display, Guest: true}, nil
}

// randomGuestSuffix returns n characters of guestAlphabet, uniformly
// (rejection sampling, no modulo bias).
func randomGuestSuffix(n int) (string, error) {
	const limit = 256 - 256%len(guestAlphabet)
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("auth: guest name: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, guestAlphabet[int(c)%len(guestAlphabet)])
			}
		}
	}
	return string(out), nil
}
