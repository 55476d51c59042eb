package config

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// goInternals are fragments of Go's own error texts that must never reach
// an operator in place of a sentence about the setting.
var goInternals = []string{"strconv.", "reflect", "runtime error", "panic", "invalid memory", "json: cannot"}

func checkSentence(t *testing.T, what string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "config: ") && !strings.Contains(msg, ": ") {
		t.Fatalf("%s: error %q names no file, variable or setting", what, msg)
	}
	for _, g := range goInternals {
		if strings.Contains(msg, g) {
			t.Fatalf("%s: error %q shows Go internals (%q)", what, msg, g)
		}
	}
}

// FuzzConfigFile decodes fuzzed config files: an error leaves the
// configuration untouched and is a sentence naming the file; a file that
// decodes gives a configuration Validate can judge without panicking.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		"addr: \":1001\"\nlog-level: debug\nmax-frame-bytes: 100000\nrate-messages: 2.5\nguests: true\nheartbeat-interval: 30s\nallowed-origins: [https://file.example]\n",
		"addr: :8080\n", "addr: 8080\n", "guests: yes\n", "max-frame-bytes: 1e9\n", "max-frame-bytes: 99999999999999999999\n",
		"heartbeat-interval: 10\n", "allowed-origins: https://a.example\n", "allowed-origins:\n  - 1\n  - [x]\n",
		"addr: &a x\nmetrics-addr: *a\n", "addr: !!str x\n", "a: 1\n---\nb: 2\n", "addr: x\naddr: y\n", "\taddr: x\n",
		"[1, 2]\n", "null\n", "", "rate-messages: .inf\n", "rate-messages: -.nan\n", "history-limit: 0x10\n",
		"shutdown-timeout: -1s\n", "data-dir: ~\n", "{addr: x, addr: y}\n", "addr: \"\\u0000\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		before := Default()
		if err := decodeFile(&cfg, "fuzz.yaml", data); err != nil {
			if !reflect.DeepEqual(cfg, before) {
				t.Fatalf("a file with an error changed the configuration: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "config: fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			checkSentence(t, "file", err)
			return
		}
		if err := cfg.Validate(); err != nil {
			checkSentence(t, "validate", err)
		}
	})
}

// FuzzConfigFlags loads fuzzed command lines (words separated by spaces)
// and PARLEY_* variables (lines of NAME=value): an error is a sentence
// naming what is at fault, and a configuration Load returns passes
// Validate. Inputs naming a config file are skipped: the file could be
// anything on this machine, /dev/zero included.
func FuzzConfigFlags(f *testing.F) {
	for _, s := range [][2]string{
		{"--addr :9000 --guests --rate-messages 2.5", "PARLEY_LOG_LEVEL=debug"},
		{"--token-ttl 5x", ""}, {"--rate-burst=many", ""}, {"--no-such-flag", ""}, {"--history-limit 5000", ""},
		{"", "PARLEY_HEARTBEAT_TIMEOUT=10"}, {"", "PARLEY_GUESTS=yes please"}, {"", "PARLEY_RATE_MESSAGES=fast"},
		{"--allowed-origins https://a.example,http://b.example", "PARLEY_ALLOWED_ORIGINS=*"},
		{"--max-frame-bytes 1024 --max-message-length 100000", ""}, {"--tls-cert x", ""},
		{"--database-url postgres://u@h/db --broker nats://127.0.0.1:4222", ""}, {"--addr", ""},
		{"", "PARLEY_MAX_FRAME_BYTES=99999999999999999999999"}, {"", "PARLEY_RATE_MESSAGES=NaN"},
		{"--rate-messages=-Inf", ""}, {"--shutdown-timeout -1s", "PARLEY_ADDR="},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, args, environ string) {
		if strings.Contains(strings.ToLower(args+environ), "config") {
			return
		}
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fl := AddFlags(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			checkSentence(t, "flags", err)
			return
		}
		cfg, _, err := fl.Load(strings.Split(environ, "\n"))
		if err != nil {
			checkSentence(t, "load", err)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load returned a configuration Validate refuses: %v", err)
		}
	})
}
