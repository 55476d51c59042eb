package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Config is the complete configuration of a Parley server. The zero value is
// not usable; start from Default or Load.
//
// Each field's `flag` tag is its name as a flag, as a config-file key and,
// upper-cased with a PARLEY_ prefix and dashes turned into underscores, as an
// environment variable. The `usage` tag is its one-line -h text.
// docs/CONFIG.md documents every field; a test fails when it does not.
type Config struct {
	// ConfigFile is the YAML file read by Load, beneath the environment and
	// the flags. It can be set only by --config or PARLEY_CONFIG, not from
	// the file itself. Default "": no file.
	ConfigFile string `flag:"config,nofile" usage:"YAML config file; flags and PARLEY_* variables override its keys"`

	// Addr is the TCP address the HTTP and WebSocket listener binds, as
	// host:port. Default "localhost:8080", which is reachable only from this
	// machine; use ":8080" to listen on every interface.
	Addr string `flag:"addr" usage:"listen address (host:port) for HTTP and WebSocket"`

	// TLSCert is a PEM file holding the server's certificate, followed by
	// any intermediate certificates. With TLSKey, the server speaks HTTPS
	// and WSS on Addr itself; both are read again on SIGHUP, so a renewed
	// certificate serves new connections while open ones go on. Default
	// "": plain HTTP, for TLS at a reverse proxy. Give both or neither.
	// TLS costs CPU per byte sent, on top of the fan-out.
	TLSCert string `flag:"tls-cert" usage:"PEM certificate (chain) file: serve HTTPS and WSS; reread on SIGHUP"`

	// TLSKey is the PEM file holding the private key of TLSCert.
	// Default "".
	TLSKey string `flag:"tls-key" usage:"PEM private key file of tls-cert"`

	// DataDir is the directory that holds the SQLite database and the
	// generated token signing key. It is created on first start.
	// Default "./parley-data", relative to the working directory.
	DataDir string `flag:"data-dir" usage:"directory for the SQLite database and generated signing key"`

	// DatabaseURL selects the store. Empty (the default) means SQLite at
	// <DataDir>/parley.db; "sqlite:PATH" means SQLite at PATH;
	// "postgres://…" or "postgresql://…" means PostgreSQL, which is what
	// several nodes must share. See DatabaseDSN. The URL may contain a
	// password; prefer the environment variable to the flag, which other
	// local users can read from the process list.
	DatabaseURL string `flag:"database-url" usage:"empty = SQLite in data-dir; sqlite:PATH; or postgres://user:pass@host/db"`

	// Broker carries events between nodes. Default "": in-process, for a
	// single node. "nats://host:4222" (several comma-separated URLs allowed,
	// as NATS accepts) shares events through NATS so that any node can serve
	// any client; every node must then also share a PostgreSQL database.
	Broker string `flag:"broker" usage:"empty = in-process (one node); nats://host:4222 to share events between nodes"`

	// BrokerPrefix starts every NATS subject, so that two Parley
	// clusters can share one NATS. Default "parley".
	BrokerPrefix string `flag:"broker-prefix" usage:"NATS subject prefix of this cluster"`

	// BrokerCredsFile is a NATS credentials file (JWT and NKey seed) for
	// a NATS that authenticates that way; a user and password can go in
	// the broker URL instead.
	BrokerCredsFile string `flag:"broker-creds-file" usage:"NATS credentials file"`

	// BrokerCAFile is a PEM file of the certificate authority that
	// signed a tls:// NATS server's certificate, when the system's do
	// not.
	BrokerCAFile string `flag:"broker-ca-file" usage:"PEM certificate authority of a tls:// NATS"`

	// NodeTimeout is how long a cluster node that sends no heartbeat is
	// taken for alive: after it, its users leave their rooms. A restarted
	// node keeps its users' presence this long for them to come back.
	// Default 10s.
	NodeTimeout time.Duration `flag:"node-timeout" usage:"how long a silent cluster node counts as alive"`

	// LogFormat is the log encoding: "text" (default, for people) or "json"
	// (for log collectors).
	LogFormat string `flag:"log-format" usage:"log format: text or json"`

	// LogLevel is the lowest level logged: "debug", "info" (default), "warn"
	// or "error". Debug logs every frame and costs throughput under load.
	LogLevel string `flag:"log-level" usage:"log level: debug, info, warn or error"`

	// AllowedOrigins lists extra browser Origins (such as
	// "https://chat.example.com") allowed to open WebSockets and to call the
	// HTTP API from the browser (CORS), besides pages served from the same
	// host, which are always allowed. Default empty.
	// "*" allows every origin, which lets any web page a signed-in user
	// visits act as that user if auth rides on cookies: unsafe outside
	// development.
	AllowedOrigins []string `flag:"allowed-origins" usage:"extra Origins allowed to open WebSockets, comma-separated (* = any; unsafe)"`

	// HeartbeatInterval is how often the server pings each connection.
	// Default 25s, under the 30s idle cut-off of common proxies. Shorter
	// finds dead peers sooner at the cost of one small frame per
	// connection per interval.
	HeartbeatInterval time.Duration `flag:"heartbeat-interval" usage:"how often the server pings each connection"`

	// HeartbeatTimeout is the grace after a missed heartbeat: a connection
	// from which nothing has been read for HeartbeatInterval +
	// HeartbeatTimeout is closed. Default 10s.
	HeartbeatTimeout time.Duration `flag:"heartbeat-timeout" usage:"a connection silent for heartbeat-interval + this is closed"`

	// WriteTimeout is the deadline for one write to one client; a client
	// that cannot take a frame in this time is disconnected. Default 10s.
	WriteTimeout time.Duration `flag:"write-timeout" usage:"deadline for one write to a client"`

	// ReadHeaderTimeout bounds how long a client may take to send its HTTP
	// request headers (a slowloris guard). Default 5s.
	ReadHeaderTimeout time.Duration `flag:"read-header-timeout" usage:"time allowed to read HTTP request headers"`

	// HTTPReadTimeout bounds how long a client may take to send a whole
	// HTTP request, headers and body, so a client trickling a body cannot
	// hold a connection and a goroutine. An API request's body that is not
	// complete by then gets 408. Default 10s: the API's bodies are at most
	// max-body-bytes. It does not limit WebSockets, whose upgrade clears it.
	HTTPReadTimeout time.Duration `flag:"http-read-timeout" usage:"time allowed to read a whole HTTP request, headers and body (not WebSockets)"`

	// HTTPWriteTimeout bounds how long the server spends writing one HTTP
	// response, counted from the end of the request's headers; a client
	// reading too slowly is cut off. Default 30s. WebSockets are not
	// subject to it (each frame has write-timeout instead).
	HTTPWriteTimeout time.Duration `flag:"http-write-timeout" usage:"time allowed to write one HTTP response (not WebSockets)"`

	// MaxBodyBytes caps the body of any HTTP API request; a larger one is
	// refused with 413 before it is read in full. Default 65536: every API
	// request is a few hundred bytes but a batch of messages. The server
	// buffers up to this much per request in flight.
	MaxBodyBytes int `flag:"max-body-bytes" usage:"largest HTTP API request body, in bytes"`

	// AuthTimeout is how long a WebSocket opened without credentials in its
	// request may take to send its auth frame before it is closed with
	// 4001. Default 10s. Each waiting connection holds a socket and a
	// little memory, so a long wait lets idle sockets pile up.
	AuthTimeout time.Duration `flag:"auth-timeout" usage:"time a WebSocket without credentials has to send its auth frame"`

	// ShutdownTimeout is how long the server drains connections and
	// in-flight writes after SIGTERM before closing them. Default 10s.
	ShutdownTimeout time.Duration `flag:"shutdown-timeout" usage:"time to drain connections on shutdown"`

	// MaxFrameBytes is the largest WebSocket message accepted from a
	// client, in bytes; a larger one closes the connection with 1009.
	// Default 65536. The reader may buffer up to this much per connection
	// while a frame arrives.
	MaxFrameBytes int `flag:"max-frame-bytes" usage:"largest WebSocket message accepted from a client, in bytes"`

	// MaxMessageLength is the longest chat text, in characters (Unicode
	// code points, not bytes). Default 4000.
	MaxMessageLength int `flag:"max-message-length" usage:"longest chat message, in characters"`

	// MaxRoomNameLength is the longest room name, in characters.
	// Default 64.
	MaxRoomNameLength int `flag:"max-room-name-length" usage:"longest room name, in characters"`

	// MaxRoomsPerConn is how many rooms one connection may have joined at
	// once. Default 100. Each membership costs hub memory and fan-out work.
	MaxRoomsPerConn int `flag:"max-rooms-per-conn" usage:"rooms one connection may join at once"`

	// MaxConnsPerUser is how many connections one user may hold open at
	// once across tabs and devices. Default 16.
	MaxConnsPerUser int `flag:"max-conns-per-user" usage:"simultaneous connections per user"`

	// PresenceBatchAbove is how many connections a room may have on a
	// node before its presence changes are gathered into one
	// presence_diff frame per PresenceInterval. Default 100.
	PresenceBatchAbove int `flag:"presence-batch-above" usage:"connections in a room above which presence changes are sent gathered"`

	// PresenceInterval is how often a busy room sends its gathered
	// presence changes. Default 1s.
	PresenceInterval time.Duration `flag:"presence-interval" usage:"how often a busy room sends its presence changes"`

	// RoomCreation says who may create a room (by joining it or over the
	// API): anyone (guests included), accounts (signed-in users with an
	// account or a token from the application, not guests) or admins.
	// API keys with the rooms scope always may. Default accounts.
	RoomCreation string `flag:"room-creation" usage:"who may create rooms: anyone, accounts or admins"`

	// ReservedRooms are room names only server administrators and API
	// keys may create, so that no one else can claim them first.
	ReservedRooms []string `flag:"reserved-rooms" usage:"room names only administrators may create, comma-separated"`

	// MaxRoomsPerUser is how many rooms one user may own; 0 means no
	// limit. Default 100. Administrators are not limited.
	MaxRoomsPerUser int `flag:"max-rooms-per-user" usage:"rooms one user may own (0 = no limit)"`

	// RateMessages is the sustained rate of frames per second each
	// connection may send; frames beyond it and RateBurst are refused with
	// a rate-limit error. Default 10.
	RateMessages float64 `flag:"rate-messages" usage:"sustained frames per second per connection"`

	// RateBurst is how many frames a connection may send at once above
	// RateMessages before being limited. Default 20.
	RateBurst int `flag:"rate-burst" usage:"burst of frames per connection above rate-messages"`

	// UserRateMessages is the sustained rate of frames that write a
	// message (chat, private, edit, delete, react) one user may send per
	// second over all their connections to one node, besides each
	// connection's own RateMessages. Default 10; 0 turns it off.
	UserRateMessages float64 `flag:"user-rate-messages" usage:"sustained messages per second per user, over all their connections to a node (0 = off)"`

	// UserRateBurst is how many such frames a user may send at once above
	// UserRateMessages. Default 30.
	UserRateBurst int `flag:"user-rate-burst" usage:"burst of messages per user above user-rate-messages"`

	// UserRateJoins is the sustained rate of joins one user may make per
	// second over all their connections to one node. Default 20; 0
	// turns it off.
	UserRateJoins float64 `flag:"user-rate-joins" usage:"sustained joins per second per user, over all their connections to a node (0 = off)"`

	// UserRateJoinBurst is how many joins a user may make at once above
	// UserRateJoins, as when a reconnecting client rejoins its rooms.
	// Default 200.
	UserRateJoinBurst int `flag:"user-rate-join-burst" usage:"burst of joins per user above user-rate-joins"`

	// AddressRateMessages is UserRateMessages per client address (IPv6 by
	// /64) instead of per user: it bounds what many users, guests or
	// accounts made for the purpose can send from one place. Default 100;
	// 0 turns it off. Raise it for large NATs or proxies without
	// TrustedProxies.
	AddressRateMessages float64 `flag:"address-rate-messages" usage:"sustained messages per second per client address, on a node (0 = off)"`

	// AddressRateBurst is the burst above AddressRateMessages.
	// Default 300.
	AddressRateBurst int `flag:"address-rate-burst" usage:"burst of messages per client address above address-rate-messages"`

	// AddressRateJoins is UserRateJoins per client address. Default 200;
	// 0 turns it off.
	AddressRateJoins float64 `flag:"address-rate-joins" usage:"sustained joins per second per client address, on a node (0 = off)"`

	// AddressRateJoinBurst is the burst above AddressRateJoins.
	// Default 2000.
	AddressRateJoinBurst int `flag:"address-rate-join-burst" usage:"burst of joins per client address above address-rate-joins"`

	// RoomCreateRate is how many rooms one user may create per minute, by
	// joining them or over the API, with a burst of the same size; 0
	// means no limit. Default 10. Administrators and API keys are not
	// limited.
	RoomCreateRate int `flag:"room-create-rate" usage:"rooms one user may create per minute (0 = no limit)"`

	// MaxConns is the most WebSocket connections this node holds at once;
	// the next is refused with HTTP 503 before the upgrade. Default 0:
	// nine tenths of the process's open-file limit, leaving the rest for
	// the store, the broker and HTTP requests.
	MaxConns int `flag:"max-conns" usage:"WebSocket connections this node holds at once (0 = 9/10 of the open-file limit)"`

	// MaxConnsPerAddress is the most WebSocket connections one client
	// address (IPv6 by /64) holds on this node at once; the next is
	// refused with HTTP 429 before the upgrade. Default 2000; 0 means no
	// limit.
	MaxConnsPerAddress int `flag:"max-conns-per-address" usage:"WebSocket connections one client address holds on a node (0 = no limit)"`

	// AcceptRate is how many new WebSocket connections a second this node
	// admits; those above it wait their turn (up to AcceptWait) before
	// the upgrade, so that a reconnect storm is admitted smoothly.
	// Default 2000, the pace at which a draining node spreads its
	// clients' reconnects; 0 admits at once.
	AcceptRate float64 `flag:"accept-rate" usage:"new WebSocket connections admitted per second; more wait their turn (0 = no pacing)"`

	// AcceptWait is the longest a new connection waits for its turn under
	// AcceptRate; one that would wait longer is refused with HTTP 503 and
	// a Retry-After. It bounds the queue to about AcceptRate × AcceptWait
	// waiting requests. Default 5s, half the handshake timeout of
	// Parley's Go client and JavaScript SDK (10s), so that a client that
	// waited its turn is still there to be served.
	AcceptWait time.Duration `flag:"accept-wait" usage:"longest wait for a turn under accept-rate before a 503"`

	// TrustedProxies lists the reverse proxies (CIDR prefixes or single
	// addresses) whose ClientIPHeader is believed. Default empty: the
	// client address is the socket's peer and the header is ignored, so a
	// client cannot choose the address it is limited under.
	TrustedProxies []string `flag:"trusted-proxies" usage:"reverse proxies (CIDRs or addresses) whose client-ip-header is believed, comma-separated"`

	// ClientIPHeader is the header trusted proxies put the client address
	// in: X-Forwarded-For (the right-most address that is not a trusted
	// proxy is taken) or X-Real-IP. Default X-Forwarded-For.
	ClientIPHeader string `flag:"client-ip-header" usage:"header with the client address from trusted proxies: X-Forwarded-For or X-Real-IP"`

	// WriteDelay holds frames for a connection that was written to less
	// than half this long ago, so that frames arriving close together leave
	// in one system call: up to this much added latency for much less CPU
	// under heavy fan-out (a write system call is most of the cost of a
	// delivery).
	// It applies only while the server's writers are already more than
	// 40 ms behind; a quiet connection, or any connection on a server with
	// CPU to spare, is written at once. Default 50ms; 0 turns it off.
	WriteDelay time.Duration `flag:"write-delay" usage:"while the server is behind, gather a busy connection's frames for up to this long into one write (0 = off)"`

	// SendQueueBytes bounds the bytes queued for one connection that the
	// client has not yet taken; past it the client is disconnected as too
	// slow and recovers from history on reconnect. Default 1 MiB. This is
	// the worst-case memory per slow connection.
	SendQueueBytes int `flag:"send-queue-bytes" usage:"outgoing queue bound per connection, in bytes; past it the client is dropped as too slow"`

	// TypingTimeout is how long a "typing" indicator lasts without being
	// renewed. Default 6s.
	TypingTimeout time.Duration `flag:"typing-timeout" usage:"how long a typing indicator lasts without renewal"`

	// Guests allows unauthenticated connections that pick a display name
	// (?name=alice); each is a new user with a random id, and the guest
	// token of its welcome brings it back as the same guest. Default
	// false. Guests are not verified: anyone can call themselves anything.
	Guests bool `flag:"guests" usage:"allow unauthenticated guests (?name=alice)"`

	// Accounts enables built-in sign-up and sign-in with passwords.
	// Default true. Each sign-up and sign-in costs one argon2id hash, tens
	// of MiB of memory and tens of milliseconds of CPU.
	Accounts bool `flag:"accounts" usage:"enable built-in sign-up and sign-in"`

	// TokenTTL is the lifetime of the access tokens Parley issues.
	// Default 15m. Longer means fewer refreshes but slower revocation.
	TokenTTL time.Duration `flag:"token-ttl" usage:"lifetime of issued access tokens"`

	// RefreshTTL is the lifetime of refresh tokens, which is how long a
	// device stays signed in without use. Default 720h (30 days).
	RefreshTTL time.Duration `flag:"refresh-ttl" usage:"lifetime of refresh tokens"`

	// SigningKeyFile is the file holding the key Parley signs its own
	// tokens with. Default "": <DataDir>/signing.key, generated on first
	// start. Every node of a cluster must use the same key.
	SigningKeyFile string `flag:"signing-key-file" usage:"key for Parley's own tokens (default <data-dir>/signing.key, generated)"`

	// JWTAlgorithm turns on sign-in with tokens issued by another system
	// and pins the one algorithm accepted: HS256, HS384, HS512, RS256,
	// RS384, RS512, ES256, ES384, ES512 or EdDSA. Default "": external
	// tokens off. HS* need JWTSecret or JWTSecretFile; the others need
	// JWTPublicKeyFile or JWTJWKSFile.
	JWTAlgorithm string `flag:"jwt-algorithm" usage:"accept external JWTs signed with this algorithm (empty = off)"`

	// JWTSecret is the shared secret for HS* external tokens, at least as
	// long as the hash (32, 48 or 64 bytes). Default "". Prefer
	// JWTSecretFile: flags are visible in the process list.
	JWTSecret string `flag:"jwt-secret" usage:"shared secret for HS* external JWTs (prefer jwt-secret-file)"`

	// JWTSecretFile is a file holding the HS* shared secret; surrounding
	// whitespace is ignored. Default "".
	JWTSecretFile string `flag:"jwt-secret-file" usage:"file holding the shared secret for HS* external JWTs"`

	// JWTPublicKeyFile is a PEM file with the public key that verifies
	// RS*, ES* or EdDSA external tokens. Default "".
	JWTPublicKeyFile string `flag:"jwt-public-key-file" usage:"PEM public key for RS*/ES*/EdDSA external JWTs"`

	// JWTJWKSFile is a JSON Web Key Set file with the public keys that
	// verify RS*, ES* or EdDSA external tokens, chosen by the token's
	// "kid". Default "".
	JWTJWKSFile string `flag:"jwt-jwks-file" usage:"JWKS file for RS*/ES*/EdDSA external JWTs"`

	// JWTAudience, when set, is required in the "aud" claim of external
	// tokens. Default "": not checked. Setting it is recommended whenever
	// the issuer serves more than one application.
	JWTAudience string `flag:"jwt-audience" usage:"required aud claim of external JWTs (empty = not checked)"`

	// JWTIssuer, when set, is required as the "iss" claim of external
	// tokens. Default "": not checked.
	JWTIssuer string `flag:"jwt-issuer" usage:"required iss claim of external JWTs (empty = not checked)"`

	// RecoveryWindow is the most events replayed to a client re-joining a
	// room from its last seen sequence; if it missed more, the server
	// replays none and says recovery is incomplete, and the client reloads
	// history instead. Default 1000. Larger windows cost store reads and
	// queue bytes on reconnect storms.
	RecoveryWindow int `flag:"recovery-window" usage:"most events replayed when a client re-joins a room"`

	// HistoryLimit is the page size of history requests that do not give
	// one. Default 100; at most 1000, which is also the largest page a
	// client may ask for.
	HistoryLimit int `flag:"history-limit" usage:"default history page size (at most 1000)"`

	// LoginRatePerMinute is how many sign-in attempts are allowed per
	// minute, separately per account and per client address. Default 10.
	// It bounds password guessing and the argon2id CPU an attacker can
	// burn.
	LoginRatePerMinute int `flag:"login-rate" usage:"sign-in attempts per minute, per account and per address"`

	// WebhookRetryMin is the wait before a failed webhook delivery is
	// first retried; each later retry waits twice as long, up to 15
	// minutes. Default 5s.
	WebhookRetryMin time.Duration `flag:"webhook-retry-min" usage:"wait before a failed webhook delivery is first retried (then doubling)"`

	// WebhookRetryFor is how long a webhook event is retried before it is
	// given up. Default 24h. Waiting deliveries are rows in the database.
	WebhookRetryFor time.Duration `flag:"webhook-retry-for" usage:"how long a webhook event is retried before it is given up"`

	// WebhookTimeout bounds one webhook request. Default 10s.
	WebhookTimeout time.Duration `flag:"webhook-timeout" usage:"time one webhook request may take"`

	// WebhookWorkers bounds the webhook requests in flight at once, to all
	// endpoints together; each endpoint gets at most two of them, so a
	// slow one cannot hold the rest. Default 8.
	WebhookWorkers int `flag:"webhook-workers" usage:"webhook requests in flight at once (at most 2 per endpoint)"`

	// MetricsAddr is a separate host:port for Prometheus metrics at
	// /metrics. Default "": metrics are served on Addr at /metrics. A
	// separate, private address keeps them off the public listener.
	MetricsAddr string `flag:"metrics-addr" usage:"separate listen address for /metrics (empty = on addr)"`

	// DebugAddr is a host:port serving Go's profiler (/debug/pprof/) for
	// performance work. Default "": off. Profiles reveal internals and cost
	// CPU while taken, so bind it to a private address only.
	DebugAddr string `flag:"debug-addr" usage:"listen address for /debug/pprof/ (empty = off; keep it private)"`
}

