package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/audit"
	"github.com/parley-chat/parley/internal/broker"
	"github.com/parley-chat/parley/internal/broker/memory"
	"github.com/parley-chat/parley/internal/broker/natsbroker"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/hub"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/lograte"
	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/protocol"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transport/ws"
	"github.com/parley-chat/parley/internal/webhook"
)

// Version is the server's version, set at build time with
// -ldflags "-X github.com/parley-chat/parley/server.Version=v1.2.3".
var Version = "dev"

// Commit is the commit the binary was built from, for builds that carry no
// VCS stamp of Go's own (-buildvcs=false, or a source tree without .git
// such as a Docker build context); deploy/build.sh sets it with
// -ldflags "-X github.com/parley-chat/parley/server.Commit=…". Default "".
var Commit = ""

// Config is the complete configuration of a server: every setting that
// `parley serve` takes as a flag, a PARLEY_* variable or a config-file key,
// under the same names (docs/CONFIG.md lists them with their defaults and
// ranges). Start from DefaultConfig and change what you need; New checks
// it.
type Config = config.Config

// DefaultConfig returns the settings `parley serve` uses when nothing is
// set: one node on localhost:8080, SQLite in ./parley-data, built-in
// accounts on, guests off.
func DefaultConfig() Config { return config.Default() }

// Options are what an embedding program may supply besides the Config.
type Options struct {
	// Logger receives the server's logs; nil builds one from the Config's
	// log format and level, writing to LogOutput. Either way, repeats of
	// the same warning or error are rate limited (see package lograte).
	Logger *slog.Logger
	// LogOutput is where a built logger writes; nil means standard error.
	LogOutput io.Writer
}

// Server is a Parley server. Create it with New, serve with Run or Serve.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	store    store.Store
	broker   broker.Broker
	hub      *hub.Hub
	ws       *ws.Server
	auth     *authenticator
	metrics  *metrics.Metrics
	webhooks *webhook.Service
	audit    *audit.Recorder
	mux      *http.ServeMux
	handler  http.Handler // mux with the API's access log and metrics
	nodeID   string
	limits   *limit.Node
	clientIP *limit.ClientIP
	files    files
	lock     *sqlite.Lock // held on the SQLite database while the server lives; nil with PostgreSQL
	cert     *certificate // the TLS certificate; nil without TLS
	logRate  *lograte.Handler
	writes   *writeHealth // whether the store still commits; /readyz asks it

	// listenAddr is the address Serve listens on, once it does.
	listenAddr atomic.Value

	mu       sync.Mutex
	draining bool
	closed   bool
}

