package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/limit"
)

// nodeLimits builds the limits that follow a user or an address on this
// node from cfg. It also returns the room-creation limiter, which the hub
// applies, and the reader of client addresses behind trusted proxies.
func nodeLimits(cfg config.Config, log *slog.Logger) (*limit.Node, *limit.Keyed, *limit.ClientIP, error) {
	clientIP, err := limit.NewClientIP(cfg.TrustedProxies, cfg.ClientIPHeader)
	if err != nil {
		return nil, nil, nil, err // Validate has already checked both
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = connsFromFileLimit(log)
	}
	keyed := func(rate float64, burst int) *limit.Keyed {
		return limit.NewKeyed(limit.KeyedConfig{Rate: rate, Burst: burst})
	}
	l := &limit.Node{
		Gate: limit.NewGate(limit.GateConfig{
			MaxConns:      maxConns,
			MaxPerAddress: cfg.MaxConnsPerAddress,
			AcceptRate:    cfg.AcceptRate,
			// 50 ms worth passes at once: a handful of connections
			// arriving together is not a storm.
			AcceptBurst: max(1, int(cfg.AcceptRate/20)),
			MaxWait:     cfg.AcceptWait,
		}),
		UserMessages:    keyed(cfg.UserRateMessages, cfg.UserRateBurst),
		AddressMessages: keyed(cfg.AddressRateMessages, cfg.AddressRateBurst),
		UserJoins:       keyed(cfg.UserRateJoins, cfg.UserRateJoinBurst),
		AddressJoins:    keyed(cfg.AddressRateJoins, cfg.AddressRateJoinBurst),
	}
	var rooms *limit.Keyed
	if cfg.RoomCreateRate > 0 {
		rooms = keyed(float64(cfg.RoomCreateRate)/60, cfg.RoomCreateRate)
	}
	return l, rooms, clientIP, nil
}

// connsFromFileLimit sizes the node's connection cap from the open-file
// limit: nine tenths of it, leaving the rest for the database, the broker,
// the listeners and HTTP requests. Go raises the soft limit to the hard
// one when the process starts, so this is the most the process can open.
func connsFromFileLimit(log *slog.Logger) int {
	n, ok := openFileLimit()
	if !ok {
		log.Warn("cannot read the open-file limit; set max-conns to cap this node's connections")
		return 0
	}
	return max(int(n/10*9), 1)
}

// clientAddr rewrites each request's RemoteAddr to the client address a
// trusted proxy gives, so that every limit, the sign-in limiter and the
// logs see the client rather than the proxy. Without trusted proxies it is
// not installed and RemoteAddr stays the socket's peer.
func clientAddr(c *limit.ClientIP, next http.Handler) http.Handler {
	if !c.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := c.Addr(r); ok {
			r2 := *r
			r2.RemoteAddr = a.String()
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// limitAttrs describes the connection limits for the startup log.
func limitAttrs(l *limit.Node, c *limit.ClientIP, cfg config.Config) []any {
	g := l.Gate.Config()
	return []any{"max_conns", g.MaxConns, "max_conns_per_address", g.MaxPerAddress,
		"accept_rate", g.AcceptRate, "accept_wait", g.MaxWait.Round(time.Millisecond),
		"trusted_proxies", len(cfg.TrustedProxies), "client_ip_header", clientIPHeader(c, cfg)}
}

func clientIPHeader(c *limit.ClientIP, cfg config.Config) string {
	if !c.Enabled() {
		return "(ignored: no trusted proxies)"
	}
	return cfg.ClientIPHeader
}