// Default returns the configuration used when nothing is set: a single node
// on localhost:8080 with SQLite in ./parley-data and built-in accounts.
func Default() Config {
	return Config{
		Addr:                 "localhost:8080",
		DataDir:              "./parley-data",
		LogFormat:            "text",
		LogLevel:             "info",
		HeartbeatInterval:    25 * time.Second,
		HeartbeatTimeout:     10 * time.Second,
		WriteTimeout:         10 * time.Second,
		WriteDelay:           50 * time.Millisecond,
		ReadHeaderTimeout:    5 * time.Second,
		HTTPReadTimeout:      10 * time.Second,
		HTTPWriteTimeout:     30 * time.Second,
		MaxBodyBytes:         64 << 10,
		AuthTimeout:          10 * time.Second,
		ShutdownTimeout:      10 * time.Second,
		MaxFrameBytes:        65536,
		MaxMessageLength:     4000,
		MaxRoomNameLength:    64,
		MaxRoomsPerConn:      100,
		RoomCreation:         "accounts",
		PresenceBatchAbove:   100,
		PresenceInterval:     time.Second,
		BrokerPrefix:         "parley",
		NodeTimeout:          10 * time.Second,
		MaxRoomsPerUser:      100,
		MaxConnsPerUser:      16,
		RateMessages:         10,
		RateBurst:            20,
		UserRateMessages:     10,
		UserRateBurst:        30,
		UserRateJoins:        20,
		UserRateJoinBurst:    200,
		AddressRateMessages:  100,
		AddressRateBurst:     300,
		AddressRateJoins:     200,
		AddressRateJoinBurst: 2000,
		RoomCreateRate:       10,
		MaxConnsPerAddress:   2000,
		AcceptRate:           2000,
		AcceptWait:           5 * time.Second,
		ClientIPHeader:       "X-Forwarded-For",
		SendQueueBytes:       1 << 20,
		TypingTimeout:        6 * time.Second,
		Guests:               false,
		Accounts:             true,
		TokenTTL:             15 * time.Minute,
		RefreshTTL:           720 * time.Hour,
		RecoveryWindow:       1000,
		HistoryLimit:         100,
		LoginRatePerMinute:   10,
		WebhookRetryMin:      5 * time.Second,
		WebhookRetryFor:      24 * time.Hour,
		WebhookTimeout:       10 * time.Second,
		WebhookWorkers:       8,
	}
}

// Database drivers returned by DatabaseDSN.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// DatabaseDSN returns the store driver and its data source: DriverSQLite and
// the database file path (<DataDir>/parley.db when DatabaseURL is empty,
// PATH for "sqlite:PATH"), or DriverPostgres and the URL unchanged for
// postgres:// and postgresql:// URLs. It returns "" as the driver for any
// other URL, which Validate rejects.
func (c Config) DatabaseDSN() (driver string, dsn string) {
	u := c.DatabaseURL
	switch {
	case u == "":
		return DriverSQLite, filepath.Join(c.DataDir, "parley.db")
	case hasPrefixFold(u, "sqlite:"):
		return DriverSQLite, u[len("sqlite:"):]
	case hasPrefixFold(u, "postgres://"), hasPrefixFold(u, "postgresql://"):
		return DriverPostgres, u
	}
	return "", u
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
