package auth

import (
	"errors"
	"fmt"
)

// Sentinel errors returned, wrapped with context, by this package. Test them
// with errors.Is, never by comparing strings.
var (
	// ErrInvalidToken means a token (own access token, external token or
	// refresh token) is malformed, has a bad signature, uses an algorithm
	// other than the pinned one, lacks a required claim, or names the wrong
	// audience or issuer. An expired token gives ErrTokenExpired instead.
	ErrInvalidToken = errors.New("invalid token")
	// ErrTokenExpired means a token was well formed and correctly signed but
	// its exp (plus the allowed leeway) has passed; the client should refresh
	// or sign in again.
	ErrTokenExpired = errors.New("token expired")
	// ErrBadCredentials means a username and password did not match an
	// account. It is returned the same way whether the user exists or not.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrRateLimited means too many sign-in attempts were made for an account
	// or from an address; the caller should wait before trying again.
	ErrRateLimited = errors.New("rate limited")
	// ErrInvalidUsername means a username (or a guest's requested name) breaks
	// the username rules: 3..32 letters, digits, '_', '-' or '.'.
	ErrInvalidUsername = errors.New("invalid username")
	// ErrInvalidPassword means a password breaks the password rules: 8..256
	// bytes of valid UTF-8.
	ErrInvalidPassword = errors.New("invalid password")
	// ErrInvalidDisplayName means an account's display name is empty, too
	// long or holds a control character.
	ErrInvalidDisplayName = errors.New("invalid display name")
	// ErrInvalidAPIKey means a new API key's name or scopes break the
	// rules (see CheckAPIKey).
	ErrInvalidAPIKey = errors.New("invalid API key request")
)

// RuleError is a username, guest name, password, display name or new API
// key that breaks the rules. Its Msg is a sentence for the person who typed
// it (it never quotes a password); it wraps ErrInvalidUsername,
// ErrInvalidPassword, ErrInvalidDisplayName or ErrInvalidAPIKey.
type RuleError struct {
	Msg string
	Err error
}

// Error implements error.
func (e *RuleError) Error() string { return "auth: " + e.Msg }

// Unwrap returns the sentinel of the rule broken.
func (e *RuleError) Unwrap() error { return e.Err }

func usernameRule(format string, args ...any) error {
	return &RuleError{Msg: fmt.Sprintf(format, args...), Err: ErrInvalidUsername}
}
