package config

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestEnvWarnings(t *testing.T) {
	allSettings := []string{}
	for _, s := range settings {
		allSettings = append(allSettings, s.env+"=x")
	}
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"typo", []string{"PARLEY_ADRR=:8080"},
			[]string{"PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?"}},
		{"swapped letters", []string{"PARLEY_GUSETS=true"},
			[]string{"PARLEY_GUSETS is not a Parley setting; did you mean PARLEY_GUESTS?"}},
		{"long name", []string{"PARLEY_HEARTBEAT_INTERVL=5s"},
			[]string{"PARLEY_HEARTBEAT_INTERVL is not a Parley setting; did you mean PARLEY_HEARTBEAT_INTERVAL?"}},
		{"lower case", []string{"PARLEY_log_level=debug"},
			[]string{"PARLEY_log_level is not a Parley setting; did you mean PARLEY_LOG_LEVEL?"}},
		{"typo of a client variable", []string{"PARLEY_TOKN=t"},
			[]string{"PARLEY_TOKN is not a Parley setting; did you mean PARLEY_TOKEN?"}},
		{"nothing close", []string{"PARLEY_PORT=8080"},
			[]string{"PARLEY_PORT is not a Parley setting and is ignored; docs/CONFIG.md lists them all"}},
		{"sorted, each once", []string{"PARLEY_ZONE=1", "PARLEY_ADRR=1", "PATH=/bin", "PARLEY_ADRR=2"}, []string{
			"PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?",
			"PARLEY_ZONE is not a Parley setting and is ignored; docs/CONFIG.md lists them all",
		}},
		{"value with =", []string{"PARLEY_ADRR=a=b"},
			[]string{"PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?"}},
		{"every setting is known", allSettings, nil},
		{"variables read elsewhere", []string{
			"PARLEY_SERVER=http://localhost:8080", "PARLEY_TOKEN=t", "PARLEY_USER=u", "PARLEY_PASSWORD=p",
			"PARLEY_TEST_POSTGRES_URL=postgres://db/test", "PARLEY_TEST_NATS_URL=nats://n:4222",
			"PARLEY_TEST_ANYTHING_NEW=1",
		}, nil},
		{"empty counts as unset", []string{"PARLEY_ADRR="}, nil},
		{"not PARLEY_", []string{"PARLEYADDR=1", "parley_addr=1", "MY_PARLEY_ADDR=1", "HOME=/root", "=C:=C:\\"}, nil},
		{"no environment", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EnvWarnings(tt.environ); !slices.Equal(got, tt.want) {
				t.Fatalf("EnvWarnings(%q) =\n%q\nwant\n%q", tt.environ, got, tt.want)
			}
		})
	}
}

// loadEnviron parses args as flags for every setting and loads the
// configuration from them and environ.
func loadEnviron(t *testing.T, args, environ []string) (Config, []string, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f := AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.Load(environ)
}

func TestFlagsLoadEnviron(t *testing.T) {
	cfg, warnings, err := loadEnviron(t, []string{"--guests"},
		[]string{"PARLEY_ADDR=:7", "PARLEY_ADDR=:8", "PARLEY_ADRR=:9", "PARLEY_SERVER=http://x", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "addr (first of two, as os.Getenv)", cfg.Addr, ":7")
	want(t, "guests", cfg.Guests, true)
	if !slices.Equal(warnings, []string{"PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?"}) {
		t.Errorf("warnings = %q", warnings)
	}

	// A misspelt variable often explains an error, so its warning comes
	// with it.
	_, warnings, err = loadEnviron(t, nil,
		[]string{"PARLEY_JWT_ALGORITHM=HS256", "PARLEY_JWT_SECERT=" + strings.Repeat("s", 32)})
	if err == nil || !strings.Contains(err.Error(), "HS256 needs jwt-secret") {
		t.Errorf("err = %v, want one saying HS256 needs jwt-secret", err)
	}
	if !slices.Equal(warnings, []string{"PARLEY_JWT_SECERT is not a Parley setting; did you mean PARLEY_JWT_SECRET?"}) {
		t.Errorf("warnings = %q", warnings)
	}
}

// TestOtherEnvVarsDocumented checks that docs/CONFIG.md names every
// variable EnvWarnings leaves alone.
func TestOtherEnvVarsDocumented(t *testing.T) {
	doc, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Clone(otherEnvVars), testEnvPrefix+"*") {
		if strings.HasPrefix(name, testEnvPrefix) && name != testEnvPrefix+"*" {
			continue // covered by the prefix
		}
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("%s does not name `%s`, which EnvWarnings ignores", configDoc, name)
		}
	}
}
