package config

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/pflag"
)

// StoreSettings names the settings that say where the store is: the config
// file, the data directory and the database URL. The admin subcommands
// (parley user, parley apikey) take these as flags and read every other
// setting from the file and the environment only, as serve would.
var StoreSettings = []string{"config", "data-dir", "database-url"}

// Flags is a set of settings added to a pflag.FlagSet by AddFlags. Once the
// set has parsed its arguments, Load builds the configuration from them and
// the other layers.
type Flags struct {
	flags map[string]*pflag.Flag // the flags added, by setting name
	given Config                 // what the flags wrote; only flags that were set count
}

// AddFlags adds settings to fs as flags, in the order Config declares them:
// every setting, or only those named in only (flag names; an unknown name
// panics, as it is a programming error). Each flag has its setting's name,
// a value type that help shows after it (string, int, float, bool,
// duration or strings, a comma-separated list), the setting's default and
// its usage text followed by its PARLEY_* variable in brackets. A bool
// flag alone means true (--guests).
func AddFlags(fs *pflag.FlagSet, only ...string) *Flags {
	for _, name := range only {
		if _, ok := settingByName(name); !ok {
			panic("config: AddFlags: no setting named " + name)
		}
	}
	f := &Flags{flags: map[string]*pflag.Flag{}, given: Default()}
	for _, s := range settings {
		if len(only) > 0 && !slices.Contains(only, s.name) {
			continue
		}
		v := s.value(&f.given)
		fl := fs.VarPF(v, s.name, "", s.usage+" ["+s.env+"]")
		if b, ok := v.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			fl.NoOptDefVal = "true"
		}
		f.flags[s.name] = fl
	}
	return f
}

// Load builds the configuration after the flag set has been parsed. It
// layers, from lowest to highest precedence: Default, the YAML config file
// named by --config or PARLEY_CONFIG (if any), the PARLEY_* variables in
// environ (a list of "NAME=value" entries: os.Environ() in main, a literal
// list in tests) and the flags of f that were given on the command line,
// even when given their default value. Settings that have no flag in f are
// still read from the file and the environment. It then calls Validate.
//
// An environment variable that is empty counts as unset. Errors name the
// variable, or the file and line, at fault; every problem in the config
// file is reported at once, and so is every problem Validate finds.
//
// Load also returns EnvWarnings(environ), which name the PARLEY_* variables
// that are not settings, such as a misspelt PARLEY_ADRR; they are returned
// even with an error, since a misspelt variable often explains one.
// Showing them is up to the caller: Load prints nothing.
func (f *Flags) Load(environ []string) (cfg Config, warnings []string, err error) {
	cfg, err = f.load(lookupEnv(environ))
	return cfg, EnvWarnings(environ), err
}

// load is Load with the environment read through getenv.
func (f *Flags) load(getenv func(string) string) (Config, error) {
	given := func(name string) bool {
		fl, ok := f.flags[name]
		return ok && fl.Changed
	}
	cfg := Default()
	cfg.ConfigFile = getenv(EnvVar("config"))
	if given("config") {
		cfg.ConfigFile = f.given.ConfigFile
	}
	if cfg.ConfigFile != "" {
		data, err := os.ReadFile(cfg.ConfigFile)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decodeFile(&cfg, cfg.ConfigFile, data); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	for _, s := range settings {
		if given(s.name) {
			s.copyField(&cfg, &f.given)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyEnv sets every field whose PARLEY_* variable is non-empty.
func applyEnv(cfg *Config, getenv func(string) string) error {
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.value(cfg).Set(v); err != nil {
			return fmt.Errorf("config: %s: %w", s.env, err)
		}
	}
	return nil
}

// ApplyEnv gives the flags of other subcommands the same mirroring as the
// settings: after fs has parsed its arguments, it sets every flag of fs
// that was not given on the command line from its PARLEY_* environment
// variable (see EnvVar), read through getenv, when that variable is
// non-empty. A variable it reads must be listed in otherEnvVars, or
// EnvWarnings warns about it.
func ApplyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		env := EnvVar(f.Name)
		if v := getenv(env); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("config: %s: %w", env, serr)
			}
		}
	})
	return err
}
