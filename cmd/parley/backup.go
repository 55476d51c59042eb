package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/durable"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/server"
)

const backupLong = `Copy a server's SQLite database to FILE, consistently, while the server
runs and writes (SQLite's VACUUM INTO reads one snapshot: the copy holds
every message acknowledged before the backup began). The copy is written
beside FILE, synced, checked (PRAGMA integrity_check and the schema
version) and only then named FILE, readable by its owner only.

The database is found from the same settings as parley serve: --config,
--data-dir and --database-url, or their PARLEY_* variables. The token
signing key (<data-dir>/signing.key by default) is a separate file: keep a
copy of it too, or every token and session is refused after a restore.
With PostgreSQL use pg_dump instead; docs/OPERATIONS.md shows how.`

const restoreLong = `Put a backup made by parley backup in place as the server's SQLite
database, for parley serve to open: the database file named by --data-dir
(or --database-url, or --config), or their PARLEY_* variables.

FILE must be a Parley database that passes SQLite's integrity check, from
this version of Parley or an older one (the server migrates it when it
starts). The server must be stopped: restore refuses while one holds the
database's lock file. It refuses to replace an existing database unless
--force; the old database is then gone, so back it up first. Missing data
directories are created as parley serve would. With PostgreSQL use
pg_restore instead; docs/OPERATIONS.md shows how.`

// backupFlags are the flags of backup and restore: the store settings,
// --json and --force.
type backupFlags struct {
	*adminFlags
	force bool
}

func backupCommand(e *cli) *cobra.Command {
	c := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy a running server's SQLite database to FILE, checked",
		Long:  backupLong,
		Example: `  parley backup /var/backups/parley/parley-$(date +%F).db --data-dir /var/lib/parley
  parley backup nightly.db --force --config /etc/parley/parley.yaml`,
		Args: exactArgs("FILE"),
	}
	f := &backupFlags{adminFlags: addAdminFlags(c)}
	c.Flags().BoolVar(&f.force, "force", false, "replace FILE if it exists")
	c.RunE = func(c *cobra.Command, args []string) error { return f.backup(c, e, args[0]) }
	return c
}

func restoreCommand(e *cli) *cobra.Command {
	c := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put a backup in place as a stopped server's SQLite database",
		Long:  restoreLong,
		Example: `  parley restore /var/backups/parley/parley-2025-06-01.db --data-dir /var/lib/parley
  parley restore nightly.db --force --config /etc/parley/parley.yaml`,
		Args: exactArgs("FILE"),
	}
	f := &backupFlags{adminFlags: addAdminFlags(c)}
	c.Flags().BoolVar(&f.force, "force", false, "replace the server's database if it exists")
	c.RunE = func(c *cobra.Command, args []string) error { return f.restore(c, e, args[0]) }
	return c
}

// backupResult is what backup and restore print with --json.
type backupResult struct {
	Database      string  `json:"database"`
	File          string  `json:"file"`
	Bytes         int64   `json:"bytes"`
	SchemaVersion int     `json:"schema_version"`
	Seconds       float64 `json:"seconds"`
}

// sqlitePath loads the configuration as the admin commands do and returns
// the SQLite database it names, or an error that points PostgreSQL users
// at tool, pg_dump or pg_restore.
func (f *backupFlags) sqlitePath(c *cobra.Command, e *cli, tool string) (config.Config, string, error) {
	cfg, warnings, err := f.store.Load(e.environ)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, c.CommandPath()+": warning:", w)
	}
	if err != nil {
		printError(e.stderr, c.CommandPath(), err)
		return cfg, "", exitStatus(exitUsage)
	}
	driver, dsn := cfg.DatabaseDSN()
	if driver == config.DriverPostgres {
		return cfg, "", fmt.Errorf("the configured store is PostgreSQL (%s), which %s does not handle; "+
			"use %s, as docs/OPERATIONS.md shows", databaseName(driver, dsn), c.Name(), tool)
	}
	abs, err := filepath.Abs(dsn)
	if err != nil {
		return cfg, "", err
	}
	return cfg, abs, nil
}

