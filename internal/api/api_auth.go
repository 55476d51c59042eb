package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// UserJSON is an account or token holder as the API shows it.
type UserJSON struct {
	ID string `json:"id"`
	// Username is the canonical sign-in name (NFKC, case-folded); empty for
	// an integrating app's users, who have no account.
	Username string `json:"username,omitempty"`
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
	External bool   `json:"external,omitempty"`
}

// TokenResponse answers a successful sign-up, sign-in or refresh.
type TokenResponse struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresAt    string   `json:"expires_at"`
	User         UserJSON `json:"user"`
}

type registerRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// errBadCredentials is the one answer to every failed sign-in, so that the
// status and body never tell an unknown user from a wrong password.
var errBadCredentials = errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "wrong username or password")

// errSessionEnded answers a refresh with an unknown, rotated or expired token.
var errSessionEnded = errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
	"the refresh token is invalid, already used or expired; sign in again")

// accountsOn refuses the account endpoints when built-in accounts are off.
func (a *API) accountsOn() error {
	if !a.cfg.Accounts || a.issuer == nil {
		return errorf(http.StatusNotFound, protocol.CodeNotFound, "built-in accounts are disabled on this server")
	}
	return nil
}

// register creates an account and signs it in.
func (a *API) register(w http.ResponseWriter, r *http.Request) {
	if err := a.accountsOn(); err != nil {
		a.fail(w, r, err)
		return
	}
	var req registerRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	u, err := auth.CreateAccount(r.Context(), a.store, a.hasher, auth.NewAccount{
		Username: req.Username, Password: req.Password, DisplayName: req.DisplayName,
	})
	var re *auth.RuleError
	switch {
	case errors.As(err, &re):
		a.fail(w, r, ruleError(err))
		return
	case errors.Is(err, store.ErrConflict):
		a.fail(w, r, errTaken(req.Username))
		return
	case errors.Is(err, store.ErrLookalike):
		a.fail(w, r, errLookalike(err, req.Username))
		return
	case err != nil:
		a.fail(w, r, fmt.Errorf("api: register: %w", err))
		return
	}
	a.signIn(w, r, u, http.StatusCreated)
}

func errTaken(username string) error {
	return errorf(http.StatusConflict, protocol.CodeInvalid, "the username %q is taken", username)
}

// errLookalike is the answer to a username that looks like a taken one
// (err wraps a *store.LookalikeError): 409 lookalike, naming the taken name
// so the person sees why, as usernames are public anyway.
func errLookalike(err error, username string) error {
	var le *store.LookalikeError
	if !errors.As(err, &le) {
		return err
	}
	return errorf(http.StatusConflict, protocol.CodeLookalike,
		"the username %q looks too much like the existing username %q; pick one that looks different", username, le.Existing)
}

// ruleError turns a rule break (a username, password, display name or API
// key's) into a 400 that names the rule (auth's messages do, minus the
// package prefix).
func ruleError(err error) error {
	var re *auth.RuleError
	if !errors.As(err, &re) {
		return err
	}
	// The message never quotes a password; auth's messages give sizes only.
	return errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s", re.Msg)
}

// login signs an account in. Both limits are checked before any work, an
// unknown user costs one dummy hash like a real one, and every failure gets
// the same answer, so neither timing nor responses reveal which accounts
// exist.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	if err := a.accountsOn(); err != nil {
		a.fail(w, r, err)
		return
	}
	var req loginRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	key, keyErr := auth.NormaliseUsername(req.Username)
	// A name that breaks the rules cannot be an account; it is throttled by
	// address only and refused like an unknown user.
	if ok, retry := a.limiter.Allow(key, r.RemoteAddr); !ok {
		e := errorf(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many sign-in attempts; retry later")
		e.retryAfter = retry
		a.fail(w, r, e)
		return
	}
	var u store.User
	err := keyErr
	if err == nil {
		u, err = a.store.UserByName(r.Context(), key)
	}
	if err != nil {
		if keyErr == nil && !errors.Is(err, store.ErrNotFound) {
			a.fail(w, r, fmt.Errorf("api: sign in %q: %w", key, err))
			return
		}
		if err := a.hasher.VerifyDummy(r.Context(), req.Password); err != nil {
			a.fail(w, r, fmt.Errorf("api: sign in: %w", err))
			return
		}
		a.fail(w, r, errBadCredentials)
		return
	}
	ok, err := a.hasher.Verify(r.Context(), req.Password, u.PasswordHash)
	if err != nil {
		if r.Context().Err() != nil {
			a.fail(w, r, fmt.Errorf("api: sign in %q: %w", key, err))
			return
		}
		// A corrupt stored hash is the server's fault, but answering
		// differently would tell that the account exists.
		a.log.Error("stored password hash is unusable", "user", u.ID, "err", err)
		ok = false
	}
	if !ok {
		a.fail(w, r, errBadCredentials)
		return
	}
	if u.Disabled {
		// Said only to whoever knows the password.
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "this account is disabled; ask an administrator"))
		return
	}
	a.signIn(w, r, u, http.StatusOK)
}

