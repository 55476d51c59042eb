package api_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityDocNamesRealTests keeps docs/SECURITY.md rerunnable: every
// test it names, with the package in parentheses after it, is a function
// of that name in that package's test files.
func TestSecurityDocNamesRealTests(t *testing.T) {
	const root = "../.."
	doc, err := os.ReadFile(filepath.Join(root, "docs", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	// "`TestA`, `TestB` (internal/api)" and "… (internal/store/sqlite and internal/store/postgres)"
	cell := regexp.MustCompile("((?:`(?:Test|Fuzz)[A-Za-z0-9_/]+`(?:, )?)+) \\(([a-z/ ]+)\\)")
	name := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)[A-Za-z0-9_/]*`")
	checked := 0
	for _, m := range cell.FindAllStringSubmatch(string(doc), -1) {
		for _, pkg := range strings.Split(m[2], " and ") {
			files, _ := filepath.Glob(filepath.Join(root, pkg, "*_test.go"))
			var src strings.Builder
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				src.Write(b)
			}
			for _, n := range name.FindAllStringSubmatch(m[1], -1) {
				checked++
				if !regexp.MustCompile(`(?m)^func ` + n[1] + `\(`).MatchString(src.String()) {
					t.Errorf("docs/SECURITY.md names %s in %s, which has no such test", n[1], pkg)
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("found only %d test names in docs/SECURITY.md; has its table format changed?", checked)
	}
}
