package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/protocol"
)

// Limits enforced by Validate, also listed in docs/CONFIG.md.
const (
	// MaxHistoryLimit is the largest history page, and so the largest
	// allowed HistoryLimit.
	MaxHistoryLimit = 1000

	// frameOverhead is the room Validate leaves in MaxFrameBytes for a
	// send frame's envelope (type, room, client id) around the text.
	frameOverhead = 1024
	// bytesPerRune is the worst case size of one character of text in a
	// JSON frame: encoding/json writes "<" or a control character as
	// \u003c, six bytes.
	bytesPerRune = 6
)

// JWTAlgorithms lists the accepted values of Config.JWTAlgorithm.
var JWTAlgorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// JWTSecretMinBytes returns the shortest shared secret accepted for the HMAC
// algorithm alg: the size of its hash (32, 48 or 64 bytes), as RFC 7518
// section 3.2 requires. It returns 0 for other algorithms. The auth package
// applies it to secrets read from JWTSecretFile.
func JWTSecretMinBytes(alg string) int {
	switch alg {
	case "HS256":
		return 32
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 0
}

// Validate checks every field and returns all problems found, joined, each
// naming its setting as it is spelled in flags and config files
// ("max-frame-bytes: 100 is out of range [1024, 16777216]"). It does no I/O:
// files named by the configuration are checked when they are opened.
func (c Config) Validate() error {
	v := &validator{}

	v.hostPort("addr", c.Addr, false)
	v.hostPort("metrics-addr", c.MetricsAddr, true)
	v.hostPort("debug-addr", c.DebugAddr, true)
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		v.add("metrics-addr", c.MetricsAddr, "must differ from addr; leave it empty to serve /metrics on addr")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		v.add("tls-cert", nil, "give tls-cert and tls-key together (the certificate and its private key), or neither")
	}
	if c.DataDir == "" {
		v.add("data-dir", c.DataDir, "must not be empty")
	}
	c.validateDatabaseURL(v)
	c.validateBroker(v)
	v.oneOf("log-format", c.LogFormat, []string{"text", "json"})
	v.oneOf("log-level", c.LogLevel, []string{"debug", "info", "warn", "error"})
	for _, o := range c.AllowedOrigins {
		if msg := checkOrigin(o); msg != "" {
			v.add("allowed-origins", o, msg)
		}
	}

	v.duration("heartbeat-interval", c.HeartbeatInterval, 100*time.Millisecond, 10*time.Minute)
	v.duration("heartbeat-timeout", c.HeartbeatTimeout, 100*time.Millisecond, 10*time.Minute)
	v.duration("write-timeout", c.WriteTimeout, time.Second, 10*time.Minute)
	v.duration("read-header-timeout", c.ReadHeaderTimeout, 100*time.Millisecond, 10*time.Minute)
	v.duration("http-read-timeout", c.HTTPReadTimeout, 100*time.Millisecond, 10*time.Minute)
	v.duration("http-write-timeout", c.HTTPWriteTimeout, 100*time.Millisecond, time.Hour)
	if c.HTTPWriteTimeout <= c.HTTPReadTimeout && c.HTTPReadTimeout > 0 {
		// The write deadline starts when the headers are in, so a write
		// timeout no longer than the read one leaves no time to answer a
		// slow body with 408.
		v.add("http-write-timeout", formatDuration(c.HTTPWriteTimeout),
			fmt.Sprintf("must be longer than http-read-timeout (%s), to leave time to answer a slow request", formatDuration(c.HTTPReadTimeout)))
	}
	v.intRange("max-body-bytes", c.MaxBodyBytes, 1024, 16<<20)
	v.duration("auth-timeout", c.AuthTimeout, 100*time.Millisecond, 10*time.Minute)
	v.duration("shutdown-timeout", c.ShutdownTimeout, 0, time.Hour)
	v.duration("write-delay", c.WriteDelay, 0, time.Second)
	v.duration("typing-timeout", c.TypingTimeout, 100*time.Millisecond, 5*time.Minute)
	v.duration("node-timeout", c.NodeTimeout, time.Second, 5*time.Minute)

	frameOK := v.intRange("max-frame-bytes", c.MaxFrameBytes, 1024, 16<<20)
	lengthOK := v.intRange("max-message-length", c.MaxMessageLength, 1, 100_000)
	if need := bytesPerRune*c.MaxMessageLength + frameOverhead; frameOK && lengthOK && c.MaxFrameBytes < need {
		v.add("max-frame-bytes", c.MaxFrameBytes, fmt.Sprintf(
			"too small for max-message-length %d: need at least %d (%d bytes a character when JSON-escaped, plus %d)",
			c.MaxMessageLength, need, bytesPerRune, frameOverhead))
	}
	v.intRange("max-room-name-length", c.MaxRoomNameLength, 1, 1024)
	v.intRange("max-rooms-per-conn", c.MaxRoomsPerConn, 1, 100_000)
	v.intRange("max-conns-per-user", c.MaxConnsPerUser, 1, 100_000)
	v.oneOf("room-creation", c.RoomCreation, []string{"anyone", "accounts", "admins"})
	v.intRange("presence-batch-above", c.PresenceBatchAbove, 1, 1_000_000)
	v.duration("presence-interval", c.PresenceInterval, 50*time.Millisecond, time.Minute)
	for _, name := range c.ReservedRooms {
		if _, err := protocol.NormaliseRoom(name, c.MaxRoomNameLength); err != nil {
			v.add("reserved-rooms", name, "is not a room name: "+err.Message)
		}
	}
	v.intRange("max-rooms-per-user", c.MaxRoomsPerUser, 0, 1_000_000)
	if math.IsNaN(c.RateMessages) || c.RateMessages <= 0 || c.RateMessages > 100_000 {
		v.add("rate-messages", c.RateMessages, "must be above 0 and at most 100000")
	}
	v.intRange("rate-burst", c.RateBurst, 1, 100_000)
	v.rate("user-rate-messages", c.UserRateMessages)
	v.intRange("user-rate-burst", c.UserRateBurst, 1, 1_000_000)
	v.rate("user-rate-joins", c.UserRateJoins)
	v.intRange("user-rate-join-burst", c.UserRateJoinBurst, 1, 1_000_000)
	v.rate("address-rate-messages", c.AddressRateMessages)
	v.intRange("address-rate-burst", c.AddressRateBurst, 1, 1_000_000)
	v.rate("address-rate-joins", c.AddressRateJoins)
	v.intRange("address-rate-join-burst", c.AddressRateJoinBurst, 1, 1_000_000)
	v.intRange("room-create-rate", c.RoomCreateRate, 0, 100_000)
	v.intRange("max-conns", c.MaxConns, 0, 10_000_000)
	v.intRange("max-conns-per-address", c.MaxConnsPerAddress, 0, 10_000_000)
	v.rate("accept-rate", c.AcceptRate)
	v.duration("accept-wait", c.AcceptWait, 0, 5*time.Minute)
	for _, p := range c.TrustedProxies {
		if _, err := limit.ParsePrefix(p); err != nil {
			v.add("trusted-proxies", p, "want a CIDR prefix such as 10.0.0.0/8 or a single address such as 10.0.0.5")
		}
	}
	if !strings.EqualFold(c.ClientIPHeader, limit.HeaderForwardedFor) && !strings.EqualFold(c.ClientIPHeader, limit.HeaderRealIP) {
		v.add("client-ip-header", c.ClientIPHeader, "must be X-Forwarded-For or X-Real-IP")
	}
	if v.intRange("send-queue-bytes", c.SendQueueBytes, 2048, 1<<30) && frameOK && c.SendQueueBytes < 2*c.MaxFrameBytes {
		v.add("send-queue-bytes", c.SendQueueBytes, fmt.Sprintf(
			"must be at least twice max-frame-bytes (%d) so the largest event always fits", 2*c.MaxFrameBytes))
	}

	v.duration("token-ttl", c.TokenTTL, time.Minute, 24*time.Hour)
	v.duration("refresh-ttl", c.RefreshTTL, time.Minute, 8760*time.Hour)
	if c.RefreshTTL < c.TokenTTL {
		v.add("refresh-ttl", formatDuration(c.RefreshTTL), "must not be shorter than token-ttl "+formatDuration(c.TokenTTL))
	}
	c.validateJWT(v)

	v.intRange("recovery-window", c.RecoveryWindow, 1, 1_000_000)
	v.intRange("history-limit", c.HistoryLimit, 1, MaxHistoryLimit)
	v.intRange("login-rate", c.LoginRatePerMinute, 1, 10_000)
	v.duration("webhook-retry-min", c.WebhookRetryMin, 10*time.Millisecond, time.Hour)
	v.duration("webhook-retry-for", c.WebhookRetryFor, time.Second, 720*time.Hour)
	v.duration("webhook-timeout", c.WebhookTimeout, 100*time.Millisecond, 5*time.Minute)
	v.intRange("webhook-workers", c.WebhookWorkers, 1, 1000)

	return errors.Join(v.errs...)
}

