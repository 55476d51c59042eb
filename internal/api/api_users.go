package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// PublicUserJSON is what anyone signed in may learn of an account: enough
// to address it (a private message takes the id) and to show it.
type PublicUserJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// userByName answers GET /users/{username}: the account with that name,
// compared as sign-in compares it (case and width do not matter). Guests
// may ask too, with their guest token, so they can write to someone by
// name.
func (a *API) userByName(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	name := r.PathValue("username")
	key, err := auth.NormaliseUsername(name)
	if err != nil {
		// No account can have a name that breaks the rules.
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "no account is named %q", name))
		return
	}
	u, err := a.store.UserByName(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "no account is named %q", name))
		return
	}
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: user named %q: %w", name, err))
		return
	}
	writeJSON(w, http.StatusOK, PublicUserJSON{ID: u.ID, Username: u.Username, Name: u.DisplayName})
}

// AccountJSON is an account as administrators see it.
type AccountJSON struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	Admin     bool   `json:"admin"`
	Disabled  bool   `json:"disabled,omitempty"`
	CreatedAt string `json:"created_at"`
}

// AccountsResponse lists accounts.
type AccountsResponse struct {
	Users []AccountJSON `json:"users"`
}

type createUserRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Admin       bool   `json:"admin"`
}

func adminAccountJSON(u store.User) AccountJSON {
	return AccountJSON{ID: u.ID, Username: u.Username, Name: u.DisplayName, Admin: u.Admin, Disabled: u.Disabled,
		CreatedAt: protocol.FormatTime(u.CreatedAt)}
}

// listUsers lists every account, oldest first.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	users, err := a.store.Users(r.Context())
	if err != nil {
		a.fail(w, r, fmt.Errorf("api: list users: %w", err))
		return
	}
	out := AccountsResponse{Users: make([]AccountJSON, 0, len(users))}
	for _, u := range users {
		out.Users = append(out.Users, adminAccountJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// createUser makes an account, as sign-up does but for an administrator or
// a backend: with the rules of sign-up, and only an administrator (a user,
// or a key with the admin scope) may make another administrator.
func (a *API) createUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req createUserRequest
	if err := decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Admin && id.KeyID != "" && !auth.HasScope(id.Scopes, auth.ScopeAdmin) {
		a.fail(w, r, errorf(http.StatusForbidden, protocol.CodeForbidden, "only keys with the admin scope make administrators"))
		return
	}
	u, err := auth.CreateAccount(r.Context(), a.store, a.hasher, auth.NewAccount{
		Username: req.Username, Password: req.Password, DisplayName: req.DisplayName, Admin: req.Admin,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		a.fail(w, r, errTaken(req.Username))
		return
	case errors.Is(err, store.ErrLookalike):
		a.fail(w, r, errLookalike(err, req.Username))
		return
	case err != nil:
		a.fail(w, r, ruleError(err))
		return
	}
	a.audit.Record(r.Context(), who(id), audit.UserCreate, "", u.ID, map[string]any{"username": u.Username, "admin": u.Admin})
	w.Header().Set("Location", Prefix+"/users/"+u.Username)
	writeJSON(w, http.StatusCreated, adminAccountJSON(u))
}

// disableUser disables an account: it may not sign in, its sessions end
// and its connections close at once (4003). enableUser undoes it.
func (a *API) disableUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.setDisabled(w, r, id, true)
}

func (a *API) enableUser(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.setDisabled(w, r, id, false)
}

func (a *API) setDisabled(w http.ResponseWriter, r *http.Request, id auth.Identity, disabled bool) {
	name := r.PathValue("username")
	ctx := r.Context()
	key, err := auth.NormaliseUsername(name)
	var u store.User
	if err == nil {
		u, err = a.store.UserByName(ctx, key)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, auth.ErrInvalidUsername) {
			a.fail(w, r, errorf(http.StatusNotFound, protocol.CodeNotFound, "no account is named %q", name))
			return
		}
		a.fail(w, r, fmt.Errorf("api: user named %q: %w", name, err))
		return
	}
	if disabled && u.ID == id.UserID {
		a.fail(w, r, errorf(http.StatusBadRequest, protocol.CodeInvalid, "you cannot disable your own account"))
		return
	}
	if _, err := a.store.SetDisabled(ctx, u.ID, disabled); err != nil {
		a.fail(w, r, fmt.Errorf("api: set %q disabled: %w", u.ID, err))
		return
	}
	if disabled {
		if err := a.live.Disconnect(ctx, u.ID, "account disabled"); err != nil {
			a.log.Warn("closing a disabled account's connections", "user", u.ID, "err", err)
		}
	}
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	a.audit.Record(ctx, who(id), action, "", u.ID, map[string]any{"username": u.Username})
	w.WriteHeader(http.StatusNoContent)
}
