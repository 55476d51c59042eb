// Package migration reads the embedded, numbered SQL files that each SQL
// backend of store migrates its schema with. Applying them is the backend's
// job (each dialect locks differently); this package only finds and orders
// them and checks the numbering.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Step is one numbered schema change.
type Step struct {
	Version int    // from the file name: 0001_init.sql is version 1
	Name    string // the file name, for logs and errors
	SQL     string
}

// Load reads dir/*.sql from fsys and returns the steps ordered by version.
// Files are named NNNN_what.sql and numbered 1, 2, 3… with no gap or
// repeat, so a missing or doubled file is caught at start-up.
func Load(fsys fs.FS, dir string) ([]Step, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("migration: list %s: %w", dir, err)
	}
	var steps []Step
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration: %s: name must be a positive number, _ and a description", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration: read %s: %w", base, err)
		}
		steps = append(steps, Step{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Version < steps[j].Version })
	for i, s := range steps {
		if s.Version != i+1 {
			return nil, fmt.Errorf("migration: %s: expected version %d", s.Name, i+1)
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("migration: no files in %s", dir)
	}
	return steps, nil
}