func (c Config) validateDatabaseURL(v *validator) {
	driver, dsn := c.DatabaseDSN()
	switch {
	case driver == "":
		v.add("database-url", redactURL(c.DatabaseURL), `want empty (SQLite in data-dir), "sqlite:PATH", or a postgres:// URL`)
	case driver == DriverSQLite && c.DatabaseURL != "" && dsn == "":
		v.add("database-url", c.DatabaseURL, `"sqlite:" needs a file path, as in sqlite:/var/lib/parley/parley.db`)
	case driver == DriverSQLite && strings.HasPrefix(dsn, "//"):
		v.add("database-url", c.DatabaseURL, `write sqlite:PATH, as in sqlite:/var/lib/parley/parley.db, not sqlite://`)
	case driver == DriverPostgres:
		if u, err := url.Parse(dsn); err != nil || u.Host == "" {
			v.add("database-url", redactURL(dsn), "not a valid postgres:// URL with a host")
		}
	}
}

func (c Config) validateBroker(v *validator) {
	if c.Broker == "" {
		return
	}
	for u := range strings.SplitSeq(c.Broker, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" {
			v.add("broker", redactURL(c.Broker), "want empty (in-process) or nats:// URLs, comma-separated")
			return
		}
	}
	if driver, _ := c.DatabaseDSN(); driver != DriverPostgres {
		v.add("broker", redactURL(c.Broker), "nodes that share events must share their data too: set database-url to a postgres:// URL")
	}
	if c.SigningKeyFile == "" {
		// Each node would make a key of its own in its data-dir, and a
		// token one node signed would be refused by the others.
		v.add("broker", redactURL(c.Broker), "nodes that share events must sign tokens with one key: set signing-key-file to the same file on every node")
	}
	if n := len(c.BrokerPrefix); n == 0 || n > 64 || strings.IndexFunc(c.BrokerPrefix, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		v.add("broker-prefix", c.BrokerPrefix, "must be 1 to 64 letters, digits, - or _")
	}
}

