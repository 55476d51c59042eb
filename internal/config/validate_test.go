package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	secret32 := strings.Repeat("s", 32)
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // substring of the error; "" means valid
	}{
		{"default is valid", func(c *Config) {}, ""},

		{"addr empty", func(c *Config) { c.Addr = "" }, "addr"},
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, `addr "localhost": want host:port`},
		{"addr bad port", func(c *Config) { c.Addr = ":http" }, "addr \":http\": port must be a number"},
		{"addr port too big", func(c *Config) { c.Addr = ":70000" }, "addr"},
		{"addr all interfaces", func(c *Config) { c.Addr = ":8080" }, ""},
		{"addr ipv6 port 0", func(c *Config) { c.Addr = "[::1]:0" }, ""},
		{"metrics-addr bad", func(c *Config) { c.MetricsAddr = "9090" }, "metrics-addr"},
		{"metrics-addr same as addr", func(c *Config) { c.MetricsAddr = c.Addr }, "metrics-addr \"localhost:8080\": must differ from addr"},
		{"metrics-addr both port 0", func(c *Config) { c.Addr, c.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"metrics-addr separate", func(c *Config) { c.MetricsAddr = "127.0.0.1:9090" }, ""},

		{"data-dir empty", func(c *Config) { c.DataDir = "" }, "data-dir"},
		{"database-url sqlite path", func(c *Config) { c.DatabaseURL = "sqlite:/var/lib/p.db" }, ""},
		{"database-url sqlite without path", func(c *Config) { c.DatabaseURL = "sqlite:" }, "database-url \"sqlite:\""},
		{"database-url sqlite://", func(c *Config) { c.DatabaseURL = "sqlite:///var/p.db" }, "not sqlite://"},
		{"database-url postgres", func(c *Config) { c.DatabaseURL = "postgres://u:p@db:5432/parley" }, ""},
		{"database-url postgres without host", func(c *Config) { c.DatabaseURL = "postgres:///parley" }, "database-url"},
		{"database-url unknown scheme", func(c *Config) { c.DatabaseURL = "mysql://db/parley" }, "database-url"},
		{"database-url error hides password", func(c *Config) { c.DatabaseURL = "mysql://u:hunter2@db/x" }, "u:xxxxx@db"},
		{"broker nats", func(c *Config) { cluster(c); c.Broker = "nats://a:4222,nats://b:4222" }, ""},
		{"broker tls", func(c *Config) { cluster(c); c.Broker = "tls://a:4222" }, ""},
		{"broker on sqlite", func(c *Config) { cluster(c); c.DatabaseURL = "" }, "must share their data too"},
		{"broker without a shared key", func(c *Config) { cluster(c); c.SigningKeyFile = "" }, "sign tokens with one key"},
		{"broker prefix", func(c *Config) { cluster(c); c.BrokerPrefix = "a.b" }, "broker-prefix"},
		{"broker prefix empty", func(c *Config) { cluster(c); c.BrokerPrefix = "" }, "broker-prefix"},
		{"broker bad", func(c *Config) { c.Broker = "redis://a" }, "broker"},
		{"broker no host", func(c *Config) { c.Broker = "nats://" }, "broker"},

		{"log-format bad", func(c *Config) { c.LogFormat = "xml" }, "log-format \"xml\": must be one of text, json"},
		{"log-format json", func(c *Config) { c.LogFormat = "json" }, ""},
		{"log-level bad", func(c *Config) { c.LogLevel = "trace" }, "log-level"},
		{"log-level debug", func(c *Config) { c.LogLevel = "debug" }, ""},

		{"allowed-origins ok", func(c *Config) { c.AllowedOrigins = []string{"https://a.example", "http://localhost:3000", "*"} }, ""},
		{"allowed-origins no scheme", func(c *Config) { c.AllowedOrigins = []string{"a.example"} }, "allowed-origins \"a.example\""},
		{"allowed-origins with path", func(c *Config) { c.AllowedOrigins = []string{"https://a.example/app"} }, "no path"},
		{"allowed-origins wildcard host", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.com"} }, "wildcards"},

		{"heartbeat-interval too short", func(c *Config) { c.HeartbeatInterval = 50 * time.Millisecond }, "heartbeat-interval \"50ms\": out of range [100ms, 10m]"},
		{"heartbeat-interval too long", func(c *Config) { c.HeartbeatInterval = time.Hour }, "heartbeat-interval"},
		{"heartbeat-timeout zero", func(c *Config) { c.HeartbeatTimeout = 0 }, "heartbeat-timeout"},
		{"write-timeout zero", func(c *Config) { c.WriteTimeout = 0 }, "write-timeout"},
		{"read-header-timeout zero", func(c *Config) { c.ReadHeaderTimeout = 0 }, "read-header-timeout"},
		{"http-read-timeout zero", func(c *Config) { c.HTTPReadTimeout = 0 }, "http-read-timeout"},
		{"http-write-timeout zero", func(c *Config) { c.HTTPWriteTimeout = 0 }, "http-write-timeout"},
		{"http-write-timeout not above http-read-timeout", func(c *Config) { c.HTTPWriteTimeout = c.HTTPReadTimeout },
			"http-write-timeout \"10s\": must be longer than http-read-timeout (10s)"},
		{"max-body-bytes too small", func(c *Config) { c.MaxBodyBytes = 100 }, "max-body-bytes"},
		{"shutdown-timeout zero", func(c *Config) { c.ShutdownTimeout = 0 }, ""},
		{"shutdown-timeout negative", func(c *Config) { c.ShutdownTimeout = -time.Second }, "shutdown-timeout"},
		{"shutdown-timeout too long", func(c *Config) { c.ShutdownTimeout = 2 * time.Hour }, "shutdown-timeout"},
		{"typing-timeout zero", func(c *Config) { c.TypingTimeout = 0 }, "typing-timeout"},

		{"max-frame-bytes too small", func(c *Config) { c.MaxFrameBytes = 100 }, "max-frame-bytes 100: out of range [1024, 16777216]"},
		{"max-frame-bytes too big", func(c *Config) { c.MaxFrameBytes = 32 << 20 }, "max-frame-bytes"},
		{"max-frame-bytes below message length", func(c *Config) { c.MaxFrameBytes = 20000 }, "max-frame-bytes 20000: too small for max-message-length 4000: need at least 25024"},
		{"max-frame-bytes exactly enough", func(c *Config) { c.MaxFrameBytes, c.SendQueueBytes = 25024, 1<<20 }, ""},
		{"max-message-length zero", func(c *Config) { c.MaxMessageLength = 0 }, "max-message-length"},
		{"max-message-length too big", func(c *Config) { c.MaxMessageLength = 200_000 }, "max-message-length"},
		{"max-room-name-length zero", func(c *Config) { c.MaxRoomNameLength = 0 }, "max-room-name-length"},
		{"max-rooms-per-conn zero", func(c *Config) { c.MaxRoomsPerConn = 0 }, "max-rooms-per-conn"},
		{"max-conns-per-user zero", func(c *Config) { c.MaxConnsPerUser = 0 }, "max-conns-per-user"},
		{"rate-messages zero", func(c *Config) { c.RateMessages = 0 }, "rate-messages"},
		{"rate-messages NaN", func(c *Config) { c.RateMessages = math.NaN() }, "rate-messages"},
		{"rate-messages infinite", func(c *Config) { c.RateMessages = math.Inf(1) }, "rate-messages"},
		{"rate-messages fraction", func(c *Config) { c.RateMessages = 0.5 }, ""},
		{"rate-burst zero", func(c *Config) { c.RateBurst = 0 }, "rate-burst"},
		{"user-rate-messages off", func(c *Config) { c.UserRateMessages = 0 }, ""},
		{"user-rate-messages negative", func(c *Config) { c.UserRateMessages = -1 }, "user-rate-messages -1: must be 0 (off) or a rate per second"},
		{"user-rate-messages NaN", func(c *Config) { c.UserRateMessages = math.NaN() }, "user-rate-messages"},
		{"user-rate-burst zero", func(c *Config) { c.UserRateBurst = 0 }, "user-rate-burst 0: out of range [1, 1000000]"},
		{"user-rate-joins too high", func(c *Config) { c.UserRateJoins = 2e6 }, "user-rate-joins"},
		{"user-rate-join-burst zero", func(c *Config) { c.UserRateJoinBurst = 0 }, "user-rate-join-burst"},
		{"address-rate-messages infinite", func(c *Config) { c.AddressRateMessages = math.Inf(1) }, "address-rate-messages"},
		{"address-rate-burst zero", func(c *Config) { c.AddressRateBurst = 0 }, "address-rate-burst"},
		{"address-rate-joins negative", func(c *Config) { c.AddressRateJoins = -3 }, "address-rate-joins"},
		{"address-rate-join-burst zero", func(c *Config) { c.AddressRateJoinBurst = 0 }, "address-rate-join-burst"},
		{"room-create-rate off", func(c *Config) { c.RoomCreateRate = 0 }, ""},
		{"room-create-rate negative", func(c *Config) { c.RoomCreateRate = -1 }, "room-create-rate -1: out of range [0, 100000]"},
		{"max-conns negative", func(c *Config) { c.MaxConns = -1 }, "max-conns -1: out of range"},
		{"max-conns-per-address off", func(c *Config) { c.MaxConnsPerAddress = 0 }, ""},
		{"max-conns-per-address negative", func(c *Config) { c.MaxConnsPerAddress = -5 }, "max-conns-per-address"},
		{"accept-rate off", func(c *Config) { c.AcceptRate = 0 }, ""},
		{"accept-rate negative", func(c *Config) { c.AcceptRate = -1 }, "accept-rate"},
		{"accept-wait too long", func(c *Config) { c.AcceptWait = time.Hour }, `accept-wait "1h": out of range [0s, 5m]`},
		{"trusted-proxies ok", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "192.0.2.7"} }, ""},
		{"trusted-proxies bad", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, `trusted-proxies "10.0.0.0/33": want a CIDR prefix`},
		{"trusted-proxies a name", func(c *Config) { c.TrustedProxies = []string{"proxy.internal"} }, "trusted-proxies"},
		{"client-ip-header x-real-ip", func(c *Config) { c.ClientIPHeader = "x-real-ip" }, ""},
		{"client-ip-header bad", func(c *Config) { c.ClientIPHeader = "Forwarded" }, `client-ip-header "Forwarded": must be X-Forwarded-For or X-Real-IP`},
		{"send-queue-bytes too small", func(c *Config) { c.SendQueueBytes = 1000 }, "send-queue-bytes"},
		{"send-queue-bytes below twice frame", func(c *Config) { c.SendQueueBytes = 100_000 }, "send-queue-bytes 100000: must be at least twice max-frame-bytes (131072)"},
		{"send-queue-bytes too big", func(c *Config) { c.SendQueueBytes = 2 << 30 }, "send-queue-bytes"},

		{"token-ttl too short", func(c *Config) { c.TokenTTL = time.Second }, "token-ttl"},
		{"token-ttl too long", func(c *Config) { c.TokenTTL = 48 * time.Hour }, "token-ttl"},
		{"refresh-ttl shorter than token-ttl", func(c *Config) { c.RefreshTTL = 10 * time.Minute }, "refresh-ttl \"10m\": must not be shorter than token-ttl 15m"},
		{"refresh-ttl too long", func(c *Config) { c.RefreshTTL = 9000 * time.Hour }, "refresh-ttl"},

		{"jwt-algorithm unknown", func(c *Config) { c.JWTAlgorithm = "none"; c.JWTSecret = secret32 }, "jwt-algorithm \"none\": must be one of"},
		{"jwt-algorithm wrong case", func(c *Config) { c.JWTAlgorithm = "hs256"; c.JWTSecret = secret32 }, "jwt-algorithm"},
		{"jwt HS256 with secret", func(c *Config) { c.JWTAlgorithm = "HS256"; c.JWTSecret = secret32 }, ""},
		{"jwt HS256 with secret file", func(c *Config) { c.JWTAlgorithm = "HS256"; c.JWTSecretFile = "/s" }, ""},
		{"jwt HS256 without secret", func(c *Config) { c.JWTAlgorithm = "HS256" }, "jwt-secret: HS256 needs jwt-secret or jwt-secret-file"},
		{"jwt HS256 short secret", func(c *Config) { c.JWTAlgorithm = "HS256"; c.JWTSecret = "short" }, "at least 32 bytes, got 5"},
		{"jwt HS384 secret of 32", func(c *Config) { c.JWTAlgorithm = "HS384"; c.JWTSecret = secret32 }, "at least 48 bytes"},
		{"jwt HS512 secret of 64", func(c *Config) { c.JWTAlgorithm = "HS512"; c.JWTSecret = strings.Repeat("s", 64) }, ""},
		{"jwt HS256 secret and file", func(c *Config) { c.JWTAlgorithm = "HS256"; c.JWTSecret = secret32; c.JWTSecretFile = "/s" }, "not both"},
		{"jwt HS256 with public key", func(c *Config) {
			c.JWTAlgorithm = "HS256"
			c.JWTSecret = secret32
			c.JWTPublicKeyFile = "/k.pem"
		}, "jwt-algorithm \"HS256\": uses a shared secret"},
		{"jwt RS256 with public key", func(c *Config) { c.JWTAlgorithm = "RS256"; c.JWTPublicKeyFile = "/k.pem" }, ""},
		{"jwt ES256 with JWKS", func(c *Config) { c.JWTAlgorithm = "ES256"; c.JWTJWKSFile = "/k.json" }, ""},
		{"jwt EdDSA without key", func(c *Config) { c.JWTAlgorithm = "EdDSA" }, "jwt-public-key-file: EdDSA needs jwt-public-key-file or jwt-jwks-file"},
		{"jwt RS256 key and JWKS", func(c *Config) { c.JWTAlgorithm = "RS256"; c.JWTPublicKeyFile = "/k.pem"; c.JWTJWKSFile = "/k.json" }, "not both"},
		{"jwt RS256 with secret", func(c *Config) { c.JWTAlgorithm = "RS256"; c.JWTPublicKeyFile = "/k.pem"; c.JWTSecret = secret32 }, "uses a public key"},
		{"jwt secret without algorithm", func(c *Config) { c.JWTSecret = secret32 }, "jwt-secret: has no effect without jwt-algorithm"},
		{"jwt audience without algorithm", func(c *Config) { c.JWTAudience = "parley" }, "jwt-audience"},
		{"jwt issuer without algorithm", func(c *Config) { c.JWTIssuer = "https://id" }, "jwt-issuer"},
		{"jwt key file without algorithm", func(c *Config) { c.JWTPublicKeyFile = "/k.pem" }, "jwt-public-key-file"},

		{"recovery-window zero", func(c *Config) { c.RecoveryWindow = 0 }, "recovery-window"},
		{"history-limit zero", func(c *Config) { c.HistoryLimit = 0 }, "history-limit"},
		{"history-limit max", func(c *Config) { c.HistoryLimit = 1000 }, ""},
		{"history-limit above max", func(c *Config) { c.HistoryLimit = 1001 }, "history-limit 1001: out of range [1, 1000]"},
		{"login-rate zero", func(c *Config) { c.LoginRatePerMinute = 0 }, "login-rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Addr = ""
	c.HistoryLimit = 0
	c.LogLevel = "loud"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, name := range []string{"addr", "history-limit", "log-level"} {
		if !strings.Contains(err.Error(), "config: "+name+" ") {
			t.Errorf("error %q does not report %s", err, name)
		}
	}
}

func TestValidateNeverQuotesSecrets(t *testing.T) {
	const secret = "not-long-enough-secret"
	for _, alg := range []string{"", "HS512", "RS256"} {
		c := Default()
		c.JWTAlgorithm = alg
		c.JWTSecret = secret
		c.JWTSecretFile = "/also"
		if err := c.Validate(); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("jwt-algorithm %q: Validate() = %v, want an error without the secret", alg, err)
		}
	}
}

// cluster makes c a valid cluster node's settings.
func cluster(c *Config) {
	c.Broker = "nats://127.0.0.1:4222"
	c.DatabaseURL = "postgres://parley@db.internal/parley"
	c.SigningKeyFile = "/etc/parley/signing.key"
}
