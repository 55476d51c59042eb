package store

import (
	"errors"
	"fmt"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// ErrLookalike means a new username is not taken as such but looks like
// one that is: both have the same UsernameSkeleton. CreateUser returns it
// as a *LookalikeError.
var ErrLookalike = errors.New("username looks like a taken one")

// LookalikeError is CreateUser's refusal of a username that looks like the
// taken username Existing. It wraps ErrLookalike.
type LookalikeError struct {
	Username string // the name asked for
	Existing string // the taken name it looks like, as stored
}

// Error implements error.
func (e *LookalikeError) Error() string {
	return fmt.Sprintf("username %q looks like the taken %q", e.Username, e.Existing)
}

// Unwrap returns ErrLookalike.
func (e *LookalikeError) Unwrap() error { return ErrLookalike }

// UsernameSkeleton is the form of a username that says which names look
// alike: two usernames with the same skeleton may not both be created.
// It is the Unicode Technical Standard #39 skeleton (NFD, each character
// replaced by its prototype from the confusables table, NFD again) of the
// NFKC case-folded name, case-folded and skeletonised once more. The second
// pass is needed because the table maps some characters to an upper-case
// prototype ("0" to "O") while case folding has already made the name
// lower case: without it "g00gle" would not meet "google".
//
// The table is github.com/mtibben/confusables, generated from Unicode
// 13.0's confusables.txt; see docs/SECURITY.md for why that one and what it
// misses. Backends store the skeleton with a unique index; a change to this
// function changes what is stored, and existing rows keep theirs.
func UsernameSkeleton(username string) string {
	s := norm.NFKC.String(cases.Fold().String(norm.NFKC.String(username)))
	s = confusables.Skeleton(s)
	return confusables.Skeleton(cases.Fold().String(s))
}
