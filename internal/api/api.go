package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
)

// Prefix is the path every endpoint of this version of the API starts with.
const Prefix = "/api/v1"

// MaxBodyBytes is the default cap on a request body (Config.MaxBodyBytes,
// --max-body-bytes). Every request this API accepts is a few hundred bytes
// but a batch of messages; the cap bounds what a client can make the
// server buffer.
const MaxBodyBytes = 64 << 10

// Deps is what the API needs from the server that mounts it.
type Deps struct {
	// Config is the server's configuration. The API reads Accounts,
	// RefreshTTL, MaxRoomNameLength, HistoryLimit, LoginRatePerMinute and
	// JWTAlgorithm (whether an integrating app's users, who have no stored
	// account, may be invited to rooms).
	Config config.Config
	// Store holds accounts, sessions, rooms and messages.
	Store store.Store
	// Log receives failures the API handles (store faults); nil discards.
	Log *slog.Logger
	// Identify verifies a bearer token of any kind the server accepts. For
	// Parley's own tokens it must also check that the session is still
	// alive, so that signing out revokes the access token at once. It
	// returns an error wrapping auth.ErrInvalidToken or auth.ErrTokenExpired
	// for a token it refuses; any other error is a server fault.
	Identify func(ctx context.Context, token string) (auth.Identity, error)
	// Issuer signs access tokens; nil when accounts are off.
	Issuer *auth.Issuer
	// Hasher hashes and verifies passwords; nil builds one that runs at most
	// auth.DefaultMaxConcurrentHashes (2) hashes at once, about 19 MiB each.
	Hasher *auth.Hasher
	// Limiter throttles sign-in attempts; nil builds one allowing
	// Config.LoginRatePerMinute attempts per account and per address.
	Limiter *auth.LoginLimiter
	// Live tells open WebSocket connections about changes made here; nil
	// when the API runs without a hub (then open connections learn of a
	// removal or sign-out only when they reconnect).
	Live Live
	// Webhooks hears of what happens through the API, and is told when
	// the endpoints change; nil when the server sends no webhooks.
	Webhooks Webhooks
	// Audit records moderation and administration actions; nil records
	// nothing.
	Audit *audit.Recorder
	// ListenAddr reports the address the server listens on (host:port,
	// the port it got), so that a webhook pointing back at the server can
	// be refused; nil means Config.Addr.
	ListenAddr func() string
}

// Live is what the API needs from the real-time side: the hub.
type Live interface {
	// RemovedFromRoom takes a user's open connections out of a room.
	RemovedFromRoom(ctx context.Context, room, userID string)
	// SignedOut closes the connections opened with a revoked session.
	SignedOut(ctx context.Context, userID, sessionID string)
	// Post stores a message in a room and broadcasts it, as a chat frame
	// would be (see hub.Hub.Post).
	Post(ctx context.Context, msg store.NewMessage) (store.Event, bool, error)
	// PostBatch posts several messages in order, sharing commits.
	PostBatch(ctx context.Context, msgs []store.NewMessage) []hub.Posted
	// PostPrivate stores and delivers a private message; a recipient that
	// does not exist is a *protocol.Error with code not_found.
	PostPrivate(ctx context.Context, from protocol.User, to, text, clientID string) (store.Event, bool, error)
	// Notice sends a system frame to a room's connections, or to everyone
	// connected when room is "".
	Notice(ctx context.Context, room, text string) error
	// RoomOnline lists the users connected to a room.
	RoomOnline(room string) []protocol.User
	// Online counts a user's open connections.
	Online(userID string) int
	// Disconnect closes every connection of a user with close code 4003.
	Disconnect(ctx context.Context, userID, reason string) error
	// RoomChanged tells a room's connections, and the member concerned,
	// of a change made here.
	RoomChanged(ctx context.Context, ch hub.RoomChange)
	// Notify pushes a stored notification to its connected recipients.
	Notify(ctx context.Context, n store.Notification, recipients []string)
	// NotificationsRead tells a user's connections (but except) that
	// notifications were marked read.
	NotificationsRead(ctx context.Context, userID, except string, body protocol.NotificationsReadBody)
	// MayCreateRoom checks the room-creation rules for a user.
	MayCreateRoom(ctx context.Context, who hub.Creator, key string) *protocol.Error
	// RoomRulesChanged makes every node read a room's lock, archive
	// state and mutes again.
	RoomRulesChanged(ctx context.Context, key string)
	// RoomDeleted tells a deleted room's connections and takes them out.
	RoomDeleted(ctx context.Context, key, by string)
	// SignedOutExcept closes a user's connections of every session but
	// keep.
	SignedOutExcept(ctx context.Context, userID, keep string)
	// DeleteMessage deletes a message and broadcasts the update.
	DeleteMessage(ctx context.Context, key, messageID, actor string, moderator bool) (store.Event, error)
}

