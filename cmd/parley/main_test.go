package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// TestServeWarnsAboutUnknownVariables checks that serve names a misspelt
// PARLEY_* variable before the configuration error it may explain, and
// stops there without starting a server.
func TestServeWarnsAboutUnknownVariables(t *testing.T) {
	var stderr bytes.Buffer
	code := serve([]string{"--data-dir", t.TempDir()}, []string{
		"PARLEY_HISTORY_LIMIT=5000",
		"PARLEY_ADRR=:9999",
		"PARLEY_TEST_POSTGRES_URL=postgres://db/test",
		"PARLEY_TOKEN=t",
		"HOME=/nowhere",
	}, &stderr)
	if code != 2 {
		t.Errorf("serve returned %d, want 2", code)
	}
	want := "parley: warning: PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?\n" +
		"parley: config: history-limit 5000: out of range [1, 1000]\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}
