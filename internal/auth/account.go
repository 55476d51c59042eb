package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// NewAccountID returns a new id for a built-in account: AccountIDPrefix
// and a lower-case store id ("u_01jt8x3m4q7v0c9h2k5n6p8r1s").
func NewAccountID() string {
	return AccountIDPrefix + strings.ToLower(store.NewID())
}

// CheckDisplayName trims surrounding white space from an account's display
// name and checks it: 1 to MaxDisplayNameLen characters, none a control,
// bidi-override or other hidden formatting character (see
// protocol.IsHiddenRune: "alice\u202Egnp.exe" would show as
// "aliceexe.png"). Display names are not unique and are not checked for
// look-alikes: the username is what identifies an account. The error is a
// *RuleError wrapping ErrInvalidDisplayName.
func CheckDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n == 0 || n > MaxDisplayNameLen {
		return "", &RuleError{Msg: fmt.Sprintf("the display name must be 1 to %d characters", MaxDisplayNameLen),
			Err: ErrInvalidDisplayName}
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", &RuleError{Msg: "the display name has a control character", Err: ErrInvalidDisplayName}
	}
	if msg := protocol.HiddenRuneProblem("display name", s); msg != "" {
		return "", &RuleError{Msg: msg, Err: ErrInvalidDisplayName}
	}
	return s, nil
}

// NewAccount is a built-in account as asked for, at sign-up or by an
// administrator on the command line.
type NewAccount struct {
	Username string // as typed
	Password string
	// DisplayName is the name shown; "" means the username as typed, in
	// its compatibility form, so "ａｌｉｃｅ" shows as "alice" while "Alice"
	// keeps its capital.
	DisplayName string
	Admin       bool // make a server administrator
}

// Check applies the account rules to a: the username rules
// (NormaliseUsername), the password rules (ValidatePassword) and the
// display name's (CheckDisplayName), in that order. It returns the
// username's key, which is what is stored as the username, and the display
// name to store. It does no I/O and hashes nothing, so a command can check
// its arguments before it opens the store. The error is a *RuleError.
func (a NewAccount) Check() (username, displayName string, err error) {
	username, err = NormaliseUsername(a.Username)
	if err != nil {
		return "", "", err
	}
	if err := ValidatePassword(a.Password); err != nil {
		return "", "", err
	}
	displayName = a.DisplayName
	if displayName == "" {
		displayName = norm.NFKC.String(a.Username)
	}
	if displayName, err = CheckDisplayName(displayName); err != nil {
		return "", "", err
	}
	return username, displayName, nil
}

// AccountStore is what CreateAccount needs of a store; store.Store has it.
type AccountStore interface {
	UserByName(ctx context.Context, username string) (store.User, error)
	CreateUser(ctx context.Context, u store.User) (store.User, error)
}

// CreateAccount is the one way a built-in account is made, by sign-up
// (POST /api/v1/auth/register) and by `parley user create`. It checks a
// (see NewAccount.Check), refuses a username that is taken before it
// spends a hash, hashes the password with h and stores the account with a
// new id (NewAccountID). It returns the stored account.
//
// A rule break is a *RuleError; a taken username, also one taken by
// someone else between the check and the write, is store.ErrConflict;
// both are returned before anything is stored. Other errors are wrapped.
func CreateAccount(ctx context.Context, st AccountStore, h *Hasher, a NewAccount) (store.User, error) {
	username, name, err := a.Check()
	if err != nil {
		return store.User{}, err
	}
	// Uniqueness is decided by the store on the stored username. Storing
	// the canonical key rather than the name as typed makes the store's
	// case-insensitive comparison agree with NFKC case folding.
	if _, err := st.UserByName(ctx, username); err == nil {
		return store.User{}, fmt.Errorf("auth: create account %q: %w", username, store.ErrConflict)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("auth: create account %q: %w", username, err)
	}
	hash, err := h.Hash(ctx, a.Password)
	if err != nil {
		return store.User{}, fmt.Errorf("auth: create account %q: %w", username, err)
	}
	u, err := st.CreateUser(ctx, store.User{
		ID:           NewAccountID(),
		Username:     username,
		DisplayName:  name,
		PasswordHash: hash,
		Admin:        a.Admin,
	})
	if err != nil {
		return store.User{}, fmt.Errorf("auth: create account %q: %w", username, err)
	}
	return u, nil
}

// PasswordStore is what SetPassword needs of a store; store.Store has it.
type PasswordStore interface {
	SetPasswordHash(ctx context.Context, userID, hash, keepSession string) (signedOut int, err error)
}

// SetPassword gives the account userID a new password: it checks the
// password rules (a *RuleError, before anything is hashed), hashes it with
// h and stores the hash, which also ends every session of the account but
// keepSession ("" for none; see store.Store.SetPasswordHash). It returns
// how many live sessions ended.
// store.ErrNotFound (wrapped) means there is no such account.
func SetPassword(ctx context.Context, st PasswordStore, h *Hasher, userID, password, keepSession string) (signedOut int, err error) {
	if err := ValidatePassword(password); err != nil {
		return 0, err
	}
	hash, err := h.Hash(ctx, password)
	if err != nil {
		return 0, fmt.Errorf("auth: set the password of %q: %w", userID, err)
	}
	n, err := st.SetPasswordHash(ctx, userID, hash, keepSession)
	if err != nil {
		return 0, fmt.Errorf("auth: set the password of %q: %w", userID, err)
	}
	return n, nil
}
