package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const configDoc = "../../docs/CONFIG.md"

// TestSettingsAreTagged checks that every Config field is exposed: it has a
// flag name, -h text, and a supported type. settings panics at start-up on
// a missing tag, so this mostly guards the usage text and the names.
func TestSettingsAreTagged(t *testing.T) {
	typ := reflect.TypeFor[Config]()
	if len(settings) != typ.NumField() {
		t.Fatalf("%d settings for %d fields", len(settings), typ.NumField())
	}
	valid := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	seen := map[string]string{}
	c := Default()
	for _, s := range settings {
		field := typ.Field(s.index).Name
		if !valid.MatchString(s.name) {
			t.Errorf("%s: flag name %q is not lower-case-with-dashes", field, s.name)
		}
		if other, dup := seen[s.name]; dup {
			t.Errorf("%s and %s share the flag name %q", field, other, s.name)
		}
		seen[s.name] = field
		if s.usage == "" {
			t.Errorf("%s: no usage tag", field)
		}
		_ = s.value(&c) // panics on an unsupported type
	}
}

// TestConfigDocCoversEverySetting fails when a setting has no row in
// docs/CONFIG.md, when a row's environment variable, YAML key or default is
// wrong, or when the document describes a setting that does not exist.
func TestConfigDocCoversEverySetting(t *testing.T) {
	doc, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // flag name → cells
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), " | ")
		if len(cells) != 5 {
			t.Errorf("row %q has %d cells, want 5 (flag, env, YAML key, default, meaning)", line, len(cells))
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		name := strings.Trim(cells[0], "`-")
		if _, dup := rows[name]; dup {
			t.Errorf("--%s has two rows", name)
		}
		rows[name] = cells
	}

	d := Default()
	for _, s := range settings {
		cells, ok := rows[s.name]
		if !ok {
			t.Errorf("--%s has no row in %s", s.name, configDoc)
			continue
		}
		delete(rows, s.name)
		wantYAML := "`" + s.name + "`"
		if !s.inFile {
			wantYAML = "—"
		}
		wantDefault := "(empty)"
		if v := s.value(&d).String(); v != "" {
			wantDefault = "`" + v + "`"
		}
		for _, c := range []struct{ what, got, want string }{
			{"environment variable", cells[1], "`" + s.env + "`"},
			{"YAML key", cells[2], wantYAML},
			{"default", cells[3], wantDefault},
		} {
			if c.got != c.want {
				t.Errorf("--%s: %s is %s in %s, want %s", s.name, c.what, c.got, configDoc, c.want)
			}
		}
		if cells[4] == "" {
			t.Errorf("--%s: no meaning in %s", s.name, configDoc)
		}
	}
	for name := range rows {
		t.Errorf("%s documents --%s, which is not a setting", configDoc, name)
	}
}

// TestConfigDocExampleLoads checks that the example config file in
// docs/CONFIG.md is accepted and valid.
func TestConfigDocExampleLoads(t *testing.T) {
	doc, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no ```yaml example", configDoc)
	}
	c := Default()
	if err := decodeFile(&c, "example", m[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.JWTAlgorithm != "RS256" || len(c.AllowedOrigins) != 2 {
		t.Fatalf("example decoded to %+v", c)
	}
}