// signIn starts a session for u and answers with a token pair.
func (a *API) signIn(w http.ResponseWriter, r *http.Request, u store.User, status int) {
	refresh, hash, err := auth.NewRefreshToken()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sess := store.Session{ID: store.NewID(), UserID: u.ID, TokenHash: hash, ExpiresAt: a.now().Add(a.cfg.RefreshTTL)}
	if err := a.store.CreateSession(r.Context(), sess); err != nil {
		a.fail(w, r, fmt.Errorf("api: start a session for %q: %w", u.ID, err))
		return
	}
	a.tokens(w, r, u, sess.ID, refresh, status)
}

// tokens issues an access token for the session and sends the pair.
func (a *API) tokens(w http.ResponseWriter, r *http.Request, u store.User, sessionID, refresh string, status int) {
	access, exp, err := a.issuer.Issue(u.ID, u.DisplayName, sessionID, u.Admin)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, status, TokenResponse{
		AccessToken:  access,
		RefreshToken: refresh,
		ExpiresAt:    protocol.FormatTime(exp),
		User:         accountJSON(u),
	})
}

func accountJSON(u store.User) UserJSON {
	return UserJSON{ID: u.ID, Username: u.Username, Name: u.DisplayName, Admin: u.Admin}
}

// refresh trades a refresh token for a new pair. The session keeps its id,
// so access tokens issued before stay valid until they expire, but the old
// refresh token stops working at once.
func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	if err := a.accountsOn(); err != nil {
		a.fail(w, r, err)
		return
	}
	var req refreshRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.RefreshToken == "" || len(req.RefreshToken) > 256 {
		a.fail(w, r, errSessionEnded)
		return
	}
	ctx := r.Context()
	sess, err := a.store.SessionByTokenHash(ctx, auth.HashRefreshToken(req.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errSessionEnded)
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: refresh: %w", err))
		return
	}
	u, err := a.store.User(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errSessionEnded) // the account is gone
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: refresh session %q: %w", sess.ID, err))
		return
	}
	token, hash, err := auth.NewRefreshToken()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	err = a.store.RotateSession(ctx, sess.ID, hash, a.now().Add(a.cfg.RefreshTTL))
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errSessionEnded) // signed out or expired meanwhile
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: rotate session %q: %w", sess.ID, err))
		return
	}
	a.tokens(w, r, u, sess.ID, token, http.StatusOK)
}

// logout ends a session: the one of the bearer token or, for a client whose
// access token has expired, the one of a refresh token in the body.
// Afterwards neither token works anywhere.
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.accountsOn(); err != nil {
		a.fail(w, r, err)
		return
	}
	var req refreshRequest
	if err := decode(w, r, &req, true); err != nil {
		a.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var sessionID, userID string
	switch {
	case bearer(r) != "":
		id, err := a.caller(r, policy{})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if id.SessionID == "" {
			a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid,
				"this token was not issued by Parley; it has no session to sign out"))
			return
		}
		sessionID, userID = id.SessionID, id.UserID
	case req.RefreshToken != "":
		sess, err := a.store.SessionByTokenHash(ctx, auth.HashRefreshToken(req.RefreshToken))
		if errors.Is(err, store.ErrNotFound) {
			w.WriteHeader(http.StatusNoContent) // already over: signing out is idempotent
			return
		}
		if err != nil {
			a.fail(w, r, fmt.Errorf("api: sign out: %w", err))
			return
		}
		sessionID, userID = sess.ID, sess.UserID
	default:
		a.fail(w, r, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
			"send the access token as a bearer token, or the refresh token in the body"))
		return
	}
	if err := a.store.DeleteSession(ctx, sessionID); err != nil {
		a.fail(w, r, fmt.Errorf("api: sign out session %q: %w", sessionID, err))
		return
	}
	a.live.SignedOut(ctx, userID, sessionID)
	w.WriteHeader(http.StatusNoContent)
}

// me describes the caller.
func (a *API) me(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	if id.External {
		writeJSON(w, http.StatusOK, UserJSON{ID: id.UserID, Name: id.Name, External: true})
		return
	}
	u, err := a.store.User(r.Context(), id.UserID)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "the account no longer exists"))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: me %q: %w", id.UserID, err))
		return
	}
	writeJSON(w, http.StatusOK, accountJSON(u))
}