// New opens the store (migrating it), prepares authentication and wires the
// hub and transport. The caller must Close the server, or Run it, which
// closes it on return.
func New(ctx context.Context, cfg Config, opts Options) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := checkFiles(cfg)
	if err != nil {
		return nil, err
	}
	log, logRate := serverLogger(cfg, opts)
	defer func() {
		if err != nil {
			logRate.Close()
		}
	}()
	signingKey, err := f.prepare(log)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, nodeID: randomID(3), files: f, cert: f.cert, logRate: logRate}
	if s.lock, err = lockDatabase(f, cfg); err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		_ = s.lock.Release()
		return nil, err
	}
	s.store = st
	if s.broker, err = openBroker(cfg, s.nodeID, log); err != nil {
		_ = st.Close()
		return nil, err
	}
	s.metrics = metrics.New(metrics.Gauges{
		Rooms: func() float64 { return float64(s.hub.Stats().Rooms) },
		Users: func() float64 { return float64(s.hub.Stats().Users) },
	})
	logRate.SetCounter(s.metrics.LogRecord)
	s.writes = newWriteHealth(st, s.metrics.StoreWritable, s.metrics.StoreWriteFailed)
	if o, ok := st.(store.Observable); ok {
		o.ObserveCommits(s.metrics)
	}
	s.audit = audit.New(st, log, s.metrics.AdminAction)
	s.webhooks, err = webhook.New(ctx, webhook.Config{
		RetryMin: cfg.WebhookRetryMin, RetryFor: cfg.WebhookRetryFor, Timeout: cfg.WebhookTimeout,
		Workers: cfg.WebhookWorkers, UserAgent: "Parley-Webhook/" + Version,
	}, st, log, s.metrics)
	if err != nil {
		s.closeBackends()
		return nil, fmt.Errorf("server: webhooks: %w", err)
	}
	var roomCreations *limit.Keyed
	if s.limits, roomCreations, s.clientIP, err = nodeLimits(cfg, log); err != nil {
		s.closeBackends()
		return nil, fmt.Errorf("server: limits: %w", err)
	}
	s.metrics.ObserveLimits(s.limits, roomCreations)
	s.hub = hub.New(hub.Config{
		MaxRoomName:        cfg.MaxRoomNameLength,
		MaxMessageLength:   cfg.MaxMessageLength,
		MaxRoomsPerConn:    cfg.MaxRoomsPerConn,
		MaxConnsPerUser:    cfg.MaxConnsPerUser,
		TypingTimeout:      cfg.TypingTimeout,
		RecoveryWindow:     cfg.RecoveryWindow,
		MaxReplayBytes:     cfg.SendQueueBytes / 2,
		HistoryLimit:       cfg.HistoryLimit,
		OnAppend:           s.appended,
		Events:             s.webhooks,
		RoomCreation:       cfg.RoomCreation,
		Cluster:            s.cluster(st),
		PresenceBatchAbove: cfg.PresenceBatchAbove,
		PresenceInterval:   cfg.PresenceInterval,
		ReservedRooms:      reservedRooms(cfg),
		MaxRoomsPerUser:    cfg.MaxRoomsPerUser,
		RoomCreations:      roomCreations,
		Audit:              s.audit,
	}, st, s.broker, log)
	if nb, ok := s.broker.(interface{ OnReconnect(func()) }); ok {
		nb.OnReconnect(s.hub.BrokerReconnected)
	}
	s.auth = newAuthenticator(cfg, st, log, signingKey, f.external)
	s.ws = ws.NewServer(ws.Config{
		AllowedOrigins:    cfg.AllowedOrigins,
		HeartbeatInterval: cfg.HeartbeatInterval,
		HeartbeatTimeout:  cfg.HeartbeatTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		AuthTimeout:       cfg.AuthTimeout,
		MaxFrameBytes:     cfg.MaxFrameBytes,
		SendQueueBytes:    cfg.SendQueueBytes,
		WriteDelay:        cfg.WriteDelay,
		RateMessages:      cfg.RateMessages,
		RateBurst:         cfg.RateBurst,
		ServerVersion:     Version,
		Limits:            s.limits,
	}, s.hub, s.auth, s.nodeID, log, s.metrics)
	s.routes()
	return s, nil
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	driver, dsn := cfg.DatabaseDSN()
	switch driver {
	case config.DriverPostgres:
		st, err := postgres.Open(ctx, dsn, log)
		if err != nil {
			return nil, fmt.Errorf("server: open PostgreSQL: %w", err)
		}
		return st, nil
	case config.DriverSQLite:
		st, err := sqlite.Open(ctx, dsn, log)
		if err != nil {
			return nil, fmt.Errorf("server: open SQLite at %s: %w", dsn, err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("server: unsupported database URL %q", cfg.DatabaseURL)
}

// Handler returns the server's HTTP handler: WebSockets, health checks, the
// API and the protocol schema.
func (s *Server) Handler() http.Handler { return s.handler }

// Online reports how many WebSocket connections the user with this id has
// open on this server.
func (s *Server) Online(userID string) int { return s.hub.Online(userID) }

// Run listens on the configured address and serves until ctx is cancelled,
// then shuts down gracefully (see Serve).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled. Then it stops accepting, sends
// every WebSocket client close 1012, waits up to ShutdownTimeout for them to
// go (cutting those still open after it), stops the HTTP server and closes
// the store. It returns nil once stopped, and an error only when it could
// not serve at all.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		// Slow bodies and slow readers are cut off. A WebSocket upgrade
		// clears both deadlines (gorilla's Upgrade does), and the API
		// clears the read deadline once it has the body, so a request
		// waiting for a password hash is not cancelled (see api.limits).
		ReadTimeout:  s.cfg.HTTPReadTimeout,
		WriteTimeout: s.cfg.HTTPWriteTimeout,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.listenAddr.Store(ln.Addr().String())
	s.logStartup(ln.Addr())
	errc := make(chan error, 1)
	if s.cert != nil {
		hs.TLSConfig = s.cert.tlsConfig()
		go func() { errc <- hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- hs.Serve(ln) }()
	}
	memCtx, stopMem := context.WithCancel(ctx)
	memDone := make(chan struct{})
	go func() { defer close(memDone); s.releaseMemory(memCtx, 1000) }()
	defer func() { stopMem(); <-memDone }()
	for _, side := range []struct {
		addr string
		mux  func() *http.ServeMux
	}{{s.cfg.MetricsAddr, s.metricsMux}, {s.cfg.DebugAddr, debugMux}} {
		if side.addr == "" {
			continue
		}
		stop, err := s.serveSide(side.addr, side.mux())
		if err != nil {
			_ = hs.Close()
			<-errc
			s.Close()
			return err
		}
		defer stop()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		if errors.Is(serveErr, http.ErrServerClosed) {
			serveErr = nil
		}
	}
	s.log.Info("shutting down", "connections", s.ws.Count(), "timeout", s.cfg.ShutdownTimeout)
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.hub.Stopping()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting first, then close the WebSockets (hijacked, so
	// Shutdown does not wait for them), then wait for plain requests.
	// Cutting what is still open when the timeout passes is what the
	// operator asked for, not a failure: the stop is still clean.
	_ = ln.Close()
	cut := s.ws.Drain(sctx)
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		s.log.Warn("shutdown timeout passed; cut the HTTP requests still running", "timeout", s.cfg.ShutdownTimeout)
	}
	if cut > 0 {
		s.log.Warn("shutdown timeout passed; cut the WebSocket connections still open", "connections", cut, "timeout", s.cfg.ShutdownTimeout)
	}
	if serveErr == nil {
		<-errc
	}
	s.Close()
	if serveErr != nil {
		return serveErr
	}
	s.log.Info("shut down cleanly")
	return nil
}

// metricsMux serves /metrics alone, for a private metrics listener.
func (s *Server) metricsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	return mux
}

