package config

import (
	"slices"
	"strings"
)

// envPrefix starts the name of every environment variable Parley reads.
const envPrefix = "PARLEY_"

// testEnvPrefix starts the names of variables read only by tests and
// benchmarks, such as PARLEY_TEST_POSTGRES_URL. EnvWarnings ignores them
// all, so that a test suite can add one without touching this package.
const testEnvPrefix = "PARLEY_TEST_"

// otherEnvVars lists the PARLEY_* variables that Parley reads but that are
// not settings of `parley serve`, so that EnvWarnings neither warns about
// them nor mistakes them for typos. Add a variable here when a subcommand
// or test suite starts reading one, and name it in docs/CONFIG.md (a test
// checks that).
var otherEnvVars = []string{
	// The client subcommands' server and credentials, read through
	// ApplyEnv; PARLEY_PASSWORD is also the new password of parley user
	// create and reset-password.
	"PARLEY_SERVER",
	"PARLEY_TOKEN",
	"PARLEY_USER",
	"PARLEY_PASSWORD",
	// The PostgreSQL and NATS servers the store and broker tests use
	// when these are set (see .ci/run).
	"PARLEY_TEST_POSTGRES_URL",
	"PARLEY_TEST_NATS_URL",
}

// EnvWarnings returns one warning for each variable in environ, a list of
// "NAME=value" entries as from os.Environ, whose name starts with PARLEY_
// but which Parley does not read: neither a setting's variable (see
// EnvVar) nor one of the few read by other subcommands and tests. Such a
// variable is usually a typo, and is otherwise silently ignored. Each
// warning is a sentence that names the closest known variable when one is
// close enough ("PARLEY_ADRR is not a Parley setting; did you mean
// PARLEY_ADDR?"). Empty variables count as unset and are not warned about.
// The warnings are sorted by variable name; nil means none.
func EnvWarnings(environ []string) []string {
	known := knownEnvVars()
	var unknown []string
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if value == "" || !strings.HasPrefix(name, envPrefix) ||
			strings.HasPrefix(name, testEnvPrefix) || slices.Contains(known, name) {
			continue
		}
		unknown = append(unknown, name)
	}
	slices.Sort(unknown)
	unknown = slices.Compact(unknown)

	var warnings []string
	for _, name := range unknown {
		if c := closest(name, envPrefix, known); c != "" {
			warnings = append(warnings, name+" is not a Parley setting; did you mean "+c+"?")
		} else {
			warnings = append(warnings, name+" is not a Parley setting and is ignored; docs/CONFIG.md lists them all")
		}
	}
	return warnings
}

// knownEnvVars returns every PARLEY_* variable Parley reads by name: the
// settings' in their order, then otherEnvVars.
func knownEnvVars() []string {
	known := make([]string, 0, len(settings)+len(otherEnvVars))
	for _, s := range settings {
		known = append(known, s.env)
	}
	return append(known, otherEnvVars...)
}

// lookupEnv returns a getenv for environ that, like os.Getenv, gives the
// first value of a name listed twice.
func lookupEnv(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if _, dup := m[name]; !dup {
			m[name] = value
		}
	}
	return func(name string) string { return m[name] }
}
