package config

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeFile writes a config file in a temporary directory and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, `
addr: ":1001"
log-level: debug
max-frame-bytes: 100000
rate-messages: 2.5
guests: true
heartbeat-interval: 30s
allowed-origins: [https://file.example]
`)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "file over defaults",
			args: []string{"--config", file},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, ":1001")
				want(t, "log-level", c.LogLevel, "debug")
				want(t, "max-frame-bytes", c.MaxFrameBytes, 100000)
				want(t, "rate-messages", c.RateMessages, 2.5)
				want(t, "guests", c.Guests, true)
				want(t, "heartbeat-interval", c.HeartbeatInterval, 30*time.Second)
				want(t, "allowed-origins", strings.Join(c.AllowedOrigins, ","), "https://file.example")
				want(t, "config", c.ConfigFile, file)
				want(t, "write-timeout (unset keeps default)", c.WriteTimeout, 10*time.Second)
			},
		},
		{
			name: "file named by PARLEY_CONFIG",
			env:  map[string]string{"PARLEY_CONFIG": file},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, ":1001")
				want(t, "config", c.ConfigFile, file)
			},
		},
		{
			name: "--config over PARLEY_CONFIG",
			args: []string{"--config", file},
			env:  map[string]string{"PARLEY_CONFIG": "/does/not/exist.yaml"},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, ":1001")
			},
		},
		{
			name: "env over file",
			args: []string{"--config", file},
			env: map[string]string{
				"PARLEY_ADDR":               ":2002",
				"PARLEY_GUESTS":             "false",
				"PARLEY_HEARTBEAT_INTERVAL": "40s",
				"PARLEY_ALLOWED_ORIGINS":    "https://env1.example, https://env2.example",
				"PARLEY_RATE_MESSAGES":      "7",
				"PARLEY_LOG_LEVEL":          "", // empty counts as unset
			},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, ":2002")
				want(t, "guests", c.Guests, false)
				want(t, "heartbeat-interval", c.HeartbeatInterval, 40*time.Second)
				want(t, "allowed-origins", strings.Join(c.AllowedOrigins, ","), "https://env1.example,https://env2.example")
				want(t, "rate-messages", c.RateMessages, 7.0)
				want(t, "log-level", c.LogLevel, "debug")
				want(t, "max-frame-bytes", c.MaxFrameBytes, 100000)
			},
		},
		{
			name: "flags over env over file",
			args: []string{"--config", file, "--addr", ":3003", "--guests=false", "--heartbeat-interval=50s",
				"--allowed-origins", "https://f1.example", "--allowed-origins", "https://f2.example,https://f3.example"},
			env: map[string]string{"PARLEY_ADDR": ":2002", "PARLEY_GUESTS": "true", "PARLEY_LOG_LEVEL": "warn"},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, ":3003")
				want(t, "guests", c.Guests, false)
				want(t, "heartbeat-interval", c.HeartbeatInterval, 50*time.Second)
				want(t, "allowed-origins", strings.Join(c.AllowedOrigins, ","), "https://f1.example,https://f2.example,https://f3.example")
				want(t, "log-level (env)", c.LogLevel, "warn")
				want(t, "max-frame-bytes (file)", c.MaxFrameBytes, 100000)
			},
		},
		{
			name: "flag equal to the default still wins",
			args: []string{"--config", file, "--addr", "localhost:8080"},
			env:  map[string]string{"PARLEY_ADDR": ":2002"},
			check: func(t *testing.T, c Config) {
				want(t, "addr", c.Addr, "localhost:8080")
			},
		},
		{
			name: "bool flag alone means true",
			args: []string{"--guests", "--accounts=false"},
			check: func(t *testing.T, c Config) {
				want(t, "guests", c.Guests, true)
				want(t, "accounts", c.Accounts, false)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(tt.args, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// load parses args as flags for every setting and loads the configuration
// with the environment read through getenv.
func load(args []string, getenv func(string) string) (Config, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return f.load(getenv)
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestLoadFileErrors checks that Load reports the config file's problems
// with the file's path; file_test.go checks each message in full.
func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, with the file's path as FILE
	}{
		{"unknown key names key and line", "addr: \":1\"\nmax-frame-byte: 10\n", []string{`config: FILE:2: unknown key "max-frame-byte"`}},
		{"config key not allowed in file", "config: other.yaml\n", []string{`config: FILE:1: config: cannot be set in the config file`}},
		{"repeated key", "addr: \":1\"\naddr: \":2\"\n", []string{`config: FILE:2: key "addr" appears twice: lines 1 and 2; keep one`}},
		{"bad duration", "heartbeat-interval: 5q\n", []string{`config: FILE:1: heartbeat-interval: want a duration`, `"5q"`}},
		{"bare number for duration", "typing-timeout: 6\n", []string{`config: FILE:1: typing-timeout: want a duration`, "got the number 6 (write 6s)"}},
		{"float for int", "rate-burst: 1.5\n", []string{`config: FILE:1: rate-burst: want an integer, got the number 1.5`}},
		{"int overflow", "rate-burst: 99999999999999999999\n", []string{"rate-burst:", "too large"}},
		{"several problems", "guests: maybe\nrate-burst: x\n", []string{"FILE:1: guests:", "\nconfig: FILE:2: rate-burst:"}},
		{"two documents", "addr: \":1\"\n---\naddr: \":2\"\n", []string{"FILE:2: only one YAML document"}},
		{"not a mapping", "- addr\n", []string{"FILE:1: want a mapping", "got a list"}},
		{"syntax error", "addr: [\n", []string{"config: FILE:1: not valid YAML at column 7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := load([]string{"--config", path}, env(nil))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			// The path holds the test's name; take it out so that it
			// cannot match what the message should say.
			msg := strings.ReplaceAll(err.Error(), path, "FILE")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadFileAccepts(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c Config)
	}{
		{"empty file", "", func(t *testing.T, c Config) { want(t, "addr", c.Addr, "localhost:8080") }},
		{"comments only", "# nothing\n", func(t *testing.T, c Config) { want(t, "addr", c.Addr, "localhost:8080") }},
		{"one key", "addr: \":9\"\n", func(t *testing.T, c Config) { want(t, "addr", c.Addr, ":9") }},
		{"null keeps default", "log-level:\n", func(t *testing.T, c Config) { want(t, "log-level", c.LogLevel, "info") }},
		{"block list", "allowed-origins:\n  - https://a.example\n  - https://b.example\n", func(t *testing.T, c Config) {
			want(t, "allowed-origins", strings.Join(c.AllowedOrigins, ","), "https://a.example,https://b.example")
		}},
		{"quoted and block strings", "jwt-issuer: 'https://id.example'\njwt-audience: \"parley\"\njwt-algorithm: EdDSA\njwt-public-key-file: |-\n  /k.pem\n",
			func(t *testing.T, c Config) {
				want(t, "jwt-issuer", c.JWTIssuer, "https://id.example")
				want(t, "jwt-public-key-file", c.JWTPublicKeyFile, "/k.pem")
			}},
		{"integer for float", "rate-messages: 3\n", func(t *testing.T, c Config) { want(t, "rate-messages", c.RateMessages, 3.0) }},
		{"document marker", "---\naddr: \":9\"\n", func(t *testing.T, c Config) { want(t, "addr", c.Addr, ":9") }},
		{"hexadecimal integer", "rate-burst: 0x10\n", func(t *testing.T, c Config) { want(t, "rate-burst", c.RateBurst, 16) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load([]string{"--config", writeFile(t, tt.yaml)}, env(nil))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bad duration flag", []string{"--token-ttl", "5x"}, nil, []string{"token-ttl", "want a duration", `"5x"`}},
		{"bad int flag", []string{"--rate-burst=many"}, nil, []string{"rate-burst", "want an integer"}},
		{"unknown flag", []string{"--no-such-flag"}, nil, []string{"no-such-flag"}},
		{"bad duration env", nil, map[string]string{"PARLEY_HEARTBEAT_TIMEOUT": "10"}, []string{"PARLEY_HEARTBEAT_TIMEOUT", "want a duration"}},
		{"bad bool env", nil, map[string]string{"PARLEY_GUESTS": "yes please"}, []string{"PARLEY_GUESTS", "want true or false"}},
		{"bad float env", nil, map[string]string{"PARLEY_RATE_MESSAGES": "fast"}, []string{"PARLEY_RATE_MESSAGES", "want a number"}},
		{"missing config file", []string{"--config", "/does/not/exist.yaml"}, nil, []string{"/does/not/exist.yaml"}},
		{"invalid result is validated", []string{"--history-limit", "5000"}, nil, []string{"history-limit 5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.args, env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestAddFlagsHelp checks what help shows of the flags AddFlags adds:
// every setting, with its value type, its default and its variable.
func TestAddFlagsHelp(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	AddFlags(fs)
	usage := fs.FlagUsages()
	d := Default()
	for _, s := range settings {
		v := s.value(&d)
		typ := " " + v.Type()
		if typ == " bool" {
			typ = "" // a bool flag takes no value
		}
		line := regexp.MustCompile(`(?m)^ +--` + regexp.QuoteMeta(s.name+typ) + ` +(.*)$`).FindStringSubmatch(usage)
		if line == nil {
			t.Errorf("help does not list --%s%s:\n%s", s.name, typ, usage)
			continue
		}
		if !strings.Contains(line[1], "["+s.env+"]") {
			t.Errorf("--%s: %q does not name %s", s.name, line[1], s.env)
		}
		def := v.String()
		switch {
		case def == "" || def == "false" || def == "0":
			if strings.HasSuffix(line[1], ")") && strings.Contains(line[1], "] (default") {
				t.Errorf("--%s: %q shows a default for an empty one", s.name, line[1])
			}
		case v.Type() == "string":
			def = `"` + def + `"`
			fallthrough
		default:
			if !strings.HasSuffix(line[1], "(default "+def+")") {
				t.Errorf("--%s: %q does not end with (default %s)", s.name, line[1], def)
			}
		}
	}
	if !strings.Contains(usage, "(default 25s)") || !strings.Contains(usage, "(default 15m)") {
		t.Errorf("help does not show durations as set:\n%s", usage)
	}
}

// TestAddFlagsOnly checks that AddFlags adds only the settings named, and
// that Load still reads the others from the file and the environment.
func TestAddFlagsOnly(t *testing.T) {
	fs := pflag.NewFlagSet("user", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, StoreSettings...)
	var names []string
	fs.VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	if !slices.Equal(names, StoreSettings) {
		t.Fatalf("flags %q, want %q", names, StoreSettings)
	}
	if err := fs.Parse([]string{"--addr", ":1"}); err == nil {
		t.Fatal("--addr parsed, want an unknown flag")
	}
	file := writeFile(t, "data-dir: /from/file\nhistory-limit: 50\n")
	if err := fs.Parse([]string{"--config", file, "--database-url", "sqlite:/flag.db"}); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := f.Load([]string{"PARLEY_ADDR=:2", "PARLEY_DATA_DIR=/from/env"})
	if err != nil || warnings != nil {
		t.Fatalf("Load: %v, warnings %q", err, warnings)
	}
	want(t, "data-dir (env)", c.DataDir, "/from/env")
	want(t, "database-url (flag)", c.DatabaseURL, "sqlite:/flag.db")
	want(t, "history-limit (file)", c.HistoryLimit, 50)
	want(t, "addr (env)", c.Addr, ":2")

	defer func() {
		if recover() == nil {
			t.Error("AddFlags with an unknown name did not panic")
		}
	}()
	AddFlags(pflag.NewFlagSet("x", pflag.ContinueOnError), "no-such-setting")
}

func TestApplyEnv(t *testing.T) {
	fs := pflag.NewFlagSet("send", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "http://localhost:8080", "")
	room := fs.String("room", "", "")
	token := fs.String("token", "", "")
	if err := fs.Parse([]string{"--room", "flag-room"}); err != nil {
		t.Fatal(err)
	}
	err := ApplyEnv(fs, env(map[string]string{
		"PARLEY_SERVER": "http://env:1",
		"PARLEY_ROOM":   "env-room",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want(t, "server (env)", *server, "http://env:1")
	want(t, "room (flag wins)", *room, "flag-room")
	want(t, "token (unset)", *token, "")

	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("count", 1, "")
	if err := ApplyEnv(fs, env(map[string]string{"PARLEY_COUNT": "x"})); err == nil || !strings.Contains(err.Error(), "PARLEY_COUNT") {
		t.Fatalf("ApplyEnv error = %v, want one naming PARLEY_COUNT", err)
	}
}

func TestLoadDoesNotShareLists(t *testing.T) {
	c, err := load([]string{"--allowed-origins", "https://a.example"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if len(d.AllowedOrigins) != 0 || !slices.Equal(c.AllowedOrigins, []string{"https://a.example"}) {
		t.Fatalf("AllowedOrigins = %q, Default().AllowedOrigins = %q", c.AllowedOrigins, d.AllowedOrigins)
	}
}