// debugMux serves Go's profiler, only ever on its own opt-in listener.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveSide serves mux on a listener of its own (metrics, profiler), so it
// can stay private while the main address is public. The returned func
// stops it.
func (s *Server) serveSide(addr string, mux *http.ServeMux) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	s.log.Info("side listener up", "addr", ln.Addr().String())
	return func() { _ = hs.Close(); <-done }, nil
}

// Close releases the hub, broker and store. Serve calls it; call it directly
// only for a server that was never served.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.ws.Close()
	s.hub.Close()
	s.closeBackends()
	s.logRate.Close()
}

func (s *Server) closeBackends() {
	if s.webhooks != nil {
		s.webhooks.Close() // writes the events still queued to the store
	}
	if s.broker != nil {
		_ = s.broker.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing the store", "err", err)
		}
	}
	if err := s.lock.Release(); err != nil {
		s.log.Warn("releasing the database lock", "err", err)
	}
}

// databaseName says where the data lives, for the startup line: the
// SQLite file or the PostgreSQL URL without its password.
func (s *Server) databaseName() string {
	if s.files.sqlite != "" {
		return s.files.sqlite
	}
	if u, err := url.Parse(s.cfg.DatabaseURL); err == nil {
		return u.Redacted()
	}
	return "postgres"
}

