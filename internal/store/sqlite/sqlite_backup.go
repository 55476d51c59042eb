package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/internal/migration"
)

// ErrNotParley means a file is not a SQLite database, or is one that no
// Parley made: it has no schema_version table.
var ErrNotParley = errors.New("not a Parley database")

// NotParleyError says why a file is not a Parley database; it matches
// ErrNotParley with errors.Is.
type NotParleyError struct {
	// Reason is what the file is instead, as a sentence fragment.
	Reason string
}

func (e *NotParleyError) Error() string { return "not a Parley database: " + e.Reason }

// Is makes errors.Is(err, ErrNotParley) true.
func (e *NotParleyError) Is(target error) bool { return target == ErrNotParley }

// SchemaVersion returns the newest schema version this binary knows: the
// version Open migrates a database to.
func SchemaVersion() int {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		panic("sqlite: embedded migrations: " + err.Error()) // a build fault, caught by every test
	}
	return len(ms)
}

// Info describes a database file that Check read.
type Info struct {
	// Version is the schema version recorded in the file.
	Version int
	// Bytes is the size of the file.
	Bytes int64
}

// openReadOnly opens the database file at path read-only, after checking
// that it exists (SQLite would otherwise create an empty one). A WAL-mode
// file is read with its WAL, as a server left it.
func openReadOnly(path string) (*sql.DB, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// schemaVersion reads the schema version of an open database, failing with
// ErrNotParley for a file that is not SQLite or has no schema_version.
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables)
	if err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return 0, &NotParleyError{Reason: "it is not a SQLite database"}
		}
		return 0, err
	}
	if tables == 0 {
		return 0, &NotParleyError{Reason: "it is a SQLite database without Parley's schema_version table"}
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, &NotParleyError{Reason: "its schema_version table is empty"}
	}
	return v, nil
}

// Check reads the database file at path without changing it: it must be a
// Parley database (else ErrNotParley) that passes SQLite's integrity check,
// at a schema version this binary knows (else store.ErrSchemaTooNew). The
// integrity check reads every page: about a second per few hundred MB.
func Check(ctx context.Context, path string) (Info, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: check %s: %w", path, err)
	}
	defer db.Close()
	info, err := check(ctx, db)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: check %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil {
		info.Bytes = st.Size()
	}
	return info, nil
}

func check(ctx context.Context, db *sql.DB) (Info, error) {
	v, err := schemaVersion(ctx, db)
	if err != nil {
		return Info{}, err
	}
	if known := SchemaVersion(); v > known {
		return Info{}, fmt.Errorf("schema version %d, and this binary knows only up to %d: %w", v, known, store.ErrSchemaTooNew)
	}
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(10)`)
	if err != nil {
		return Info{}, fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return Info{}, fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return Info{}, fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		return Info{}, fmt.Errorf("integrity check failed: %s", strings.Join(problems, "; "))
	}
	return Info{Version: v}, nil
}

// Backup writes a consistent copy of the Parley database at src to the new
// file dst, which must not exist unless replace, and returns what Check
// finds in the copy. It may run while a server writes to src: VACUUM INTO
// reads one snapshot (a read transaction, which in WAL mode neither waits
// for the writer nor holds it up), so the copy holds every transaction
// committed before it began and none after. The WAL grows meanwhile, since
// a checkpoint cannot start it over under a reader.
//
// The copy is written to a temporary file beside dst (mode 0600: it holds
// password hashes and sessions), synced, checked (integrity, and a schema
// version equal to src's), and only then given its name, so dst never
// names a partial copy. With replace an existing dst is replaced; without,
// Backup fails if dst exists, even one that appeared meanwhile.
func Backup(ctx context.Context, src, dst string, replace bool) (Info, error) {
	db, err := openReadOnly(src)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: back up %s: %w", src, err)
	}
	defer db.Close()
	v, err := schemaVersion(ctx, db)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: back up %s: %w", src, err)
	}
	tmp, err := snapshot(ctx, db, dst)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: back up %s to %s: %w", src, dst, err)
	}
	defer os.Remove(tmp) // gone once renamed; cleans up after a failure
	info, err := Check(ctx, tmp)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: back up %s: the copy failed its check: %w", src, err)
	}
	if info.Version != v {
		return Info{}, fmt.Errorf("sqlite: back up %s: the copy is at schema version %d, the database at %d", src, info.Version, v)
	}
	if err := place(tmp, dst, replace); err != nil {
		return Info{}, fmt.Errorf("sqlite: back up to %s: %w", dst, err)
	}
	return info, nil
}

// Restore puts the backup file at src in place as the database at dst, for
// a server to open, and returns what Check found in src. The caller must
// hold dst's Lock, so that no server opens dst meanwhile. src is checked
// first (a Parley database, whole, at a schema this binary knows) and left
// unchanged; the copy is written beside dst, synced and renamed over it,
// so dst is at every moment either the old database or the whole new one.
// dst's WAL and shared-memory files are removed before the rename: a WAL
// left by a server that crashed belongs to the old file and would corrupt
// the new one. With replace false, an existing dst is an error
// (fs.ErrExist).
func Restore(ctx context.Context, src, dst string, replace bool) (Info, error) {
	db, err := openReadOnly(src)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: restore %s: %w", src, err)
	}
	defer db.Close()
	info, err := check(ctx, db)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: restore %s: %w", src, err)
	}
	if st, err := os.Stat(src); err == nil {
		info.Bytes = st.Size()
	}
	if _, err := os.Stat(dst); err == nil && !replace {
		return Info{}, fmt.Errorf("sqlite: restore to %s: %w", dst, fs.ErrExist)
	}
	// A copy through SQLite rather than of the bytes: a backup that is a
	// WAL-mode file comes with what its WAL holds.
	tmp, err := snapshot(ctx, db, dst)
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: restore %s to %s: %w", src, dst, err)
	}
	defer os.Remove(tmp)
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("sqlite: restore to %s: %w", dst, err)
		}
	}
	if err := place(tmp, dst, replace); err != nil {
		return Info{}, fmt.Errorf("sqlite: restore to %s: %w", dst, err)
	}
	return info, nil
}

// snapshot copies the database db into a new temporary file beside dst
// with VACUUM INTO, makes it private to its owner and syncs it. The caller
// removes the file unless it renames it.
func snapshot(ctx context.Context, db *sql.DB, dst string) (string, error) {
	tmp, err := tempName(dst)
	if err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := errors.Join(os.Chmod(tmp, 0o600), syncPath(tmp)); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// tempName reserves a temporary name in dst's directory, for a file to be
// renamed to dst. The file does not exist on return (VACUUM INTO wants to
// create it).
func tempName(dst string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	f.Close()
	return name, os.Remove(name)
}

// place gives the synced file tmp the name dst: rename, which replaces,
// with replace; else a hard link, which fails if dst exists, so a file
// that appeared meanwhile is never overwritten. Then it syncs the
// directory so the new name survives a crash.
func place(tmp, dst string, replace bool) error {
	if replace {
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	} else if err := os.Link(tmp, dst); err != nil {
		// A file system without hard links: check, then rename.
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if _, serr := os.Lstat(dst); serr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	}
	return syncPath(filepath.Dir(dst))
}

// syncPath fsyncs the file or directory at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
