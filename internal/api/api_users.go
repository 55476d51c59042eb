package api

import (
	"errors"
	"fmt"
	"net/http"

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
