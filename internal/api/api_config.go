package api

import "net/http"

// ConfigJSON is the answer of GET /api/v1/config: what a sign-in screen
// must know before anyone has signed in. It is public, so it says only
// what the server would reveal to anyone who tried (a guest connection
// would be refused, a register call would answer 404), and nothing an
// attacker could use beyond that.
type ConfigJSON struct {
	// Accounts is true when built-in sign-up and sign-in are on.
	Accounts bool `json:"accounts"`
	// Guests is true when guests may connect with a display name alone.
	Guests bool `json:"guests"`
}

// config answers which ways in the server offers, so the web app shows
// only the forms that can work.
func (a *API) config(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, ConfigJSON{Accounts: a.cfg.Accounts, Guests: a.cfg.Guests})
}