// backup is "parley backup FILE".
func (f *backupFlags) backup(c *cobra.Command, e *cli, file string) error {
	_, db, err := f.sqlitePath(c, e, "pg_dump")
	if err != nil {
		return err
	}
	dst, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	switch st, err := os.Stat(dst); {
	case dst == db:
		return usagef("FILE %s is the server's database itself; name a new file", file)
	case err == nil && st.IsDir():
		return usagef("FILE %s is a directory; name a file in it", file)
	case err == nil && !f.force:
		return usagef("FILE %s exists; give --force to replace it", file)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := checkDir(filepath.Dir(dst)); err != nil {
		return usagef("FILE %s: %v", file, err)
	}
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no Parley database at %s; give the server's --data-dir or --database-url "+
			"(or its --config)", db)
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	info, err := sqlite.Backup(ctx, db, dst, f.force)
	if err != nil {
		return explainStoreError(err, db)
	}
	res := backupResult{Database: db, File: dst, Bytes: info.Bytes, SchemaVersion: info.Version, Seconds: time.Since(start).Seconds()}
	return f.output(e.stdout, res, func(w io.Writer) {
		fmt.Fprintf(w, "backed up %s to %s: %s, schema version %d, integrity check ok, in %.1fs\n",
			db, dst, humanBytes(info.Bytes), info.Version, res.Seconds)
	})
}

// restore is "parley restore FILE".
func (f *backupFlags) restore(c *cobra.Command, e *cli, file string) error {
	cfg, db, err := f.sqlitePath(c, e, "pg_restore")
	if err != nil {
		return err
	}
	src, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	if src == db {
		return usagef("FILE %s is the server's database itself; name a backup", file)
	}
	if st, err := os.Stat(src); err != nil {
		return usagef("FILE %s: %v", file, plainPathError(err))
	} else if !st.Mode().IsRegular() {
		return usagef("FILE %s is not a regular file", file)
	}
	dir := filepath.Dir(db)
	if cfg.DatabaseURL == "" {
		dir = filepath.Dir(dir) // the data directory is made if missing
	}
	if err := checkDir(dir); err != nil {
		return usagef("the database %s: %v", db, err)
	}
	if err := sqlite.Locked(db); err != nil {
		return inUse(err, db)
	}
	if _, err := os.Stat(db); err == nil && !f.force {
		return usagef("the database %s exists; stop its server, back it up, and give --force to replace it", db)
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := sqlite.Check(ctx, src); err != nil {
		return explainStoreError(err, src)
	}
	// Everything is checked; now the data directory, as serve makes it.
	if dir := filepath.Dir(db); cfg.DatabaseURL == "" {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create the data directory: %w", err)
		}
		// Restore syncs the database and its directory; the directory's
		// own name is durable only once its parent is synced too.
		if err := durable.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
			return fmt.Errorf("create the data directory: %w", err)
		}
	}
	lock, err := sqlite.AcquireLock(db)
	if err != nil {
		return inUse(err, db)
	}
	defer lock.Release()
	start := time.Now()
	info, err := sqlite.Restore(ctx, src, db, f.force)
	if err != nil {
		return explainStoreError(err, src)
	}
	res := backupResult{Database: db, File: src, Bytes: info.Bytes, SchemaVersion: info.Version, Seconds: time.Since(start).Seconds()}
	return f.output(e.stdout, res, func(w io.Writer) {
		fmt.Fprintf(w, "restored %s to %s: %s, schema version %d, integrity check ok, in %.1fs\n",
			src, db, humanBytes(info.Bytes), info.Version, res.Seconds)
		if known := sqlite.SchemaVersion(); info.Version < known {
			fmt.Fprintf(w, "parley serve migrates it from schema version %d to %d when it starts\n", info.Version, known)
		}
	})
}

// inUse words a held database lock for the operator.
func inUse(err error, db string) error {
	var held *sqlite.LockedError
	if !errors.As(err, &held) {
		return err
	}
	holder := "a process"
	if held.PID > 0 {
		holder = fmt.Sprintf("process %d", held.PID)
	}
	return fmt.Errorf("the database %s is in use by a running parley serve (%s; lock file %s); stop the server first",
		db, holder, held.LockFile)
}

// explainStoreError turns the store's refusals of a file into sentences
// that name it.
func explainStoreError(err error, path string) error {
	var notParley *sqlite.NotParleyError
	switch {
	case errors.As(err, &notParley):
		return fmt.Errorf("%s is not a Parley database: %s", path, notParley.Reason)
	case errors.Is(err, store.ErrSchemaTooNew):
		return fmt.Errorf("%s is from a newer Parley than this one (parley %s, schema version %d); "+
			"use the parley of that version: %w", path, server.Version, sqlite.SchemaVersion(), err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted; nothing was written: %w", err)
	}
	return err
}

// checkDir checks that dir is an existing directory.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("directory %s: %w", dir, plainPathError(err))
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// plainPathError drops the path and system call of a *fs.PathError, which
// the caller's message already names.
func plainPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(err, fs.ErrNotExist) {
			return errors.New("does not exist")
		}
		return pe.Err
	}
	return err
}

// humanBytes shows a size in the unit that suits it.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
