package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Load builds the configuration for `parley serve`. It parses args with a
// new flag.FlagSet named name, then layers, from lowest to highest
// precedence: Default, the YAML config file named by --config or
// PARLEY_CONFIG (if any), the PARLEY_* environment variables read through
// getenv (os.Getenv, or a map lookup in tests), and the flags actually
// given in args. It then calls Validate.
//
// An environment variable that is empty counts as unset. On -h or -help
// Load prints usage to standard error and returns flag.ErrHelp unwrapped.
// Other errors, including bad flags, are returned without printing
// anything and name the flag, variable, or file and line at fault; every
// problem in the config file is reported at once, and so is every problem
// Validate finds.
//
// Load cannot see variables it does not ask getenv for, so it does not
// warn about misspelt ones; LoadEnviron does.
func Load(name string, args []string, getenv func(string) string) (Config, error) {
	return load(name, args, getenv, os.Stderr)
}

// LoadEnviron is Load with the whole environment: it reads the PARLEY_*
// variables from environ, a list of "NAME=value" entries (os.Environ() in
// main, a literal list in tests), and also returns EnvWarnings(environ),
// which name the PARLEY_* variables that are not settings, such as a
// misspelt PARLEY_ADRR. It prints nothing but -h usage; showing the
// warnings is up to the caller. They are returned even with an error,
// since a misspelt variable often explains one.
func LoadEnviron(name string, args, environ []string) (cfg Config, warnings []string, err error) {
	warnings = EnvWarnings(environ)
	cfg, err = load(name, args, lookupEnv(environ), os.Stderr)
	return cfg, warnings, err
}

func load(name string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Parse errors are returned, not printed with the whole usage; usage
	// is printed only when asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\n"+
			"Each flag can also be set by its PARLEY_* environment variable, shown in\n"+
			"brackets, or by the same name as a key in the --config YAML file.\n"+
			"Flags override the environment, which overrides the file.\n\n", name)
		fs.PrintDefaults()
	}

	// Flags are parsed into their own copy so that only the ones given
	// override the file and the environment.
	fromFlags := Default()
	for _, s := range settings {
		fs.Var(s.value(&fromFlags), s.name, s.usage+" ["+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return Config{}, flag.ErrHelp
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	cfg := Default()
	cfg.ConfigFile = getenv(EnvVar("config"))
	if given["config"] {
		cfg.ConfigFile = fromFlags.ConfigFile
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
		if given[s.name] {
			s.copyField(&cfg, &fromFlags)
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

// ApplyEnv gives the other subcommands the same mirroring as Load: after
// fs.Parse, it sets every flag of fs that was not given on the command line
// from its PARLEY_* environment variable (see EnvVar), read through getenv,
// when that variable is non-empty.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		env := EnvVar(f.Name)
		if v := getenv(env); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("config: %s: %w", env, serr)
			}
		}
	})
	return err
}
