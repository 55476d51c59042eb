package config

import (
	"path/filepath"
	"testing"
	"time"
)

// env returns a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefault(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"addr", d.Addr, "localhost:8080"},
		{"data-dir", d.DataDir, "./parley-data"},
		{"database-url", d.DatabaseURL, ""},
		{"broker", d.Broker, ""},
		{"log-format", d.LogFormat, "text"},
		{"log-level", d.LogLevel, "info"},
		{"allowed-origins", len(d.AllowedOrigins), 0},
		{"heartbeat-interval", d.HeartbeatInterval, 25 * time.Second},
		{"heartbeat-timeout", d.HeartbeatTimeout, 10 * time.Second},
		{"write-timeout", d.WriteTimeout, 10 * time.Second},
		{"read-header-timeout", d.ReadHeaderTimeout, 5 * time.Second},
		{"http-read-timeout", d.HTTPReadTimeout, 10 * time.Second},
		{"http-write-timeout", d.HTTPWriteTimeout, 30 * time.Second},
		{"max-body-bytes", d.MaxBodyBytes, 65536},
		{"shutdown-timeout", d.ShutdownTimeout, 10 * time.Second},
		{"max-frame-bytes", d.MaxFrameBytes, 65536},
		{"max-message-length", d.MaxMessageLength, 4000},
		{"max-room-name-length", d.MaxRoomNameLength, 64},
		{"max-rooms-per-conn", d.MaxRoomsPerConn, 100},
		{"max-conns-per-user", d.MaxConnsPerUser, 16},
		{"rate-messages", d.RateMessages, 10.0},
		{"rate-burst", d.RateBurst, 20},
		{"send-queue-bytes", d.SendQueueBytes, 1 << 20},
		{"typing-timeout", d.TypingTimeout, 6 * time.Second},
		{"guests", d.Guests, false},
		{"accounts", d.Accounts, true},
		{"token-ttl", d.TokenTTL, 15 * time.Minute},
		{"refresh-ttl", d.RefreshTTL, 720 * time.Hour},
		{"signing-key-file", d.SigningKeyFile, ""},
		{"jwt-algorithm", d.JWTAlgorithm, ""},
		{"recovery-window", d.RecoveryWindow, 1000},
		{"history-limit", d.HistoryLimit, 100},
		{"login-rate", d.LoginRatePerMinute, 10},
		{"metrics-addr", d.MetricsAddr, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestLoadNothingIsDefault(t *testing.T) {
	got, err := load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	for _, s := range settings {
		if g, w := s.value(&got).String(), s.value(&want).String(); g != w {
			t.Errorf("%s = %q, want default %q", s.name, g, w)
		}
	}
}

func TestDatabaseDSN(t *testing.T) {
	tests := []struct {
		name       string
		url        string
		wantDriver string
		wantDSN    string
	}{
		{"empty is sqlite in data dir", "", DriverSQLite, filepath.Join("/srv/parley", "parley.db")},
		{"sqlite absolute path", "sqlite:/var/lib/p.db", DriverSQLite, "/var/lib/p.db"},
		{"sqlite relative path", "sqlite:p.db", DriverSQLite, "p.db"},
		{"sqlite scheme any case", "SQLite:p.db", DriverSQLite, "p.db"},
		{"postgres", "postgres://u:p@db:5432/parley?sslmode=disable", DriverPostgres, "postgres://u:p@db:5432/parley?sslmode=disable"},
		{"postgresql", "postgresql://db/parley", DriverPostgres, "postgresql://db/parley"},
		{"unknown scheme", "mysql://db/parley", "", "mysql://db/parley"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.DataDir = "/srv/parley"
			c.DatabaseURL = tt.url
			driver, dsn := c.DatabaseDSN()
			if driver != tt.wantDriver || dsn != tt.wantDSN {
				t.Fatalf("DatabaseDSN() = %q, %q; want %q, %q", driver, dsn, tt.wantDriver, tt.wantDSN)
			}
		})
	}
}

func TestEnvVar(t *testing.T) {
	for name, want := range map[string]string{
		"max-frame-bytes": "PARLEY_MAX_FRAME_BYTES",
		"addr":            "PARLEY_ADDR",
		"config":          "PARLEY_CONFIG",
	} {
		if got := EnvVar(name); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", name, got, want)
		}
	}
}
