// Package config holds the one Config struct that configures a Parley
// server, and loads it from defaults, an optional YAML config file, PARLEY_*
// environment variables and command-line flags, in that order of increasing
// precedence.
//
// Every setting has a single name used three ways: as a flag (--max-frame-bytes),
// as an environment variable (PARLEY_MAX_FRAME_BYTES) and as a key in the config
// file (max-frame-bytes). The name is the field's `flag` struct tag; flags, the
// environment, the file format, the --help text and the test that keeps
// docs/CONFIG.md complete are all derived from those tags, so adding a field
// with a tag is all it takes to expose a new setting everywhere.
//
// AddFlags adds the settings to a pflag.FlagSet (the one of a cobra
// command); after it is parsed, Flags.Load layers the file, the environment
// and the flags given, and validates. Validate range-checks every field and
// names the offending setting in each error. Load also returns
// EnvWarnings: a warning for each PARLEY_* variable that is not a setting,
// naming the closest one. The package reads the config file and does no
// other I/O: it never opens the database, the data directory or key files.
package config