// errNoLive is what the posting calls of noLive return.
var errNoLive = errors.New("api: no hub to deliver messages through")

// noLive is Live when there is no hub: nothing reaches open connections
// and nothing can be posted.
type noLive struct{}

func (noLive) RemovedFromRoom(context.Context, string, string) {}
func (noLive) SignedOut(context.Context, string, string)       {}
func (noLive) Post(context.Context, store.NewMessage) (store.Event, bool, error) {
	return store.Event{}, false, errNoLive
}
func (noLive) PostBatch(_ context.Context, msgs []store.NewMessage) []hub.Posted {
	out := make([]hub.Posted, len(msgs))
	for i := range out {
		out[i].Err = errNoLive
	}
	return out
}
func (noLive) PostPrivate(context.Context, protocol.User, string, string, string) (store.Event, bool, error) {
	return store.Event{}, false, errNoLive
}
func (noLive) Notice(context.Context, string, string) error         { return errNoLive }
func (noLive) RoomOnline(string) []protocol.User                    { return []protocol.User{} }
func (noLive) Online(string) int                                    { return 0 }
func (noLive) Disconnect(context.Context, string, string) error     { return errNoLive }
func (noLive) RoomChanged(context.Context, hub.RoomChange)          {}
func (noLive) Notify(context.Context, store.Notification, []string) {}
func (noLive) NotificationsRead(context.Context, string, string, protocol.NotificationsReadBody) {
}
func (noLive) MayCreateRoom(context.Context, hub.Creator, string) *protocol.Error { return nil }
func (noLive) RoomRulesChanged(context.Context, string)                           {}
func (noLive) RoomDeleted(context.Context, string, string)                        {}
func (noLive) SignedOutExcept(context.Context, string, string)                    {}
func (noLive) DeleteMessage(context.Context, string, string, string, bool) (store.Event, error) {
	return store.Event{}, errNoLive
}

// API is the /api/v1 handler set. Create it with New and mount it with
// Register. It is safe for concurrent use.
type API struct {
	cfg      config.Config
	store    store.Store
	log      *slog.Logger
	identify func(ctx context.Context, token string) (auth.Identity, error)
	issuer   *auth.Issuer
	hasher   *auth.Hasher
	limiter  *auth.LoginLimiter
	live     Live
	webhooks Webhooks
	audit    *audit.Recorder
	listen   func() string
	now      func() time.Time
	touches  keyTouches // when each API key's use was last recorded
	mounted  []string   // the route table's patterns, once Register ran
}