// baseURL is the address to open in a browser: the configured host (or
// localhost for one that listens on every interface) and the port the
// listener got, with https when tls.
func baseURL(configured string, bound net.Addr, tls bool) string {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

// logStartup logs the line an operator looks for: the URL to open, the
// WebSocket URL, where the data and the keys live, and what is on.
func (s *Server) logStartup(bound net.Addr) {
	u := baseURL(s.cfg.Addr, bound, s.cert != nil)
	attrs := []any{"url", u, "websocket", "ws" + strings.TrimPrefix(u, "http") + "/ws", "version", Version, "node", s.nodeID,
		"database", s.databaseName()}
	if s.files.dataDir != "" {
		attrs = append(attrs, "data_dir", s.files.dataDir)
	}
	attrs = append(attrs, "signing_key", s.files.signingKey)
	if s.cert != nil {
		attrs = append(attrs, "tls_cert", s.cert.certFile)
		attrs = append(attrs, certAttrs(s.cert.cur.Load())...)
	}
	metricsURL := u + "/metrics"
	if s.cfg.MetricsAddr != "" {
		metricsURL = "http://" + s.cfg.MetricsAddr + "/metrics"
	}
	attrs = append(attrs, "metrics", metricsURL, "guests", s.cfg.Guests, "accounts", s.cfg.Accounts)
	s.log.Info("parley listening", attrs...)
	s.log.Info("connection limits", limitAttrs(s.limits, s.clientIP, s.cfg)...)
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// reservedRooms returns the configured reserved room names as room keys.
// Validate has checked that each is a room name.
func reservedRooms(cfg Config) []string {
	out := make([]string, 0, len(cfg.ReservedRooms))
	for _, name := range cfg.ReservedRooms {
		if key, err := protocol.NormaliseRoom(name, cfg.MaxRoomNameLength); err == nil {
			out = append(out, key)
		}
	}
	return out
}

// openBroker returns the in-process broker of a single node, or the NATS
// broker of a cluster.
func openBroker(cfg Config, nodeID string, log *slog.Logger) (broker.Broker, error) {
	if cfg.Broker == "" {
		return memory.New(), nil
	}
	var cas []string
	if cfg.BrokerCAFile != "" {
		cas = []string{cfg.BrokerCAFile}
	}
	b, err := natsbroker.Open(natsbroker.Config{URLs: cfg.Broker, Prefix: cfg.BrokerPrefix, Name: "parley " + nodeID,
		CredsFile: cfg.BrokerCredsFile, RootCAs: cas, Log: log})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	log.Info("sharing events through NATS", "broker", redactBroker(cfg.Broker), "prefix", cfg.BrokerPrefix, "node", nodeID)
	return b, nil
}

// redactBroker hides a password in broker URLs for the log.
func redactBroker(urls string) string {
	parts := strings.Split(urls, ",")
	for i, u := range parts {
		if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.User != nil {
			p.User = url.User(p.User.Username())
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ",")
}

// cluster is the hub's Cluster when the server shares events with other
// nodes, nil for one node.
func (s *Server) cluster(st store.Store) *hub.Cluster {
	p, ok := st.(store.Presence)
	if s.cfg.Broker == "" || !ok {
		return nil
	}
	return &hub.Cluster{Node: s.clusterNodeID(), Presence: p, NodeTimeout: s.cfg.NodeTimeout,
		Heartbeat: min(2*time.Second, s.cfg.NodeTimeout/5)}
}

// clusterNodeID is the node's id in the cluster, kept in the data
// directory so that a restart is recognised as the same node. Without a
// writable data directory the node is new at every start.
func (s *Server) clusterNodeID() string {
	path := filepath.Join(s.cfg.DataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" && len(id) <= 64 {
			return id
		}
	}
	id := "n" + randomID(6)
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err == nil {
		err = os.WriteFile(path, []byte(id+"\n"), 0o600)
		if err != nil {
			s.log.Warn("cluster: could not keep the node id; a restart will count as a new node", "path", path, "err", err)
		}
	}
	return id
}
