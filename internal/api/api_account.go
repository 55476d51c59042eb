package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

type updateMeRequest struct {
	Name *string `json:"name"`
}

type deleteMeRequest struct {
	Password string `json:"password"`
}

// ownAccount loads the caller's account: only people signed in with an
// account have one (not guests, not an application's users, not keys).
func (a *API) ownAccount(ctx context.Context, id auth.Identity) (store.User, error) {
	if id.KeyID != "" || id.Guest || id.External {
		return store.User{}, errorf(http.StatusForbidden, protocol.CodeForbidden, "only a signed-in account can change itself")
	}
	u, err := a.store.User(ctx, id.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "the account no longer exists")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("api: account %q: %w", id.UserID, err)
	}
	return u, nil
}

// checkPassword verifies the caller's password before a change that needs
// it, counted by the sign-in limiter like a sign-in, so that a stolen
// access token cannot be used to guess it.
func (a *API) checkPassword(r *http.Request, u store.User, password, field string) error {
	if password == "" {
		return errorf(http.StatusBadRequest, protocol.CodeInvalid, "%s is required", field)
	}
	key, err := auth.NormaliseUsername(u.Username)
	if err != nil {
		key = u.Username
	}
	if ok, retry := a.limiter.Allow(key, r.RemoteAddr); !ok {
		e := errorf(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many password attempts; retry later")
		e.retryAfter = retry
		return e
	}
	ok, err := a.hasher.Verify(r.Context(), password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("api: verify the password of %q: %w", u.ID, err)
	}
	if !ok {
		return errorf(http.StatusForbidden, protocol.CodeForbidden, "%s is not your password", field)
	}
	return nil
}

// provenAccount decodes a request into req and loads the caller's
// account once the password the request carries (password, named field)
// is checked; on any failure it has answered and ok is false.
func (a *API) provenAccount(w http.ResponseWriter, r *http.Request, id auth.Identity, req any,
	password func() (value, field string)) (u store.User, ok bool) {
	if err := decode(w, r, req, false); err != nil {
		a.fail(w, r, err)
		return store.User{}, false
	}
	u, err := a.ownAccount(r.Context(), id)
	if err == nil {
		pw, field := password()
		err = a.checkPassword(r, u, pw, field)
	}
	if err != nil {
		a.fail(w, r, err)
		return store.User{}, false
	}
	return u, true
}

// changePassword sets a new password for the caller's account, and signs
// out every other session: their refresh tokens stop working and their
// connections close (4001). This session stays signed in.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req changePasswordRequest
	u, ok := a.provenAccount(w, r, id, &req, func() (string, string) { return req.CurrentPassword, "current_password" })
	if !ok {
		return
	}
	ctx := r.Context()
	n, err := auth.SetPassword(ctx, a.store, a.hasher, u.ID, req.NewPassword, id.SessionID)
	if err != nil {
		a.fail(w, r, ruleError(fmt.Errorf("api: change the password of %q: %w", u.ID, err)))
		return
	}
	a.live.SignedOutExcept(ctx, u.ID, id.SessionID)
	a.log.Info("password changed", "user", u.ID, "other_sessions_ended", n)
	w.WriteHeader(http.StatusNoContent)
}

// updateMe changes the caller's display name. Connections open now keep
// the name they opened with; new ones and new messages use the new one.
func (a *API) updateMe(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req updateMeRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Name == nil {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "give name"))
		return
	}
	ctx := r.Context()
	u, err := a.ownAccount(ctx, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name, err := auth.CheckDisplayName(*req.Name)
	if err != nil {
		a.fail(w, r, ruleError(err))
		return
	}
	if err := a.store.SetDisplayName(ctx, u.ID, name); err != nil {
		a.fail(w, r, fmt.Errorf("api: rename %q: %w", u.ID, err))
		return
	}
	u.DisplayName = name
	writeJSON(w, http.StatusOK, accountJSON(u))
}

// deleteMe deletes the caller's account, after checking its password.
func (a *API) deleteMe(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req deleteMeRequest
	u, ok := a.provenAccount(w, r, id, &req, func() (string, string) { return req.Password, "password" })
	if !ok {
		return
	}
	_ = a.deleteAccount(w, r, id, u, "account deleted")
}

// deleteUser deletes an account, for administrators and keys with the
// users scope.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	u, err := a.namedAccount(r)
	if err == nil && u.ID == id.UserID {
		err = errorf(http.StatusBadRequest, protocol.CodeInvalid, "delete your own account with DELETE /api/v1/me")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if a.deleteAccount(w, r, id, u, "account deleted by an administrator") {
		a.audit.Record(r.Context(), who(id), audit.UserDelete, "", u.ID, map[string]any{"username": u.Username})
	}
}

// deleteAccount deletes u and closes its connections with 4003, which
// tells clients not to come back; it reports whether the account was
// deleted (else it has answered with the error).
func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request, id auth.Identity, u store.User, reason string) bool {
	ctx := r.Context()
	n, err := a.store.DeleteUser(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "no account is named %q", u.Username))
		return false
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: delete account %q: %w", u.ID, err))
		return false
	}
	if err := a.live.Disconnect(ctx, u.ID, reason); err != nil {
		a.log.Warn("closing a deleted account's connections", "user", u.ID, "err", err)
	}
	a.log.Info("account deleted", "user", u.ID, "username", u.Username, "sessions_ended", n, "by", callerName(id))
	w.WriteHeader(http.StatusNoContent)
	return true
}

// namedAccount loads the account the {username} path segment names.
func (a *API) namedAccount(r *http.Request) (store.User, error) {
	name := r.PathValue("username")
	key, err := auth.NormaliseUsername(name)
	var u store.User
	if err == nil {
		u, err = a.store.UserByName(r.Context(), key)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, auth.ErrInvalidUsername):
		return store.User{}, errorf(http.StatusNotFound, protocol.CodeNotFound, "no account is named %q", name)
	case err != nil:
		return store.User{}, fmt.Errorf("api: user named %q: %w", name, err)
	}
	return u, nil
}