// New builds the API from its dependencies. Store and Identify are required;
// Issuer is required when Config.Accounts is true.
func New(d Deps) *API {
	a := &API{
		cfg:      d.Config,
		store:    d.Store,
		log:      d.Log,
		identify: d.Identify,
		issuer:   d.Issuer,
		hasher:   d.Hasher,
		limiter:  d.Limiter,
		live:     d.Live,
		webhooks: d.Webhooks,
		audit:    d.Audit,
		listen:   d.ListenAddr,
		now:      time.Now,
	}
	if a.listen == nil {
		a.listen = func() string { return d.Config.Addr }
	}
	if a.live == nil {
		a.live = noLive{}
	}
	if a.webhooks == nil {
		a.webhooks = noWebhooks{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.hasher == nil {
		a.hasher = auth.NewHasher(auth.DefaultMaxConcurrentHashes)
	}
	if a.limiter == nil {
		a.limiter = auth.NewLoginLimiter(auth.LoginLimiterConfig{
			AccountPerMinute: d.Config.LoginRatePerMinute,
			AddressPerMinute: d.Config.LoginRatePerMinute,
		})
	}
	return a
}

// Register mounts every endpoint on mux under Prefix.
func (a *API) Register(mux *http.ServeMux) {
	// Who may call what: see policy. Endpoints that act as the signed-in
	// user (me, unread, conversations) take users only; those a backend
	// drives take API keys with the named scope too.
	users := policy{}
	rooms := policy{scope: auth.ScopeRooms}
	publish := policy{keysOnly: true, scope: auth.ScopePublish}
	manageUsers := policy{admin: true, scope: auth.ScopeUsers}
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /openapi.json", a.openAPI},
		{"GET /config", a.config},

		{"POST /auth/register", a.register},
		{"POST /auth/login", a.login},
		{"POST /auth/refresh", a.refresh},
		{"POST /auth/logout", a.logout},
		{"GET /me", a.authed(users, a.me)},
		{"PATCH /me", a.authed(users, a.updateMe)},
		{"DELETE /me", a.authed(users, a.deleteMe)},
		{"POST /me/password", a.authed(users, a.changePassword)},
		{"GET /users/{username}", a.authed(policy{guests: true, scope: auth.ScopeUsers}, a.userByName)},
		{"GET /users", a.authed(manageUsers, a.listUsers)},
		{"POST /users", a.authed(manageUsers, a.createUser)},
		{"POST /users/{username}/disable", a.authed(manageUsers, a.disableUser)},
		{"POST /users/{username}/enable", a.authed(manageUsers, a.enableUser)},
		{"DELETE /users/{username}", a.authed(manageUsers, a.deleteUser)},

		{"GET /rooms", a.authed(rooms, a.listRooms)},
		{"POST /rooms", a.authed(rooms, a.createRoom)},
		{"GET /rooms/{room}", a.authed(rooms, a.getRoom)},
		{"PATCH /rooms/{room}", a.authed(rooms, a.updateRoom)},
		{"DELETE /rooms/{room}", a.authed(rooms, a.deleteRoom)},
		{"GET /rooms/{room}/bans", a.authed(rooms, a.listBans)},
		{"PUT /rooms/{room}/bans/{user}", a.authed(rooms, a.ban)},
		{"DELETE /rooms/{room}/bans/{user}", a.authed(rooms, a.unban)},
		{"GET /rooms/{room}/mutes", a.authed(rooms, a.listMutes)},
		{"PUT /rooms/{room}/mutes/{user}", a.authed(rooms, a.mute)},
		{"DELETE /rooms/{room}/mutes/{user}", a.authed(rooms, a.unmute)},
		{"GET /rooms/{room}/members", a.authed(rooms, a.listMembers)},
		{"PUT /rooms/{room}/members/{user}", a.authed(rooms, a.putMember)},
		{"DELETE /rooms/{room}/members/{user}", a.authed(rooms, a.deleteMember)},
		{"GET /rooms/{room}/messages", a.authed(rooms, a.roomMessages)},
		{"DELETE /rooms/{room}/messages/{id}", a.authed(rooms, a.deleteMessage)},

		{"GET /conversations/{user}/messages", a.authed(users, a.conversationMessages)},
		{"POST /conversations/{user}/messages", a.authed(publish, a.postPrivate)},
		{"GET /unread", a.authed(users, a.unread)},

		{"POST /rooms/{room}/messages", a.authed(publish, a.postMessage)},
		{"POST /messages", a.authed(publish, a.postBatch)},
		{"POST /notices", a.authed(publish, a.postNotice)},

		{"GET /rooms/{room}/online", a.authed(policy{scope: auth.ScopePresence}, a.roomOnline)},
		{"GET /connections/{user}", a.authed(policy{admin: true, scope: auth.ScopePresence}, a.connections)},
		{"DELETE /connections/{user}", a.authed(policy{admin: true, scope: auth.ScopeUsers}, a.disconnect)},

		{"POST /notifications", a.authed(publish, a.publishNotification)},
		{"GET /notifications", a.authed(users, a.listNotifications)},
		{"POST /notifications/read", a.authed(users, a.readNotifications)},
		{"GET /subscriptions", a.authed(users, a.listSubscriptions)},
		{"PUT /subscriptions/{pattern}", a.authed(users, a.putSubscription)},
		{"DELETE /subscriptions/{pattern}", a.authed(users, a.deleteSubscription)},

		{"POST /admin/webhooks", a.authed(adminOnly, a.createWebhook)},
		{"GET /admin/webhooks", a.authed(adminOnly, a.listWebhooks)},
		{"DELETE /admin/webhooks/{id}", a.authed(adminOnly, a.deleteWebhook)},

		{"POST /admin/keys", a.authed(adminOnly, a.createKey)},
		{"GET /admin/keys", a.authed(adminOnly, a.listKeys)},
		{"DELETE /admin/keys/{id}", a.authed(adminOnly, a.revokeKey)},

		{"GET /admin/audit", a.authed(adminOnly, a.listAudit)},
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.HandleFunc(method+" "+Prefix+path, a.cors(a.limits(rt.h)))
		a.mounted = append(a.mounted, rt.pattern)
	}
	mux.HandleFunc("OPTIONS "+Prefix+"/", a.preflight)
}

// Routes lists the endpoints Register mounted, as "METHOD /path" patterns
// without Prefix, in the route table's order; the CORS preflight, which
// answers OPTIONS on every path, is not among them. The OpenAPI document
// must describe exactly these.
func (a *API) Routes() []string { return slices.Clone(a.mounted) }

// policy says who may call an endpoint. Signed-in users may unless
// keysOnly (server admins only, with admin); guests, with their guest
// token, only where guests is set; API keys only where scope names what
// they need.
type policy struct {
	guests   bool
	admin    bool
	keysOnly bool
	scope    string
}

// adminOnly is the policy of the endpoints that manage the server itself:
// server admins and keys with the admin scope.
var adminOnly = policy{admin: true, scope: auth.ScopeAdmin}

// authedFunc is a handler for a request whose caller was authenticated.
type authedFunc func(w http.ResponseWriter, r *http.Request, id auth.Identity)

// authed authenticates the request's bearer token — a user's, a guest's or
// an API key — and lets it through to h when p allows that caller.
func (a *API) authed(p policy, h authedFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := a.caller(r, p)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r, id)
	}
}