func (c Config) validateJWT(v *validator) {
	secrets := c.JWTSecret != "" || c.JWTSecretFile != ""
	publicKeys := c.JWTPublicKeyFile != "" || c.JWTJWKSFile != ""
	if c.JWTAlgorithm == "" {
		for _, f := range []struct{ name, val string }{
			{"jwt-secret", c.JWTSecret}, {"jwt-secret-file", c.JWTSecretFile},
			{"jwt-public-key-file", c.JWTPublicKeyFile}, {"jwt-jwks-file", c.JWTJWKSFile},
			{"jwt-audience", c.JWTAudience}, {"jwt-issuer", c.JWTIssuer},
		} {
			if f.val != "" {
				v.add(f.name, nil, "has no effect without jwt-algorithm, which turns external tokens on")
			}
		}
		return
	}
	if !slices.Contains(JWTAlgorithms, c.JWTAlgorithm) {
		v.add("jwt-algorithm", c.JWTAlgorithm, "must be one of "+strings.Join(JWTAlgorithms, ", "))
		return
	}
	if minLen := JWTSecretMinBytes(c.JWTAlgorithm); minLen > 0 {
		switch {
		case c.JWTSecret != "" && c.JWTSecretFile != "":
			v.add("jwt-secret", nil, "give jwt-secret or jwt-secret-file, not both")
		case !secrets:
			v.add("jwt-secret", nil, c.JWTAlgorithm+" needs jwt-secret or jwt-secret-file")
		case c.JWTSecret != "" && len(c.JWTSecret) < minLen:
			v.add("jwt-secret", nil, fmt.Sprintf("%s needs a secret of at least %d bytes, got %d",
				c.JWTAlgorithm, minLen, len(c.JWTSecret)))
		}
		if publicKeys {
			v.add("jwt-algorithm", c.JWTAlgorithm, "uses a shared secret; remove jwt-public-key-file and jwt-jwks-file")
		}
		return
	}
	switch {
	case c.JWTPublicKeyFile != "" && c.JWTJWKSFile != "":
		v.add("jwt-public-key-file", c.JWTPublicKeyFile, "give jwt-public-key-file or jwt-jwks-file, not both")
	case !publicKeys:
		v.add("jwt-public-key-file", nil, c.JWTAlgorithm+" needs jwt-public-key-file or jwt-jwks-file")
	}
	if secrets {
		v.add("jwt-algorithm", c.JWTAlgorithm, "uses a public key; remove jwt-secret and jwt-secret-file")
	}
}

