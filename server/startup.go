package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/durable"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// files are the paths a configuration makes the server read and create,
// resolved and checked by checkFiles before anything is created.
type files struct {
	// dataDir is created when missing, as the one directory Parley makes
	// for the operator; "" when nothing is kept there (PostgreSQL and an
	// explicit signing key file).
	dataDir string
	// sqlite is the database file; "" with PostgreSQL.
	sqlite string
	// signingKey is the key file for Parley's own tokens; "" when nothing
	// is signed (accounts and guests off).
	signingKey string
	// external verifies an integrating app's tokens; nil when off.
	external *auth.ExternalVerifier
	// cert is the TLS certificate; nil when TLS is off.
	cert *certificate
}

// checkFiles resolves the paths cfg refers to and checks, without changing
// anything, that each is usable: files to read exist and parse, files to
// create have an existing directory. It reports every problem at once, each
// naming its setting and path, so that a server that cannot start has not
// created a directory or migrated a database first.
func checkFiles(cfg config.Config) (files, error) {
	var f files
	var problems []error
	driver, dsn := cfg.DatabaseDSN()
	if driver == config.DriverSQLite {
		f.sqlite = dsn
		if cfg.DatabaseURL == "" {
			f.dataDir = cfg.DataDir
		} else if err := checkDir(filepath.Dir(dsn)); err != nil {
			problems = append(problems, pathError("database-url", dsn, err))
		}
	}
	if cfg.Accounts || cfg.Guests { // account and guest tokens
		f.signingKey = cfg.SigningKeyFile
		if f.signingKey == "" {
			f.signingKey = filepath.Join(cfg.DataDir, "signing.key")
			f.dataDir = cfg.DataDir
		} else if err := checkKeyFile(f.signingKey); err != nil {
			problems = append(problems, pathError("signing-key-file", f.signingKey, err))
		}
	}
	if f.dataDir != "" {
		if err := checkDataDir(f.dataDir); err != nil {
			problems = append(problems, pathError("data-dir", f.dataDir, err))
		}
	}
	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		pair, err := loadCertificate(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			problems = append(problems, err)
		} else {
			f.cert = &certificate{certFile: cfg.TLSCert, keyFile: cfg.TLSKey}
			f.cert.cur.Store(pair)
		}
	}
	ext, err := externalVerifier(cfg)
	if err != nil {
		problems = append(problems, err)
	}
	f.external = ext
	return f, errors.Join(problems...)
}

// prepare makes what checkFiles found missing: the data directory, then the
// signing key. It logs every key it generates, with its path, because every
// node of a cluster must share that file and a new one signs tokens no other
// node accepts.
func (f files) prepare(log *slog.Logger) (signingKey []byte, err error) {
	if f.dataDir != "" {
		if err := os.Mkdir(f.dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, pathError("data-dir", f.dataDir, err)
		}
		// The directory's name is durable only once its parent is synced;
		// without it a power cut can take the directory and everything
		// acknowledged in it. Synced at every start, as a start before
		// may have crashed between the two.
		if err := durable.SyncDir(filepath.Dir(filepath.Clean(f.dataDir))); err != nil {
			return nil, pathError("data-dir", f.dataDir, err)
		}
		if err := probeWritable(f.dataDir); err != nil {
			return nil, pathError("data-dir", f.dataDir, err)
		}
	}
	if f.signingKey == "" {
		return nil, nil
	}
	key, created, err := auth.LoadOrCreateKey(f.signingKey)
	if err != nil {
		return nil, pathError("signing-key-file", f.signingKey, err)
	}
	if created {
		log.Info("generated a new token-signing key; every node of a cluster must use this file", "path", f.signingKey)
	}
	return key, nil
}