// caller returns the identity the request's bearer token proves, if p
// lets it call: 401 for a missing or refused credential, 403 for one that
// is good but may not use this endpoint.
func (a *API) caller(r *http.Request, p policy) (auth.Identity, error) {
	token := bearer(r)
	if token == "" {
		return auth.Identity{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
			"send an access token or API key as \"Authorization: Bearer <token>\"")
	}
	if strings.HasPrefix(token, auth.APIKeyPrefix) {
		return a.keyCaller(r, token, p)
	}
	id, err := a.identify(r.Context(), token)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return auth.Identity{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
			"the access token expired; refresh it")
	case errors.Is(err, auth.ErrInvalidToken):
		return auth.Identity{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
			"the access token is invalid or its session was signed out")
	case err != nil:
		return auth.Identity{}, err
	case id.UserID == "" || (id.Guest && !p.guests):
		return auth.Identity{}, errorf(http.StatusUnauthorized, protocol.CodeUnauthorized,
			"guests cannot use this endpoint; sign in")
	case p.admin && !id.Admin:
		return auth.Identity{}, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only server administrators may do this")
	case p.keysOnly:
		return auth.Identity{}, errorf(http.StatusForbidden, protocol.CodeForbidden,
			"only API keys may do this; users send over the WebSocket")
	}
	return id, nil
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