// checkOrigin returns why o is not a valid allowed-origins entry, or "".
func checkOrigin(o string) string {
	if o == "*" {
		return ""
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return `want "*" or an origin such as https://chat.example.com`
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "an origin is scheme://host[:port], with no path, query or user"
	}
	if strings.Contains(u.Host, "*") {
		return `wildcards are not supported; list each origin, or "*" for any`
	}
	return ""
}

// redactURL hides the password in a database URL quoted in an error.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// validator collects problems, each naming the setting at fault.
type validator struct {
	errs []error
}

// add records a problem with setting name. A string value is quoted; a nil
// value (used for secrets) is left out.
func (v *validator) add(name string, value any, msg string) {
	switch x := value.(type) {
	case nil:
		v.errs = append(v.errs, fmt.Errorf("config: %s: %s", name, msg))
		return
	case string:
		value = strconv.Quote(x)
	}
	v.errs = append(v.errs, fmt.Errorf("config: %s %v: %s", name, value, msg))
}

func (v *validator) intRange(name string, n, lo, hi int) bool {
	if n < lo || n > hi {
		v.add(name, n, fmt.Sprintf("out of range [%d, %d]", lo, hi))
		return false
	}
	return true
}

// rate checks a rate per second that 0 turns off.
func (v *validator) rate(name string, r float64) {
	if math.IsNaN(r) || r < 0 || r > 1_000_000 {
		v.add(name, r, "must be 0 (off) or a rate per second up to 1000000")
	}
}

func (v *validator) duration(name string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(name, formatDuration(d), fmt.Sprintf("out of range [%s, %s]", formatDuration(lo), formatDuration(hi)))
	}
}

func (v *validator) oneOf(name, s string, allowed []string) {
	if !slices.Contains(allowed, s) {
		v.add(name, s, "must be one of "+strings.Join(allowed, ", "))
	}
}

// hostPort checks a listen address; empty is allowed only when optional.
func (v *validator) hostPort(name, addr string, optional bool) {
	if addr == "" && optional {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(name, addr, "want host:port, such as localhost:8080 or :8080")
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add(name, addr, "port must be a number from 0 to 65535")
	}
}