// lockDatabase takes the lock of the SQLite database (see sqlite.Lock), so
// that a second server on the same data refuses to start rather than run
// beside the first: each keeps the rooms' sequence numbers in memory, and
// two would hand out the same ones. It returns nil with PostgreSQL, which
// several servers share by design.
func lockDatabase(f files, cfg config.Config) (*sqlite.Lock, error) {
	if f.sqlite == "" {
		return nil, nil
	}
	l, err := sqlite.AcquireLock(f.sqlite)
	var held *sqlite.LockedError
	if errors.As(err, &held) {
		setting := "data-dir"
		if cfg.DatabaseURL != "" {
			setting = "database-url"
		}
		holder := "another process"
		if held.PID > 0 {
			holder = fmt.Sprintf("process %d", held.PID)
		}
		return nil, fmt.Errorf("server: the database %s is already in use by another parley serve (%s; lock file %s); "+
			"stop that one first, or give this one another --%s", f.sqlite, holder, held.LockFile, setting)
	}
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return l, nil
}

// checkDir checks that dir exists and is a directory.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist; create it or correct the path", dir)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// checkKeyFile checks a signing key file that is given explicitly: an
// existing one must hold a valid key, a missing one must have a directory
// to be created in.
func checkKeyFile(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return checkDir(filepath.Dir(path))
	}
	_, err := auth.LoadKey(path)
	return err
}

// checkDataDir checks that the data directory exists and is writable, or
// can be created: its parent exists.
func checkDataDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkDir(filepath.Dir(filepath.Clean(dir)))
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return probeWritable(dir)
}

// probeWritable creates and removes a file in dir: SQLite needs to create
// its journal files beside the database, and a permission problem is
// clearer said here than by SQLite's "unable to open database file".
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".parley-probe-*")
	if errors.Is(err, fs.ErrPermission) {
		return errors.New("permission denied: the server cannot create files there")
	}
	if err != nil {
		return fmt.Errorf("cannot create files there: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// externalVerifier reads the key of an integrating app's tokens, when they
// are on, and builds their verifier.
func externalVerifier(cfg config.Config) (*auth.ExternalVerifier, error) {
	if cfg.JWTAlgorithm == "" {
		return nil, nil
	}
	ec := auth.ExternalConfig{Algorithm: cfg.JWTAlgorithm, Audience: cfg.JWTAudience, Issuer: cfg.JWTIssuer}
	setting, path := "", ""
	var err error
	switch {
	case cfg.JWTSecret != "":
		ec.Secret = []byte(cfg.JWTSecret)
		setting = "jwt-secret"
	case cfg.JWTSecretFile != "":
		setting, path = "jwt-secret-file", cfg.JWTSecretFile
		ec.Secret, err = os.ReadFile(path)
		ec.Secret = []byte(strings.TrimSpace(string(ec.Secret)))
	case cfg.JWTPublicKeyFile != "":
		setting, path = "jwt-public-key-file", cfg.JWTPublicKeyFile
		ec.PublicKeyPEM, err = os.ReadFile(path)
	case cfg.JWTJWKSFile != "":
		setting, path = "jwt-jwks-file", cfg.JWTJWKSFile
		ec.JWKS, err = os.ReadFile(path)
	}
	if err == nil {
		var v *auth.ExternalVerifier
		if v, err = auth.NewExternalVerifier(ec); err == nil {
			return v, nil
		}
		err = errors.New(strings.TrimPrefix(err.Error(), "auth: external tokens: "))
	}
	if path == "" {
		return nil, fmt.Errorf("config: %s: %w", setting, err)
	}
	return nil, pathError(setting, path, err)
}

// pathError words a problem with the file or directory a setting names:
// the setting and path first, then what is wrong, in plain words for the
// common cases rather than the system call's.
func pathError(setting, path string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = errors.New("does not exist")
	case errors.Is(err, fs.ErrPermission):
		err = errors.New("permission denied: the server's user cannot use it")
	case errors.As(err, &pe):
		err = pe.Err
	}
	return fmt.Errorf("config: %s %s: %w", setting, path, err)
}
