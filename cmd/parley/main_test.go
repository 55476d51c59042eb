package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/goleak"

	"github.com/parley-chat/parley/internal/config"
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

// runIn runs the command line in this process with environ as its
// environment and nothing on standard input.
func runIn(environ []string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(args, &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, environ: environ})
	return out.String(), errOut.String(), code
}

// TestServeWarnsAboutUnknownVariables checks that serve names a misspelt
// PARLEY_* variable before the configuration error it may explain, and
// stops there without starting a server.
func TestServeWarnsAboutUnknownVariables(t *testing.T) {
	_, stderr, code := runIn([]string{
		"PARLEY_HISTORY_LIMIT=5000",
		"PARLEY_ADRR=:9999",
		"PARLEY_TEST_POSTGRES_URL=postgres://db/test",
		"PARLEY_TOKEN=t",
		"HOME=/nowhere",
	}, "serve", "--data-dir", t.TempDir())
	if code != 2 {
		t.Errorf("serve exited %d, want 2", code)
	}
	want := "parley: warning: PARLEY_ADRR is not a Parley setting; did you mean PARLEY_ADDR?\n" +
		"parley: config: history-limit 5000: out of range [1, 1000]\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
}

// TestHelpGoesToStdout checks every way of asking for help: the help is
// on standard output, nothing is on standard error, and the exit status
// is 0.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"-h"}, {"help", "serve"}, {"serve", "--help"}, {"serve", "-h"},
		{"help", "user", "create"}, {"user", "create", "--help"}, {"apikey", "-h"}, {"bench", "--help"},
		{"completion", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runIn(nil, args...)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage:") {
				t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
			}
		})
	}
	// Asked for nothing, parley shows its help where errors go.
	stdout, stderr, code := runIn(nil)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "Available Commands:") {
		t.Fatalf("parley alone: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// TestUsageErrors checks that a command line that cannot run is one line
// on standard error that names the problem and the help to read, with
// exit status 2.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sevre"}, `parley: unknown command "sevre" (did you mean "serve"?); see 'parley --help'`},
		{[]string{"frobnicate"}, `parley: unknown command "frobnicate"; see 'parley --help'`},
		{[]string{"--frobnicate"}, `parley: unknown flag: --frobnicate; see 'parley --help'`},
		{[]string{"serve", "--frobnicate"}, `parley serve: unknown flag: --frobnicate; see 'parley serve --help'`},
		{[]string{"serve", "-x"}, `parley serve: unknown shorthand flag: 'x' in -x; see 'parley serve --help'`},
		{[]string{"serve", "extra"}, `parley serve: unexpected argument "extra"; see 'parley serve --help'`},
		{[]string{"serve", "--token-ttl", "5x"}, `parley serve: invalid argument "5x" for "--token-ttl" flag: ` +
			`want a duration such as "25s" or "15m", got "5x"; see 'parley serve --help'`},
		{[]string{"serve", "--rate-burst"}, `parley serve: flag needs an argument: --rate-burst; see 'parley serve --help'`},
		{[]string{"user", "frob"}, `parley user: unknown command "frob"; see 'parley user --help'`},
		{[]string{"user", "create"}, `parley user create: missing USERNAME; see 'parley user create --help'`},
		{[]string{"user", "show", "a", "b"}, `parley user show: unexpected argument "b"; see 'parley user show --help'`},
		{[]string{"user", "list", "--admin"}, `parley user list: unknown flag: --admin; see 'parley user list --help'`},
		{[]string{"apikey", "revoke"}, `parley apikey revoke: missing ID; see 'parley apikey revoke --help'`},
		{[]string{"apikey", "create", "--scopes", "rooms"}, `parley apikey create: --name is required; see 'parley apikey create --help'`},
		{[]string{"bench", "--scenario", "nope"}, `parley bench: unknown scenario "nope" (want idle, fanout, chat, storm, publish, rooms, soak or all); see 'parley bench --help'`},
		{[]string{"version", "now"}, `parley version: unexpected argument "now"; see 'parley version --help'`},
		{[]string{"help", "nosuch"}, `parley help: unknown command "nosuch"; see 'parley --help'`},
		{[]string{"help", "user", "nosuch"}, `parley help: unknown command "nosuch"; see 'parley user --help'`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := runIn(nil, tt.args...)
			if code != 2 || stdout != "" || stderr != tt.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestServeHelpShowsEverySetting keeps `parley serve --help` true: every
// setting of internal/config is listed with its value type, its PARLEY_*
// variable and, unless empty, its default.
func TestServeHelpShowsEverySetting(t *testing.T) {
	help, _, code := runIn(nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	settings := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	config.AddFlags(settings)
	n := 0
	settings.VisitAll(func(f *pflag.Flag) {
		n++
		typ := " " + f.Value.Type()
		if typ == " bool" {
			typ = ""
		}
		line := regexp.MustCompile(`(?m)^ +--` + regexp.QuoteMeta(f.Name+typ) + ` {2,}(.*)$`).FindStringSubmatch(help)
		if line == nil {
			t.Errorf("serve --help does not list --%s%s", f.Name, typ)
			return
		}
		if !strings.Contains(line[1], "["+config.EnvVar(f.Name)+"]") {
			t.Errorf("--%s: %q does not name %s", f.Name, line[1], config.EnvVar(f.Name))
		}
		def := f.DefValue
		if f.Value.Type() == "string" {
			def = `"` + def + `"`
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.HasSuffix(line[1], "(default "+def+")") {
			t.Errorf("--%s: %q does not end with (default %s)", f.Name, line[1], def)
		}
	})
	if n < 40 {
		t.Fatalf("only %d settings", n)
	}
}

// TestEveryListedCommandExists keeps the command lists in help true: each
// command a help lists answers --help, and each command there is, is
// listed in its parent's help.
func TestEveryListedCommandExists(t *testing.T) {
	listed := regexp.MustCompile(`(?m)^  ([a-z][a-z-]*) +\S`)
	var walk func(path []string, c *cobra.Command)
	walk = func(path []string, c *cobra.Command) {
		help, stderr, code := runIn(nil, append(slices.Clone(path), "--help")...)
		if code != 0 || stderr != "" {
			t.Errorf("parley %s --help: exit %d, stderr %q", strings.Join(path, " "), code, stderr)
			return
		}
		var names []string
		if _, cmds, ok := strings.Cut(help, "Available Commands:\n"); ok {
			cmds, _, _ = strings.Cut(cmds, "\n\n")
			for _, m := range listed.FindAllStringSubmatch(cmds+"\n", -1) {
				names = append(names, m[1])
			}
		}
		var want []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				want = append(want, sub.Name())
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("parley %s --help lists %q; the commands are %q", strings.Join(path, " "), names, want)
		}
		for _, sub := range c.Commands() {
			if slices.Contains(names, sub.Name()) && sub.Name() != "help" {
				walk(append(slices.Clone(path), sub.Name()), sub)
			}
		}
	}
	root := newRoot(&cli{})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(nil, root)
	for _, want := range []string{"serve", "bench", "version", "user", "apikey", "completion", "help"} {
		if c, _, err := root.Find([]string{want}); err != nil || c.Name() != want {
			t.Errorf("no command %q", want)
		}
	}
}

// TestDocumentedCommandsParse checks that every parley command line in the
// README and docs/ names a command that exists, with flags and arguments
// it takes.
func TestDocumentedCommandsParse(t *testing.T) {
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append([]string{"../../README.md"}, docs...)
	found := 0
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range shellLines(string(text)) {
			args, ok := parleyArgs(line)
			if !ok {
				continue
			}
			found++
			root := newRoot(&cli{})
			root.InitDefaultHelpCmd()
			root.InitDefaultCompletionCmd()
			c, rest, err := root.Find(args)
			if err == nil {
				err = c.ParseFlags(rest)
			}
			if err == nil {
				err = c.ValidateArgs(c.Flags().Args())
			}
			if err == nil && !c.Runnable() {
				err = errNotRunnable
			}
			if err != nil {
				t.Errorf("%s: %q does not parse: %v", filepath.Base(doc), line, err)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found only %d parley command lines in the docs", found)
	}
	// The first screen of the README keeps its two commands.
	readme, _ := os.ReadFile("../../README.md")
	first := strings.Join(strings.SplitN(string(readme), "\n", 20), "\n")
	for _, cmd := range []string{"go run ./cmd/parley serve ", "go test ./... "} {
		if !strings.Contains(first, "\n"+cmd) {
			t.Errorf("the README's first screen lost %q", cmd)
		}
	}
}

var errNotRunnable = errors.New("a group of commands, not one that runs")

// shellLines returns the lines of the shell code blocks of a Markdown
// text, with continued lines joined.
func shellLines(md string) []string {
	var out []string
	in, cont := false, ""
	for line := range strings.Lines(md) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && (line == "```sh" || line == "```bash" || line == "```shell")
			continue
		case !in:
			continue
		}
		if l, ok := strings.CutSuffix(line, "\\"); ok {
			cont += l + " "
			continue
		}
		out = append(out, cont+line)
		cont = ""
	}
	return out
}

// parleyArgs returns the arguments of the parley command in a shell line:
// "parley", "./parley" or "go run ./cmd/parley" after any VAR=value
// assignments, or after a pipe; a comment ends it.
func parleyArgs(line string) ([]string, bool) {
	words := shellWords(line)
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "#":
			return nil, false
		case w == "|":
			continue
		case w == "parley" || w == "./parley":
			return commandArgs(words[i+1:]), true
		case w == "go" && i+2 < len(words) && words[i+1] == "run" && words[i+2] == "./cmd/parley":
			return commandArgs(words[i+3:]), true
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-"):
			continue // an assignment
		default:
			// Another command; it may pipe into parley.
			for i < len(words) && words[i] != "|" {
				i++
			}
		}
	}
	return nil, false
}

// commandArgs cuts words at a comment, a pipe, a redirection or a "&",
// and leaves out the docs' "..." (more flags, as the reader likes).
func commandArgs(words []string) []string {
	var args []string
	for _, w := range words {
		switch {
		case w == "#" || w == "|" || w == "&" || w == "&&" || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<"):
			return args
		case w == "..." || w == "…":
		default:
			args = append(args, w)
		}
	}
	return args
}

// shellWords splits a line into words as a shell would for the simple
// lines of the docs: blanks separate words, quotes group them, and a #
// at the start of a word starts a comment (returned as the word "#").
func shellWords(line string) []string {
	var (
		words []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '#' && !in:
			return append(words, "#")
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}
