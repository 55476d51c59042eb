package config

import (
	"strings"
	"testing"
)

// decodeErr runs decodeFile on content as "parley.yaml" and returns the
// error text, failing the test if there was none. The file name is fixed so
// that a substring check cannot pass by matching a temporary directory.
func decodeErr(t *testing.T, content string) string {
	t.Helper()
	c := Default()
	before := c
	err := decodeFile(&c, "parley.yaml", []byte(content))
	if err == nil {
		t.Fatalf("decodeFile(%q) succeeded, want an error", content)
	}
	if c.Addr != before.Addr || c.RateBurst != before.RateBurst || c.Guests != before.Guests {
		t.Errorf("decodeFile changed cfg on error")
	}
	return err.Error()
}

// TestDecodeFileReportsEveryProblem checks that a file with several
// mistakes reports all of them, in line order, each with its line.
func TestDecodeFileReportsEveryProblem(t *testing.T) {
	const file = `addr: ":1"
max-frame-byte: 10
heartbeat-interval: 25
addr: ":2"
guests: maybe
rate-burst: 1.5
allowed-origins:
  - https://a.example
  - 42
jwt-audience: 12345
log-level: debug
`
	want := strings.Join([]string{
		`config: parley.yaml:2: unknown key "max-frame-byte"; did you mean "max-frame-bytes"?`,
		`config: parley.yaml:3: heartbeat-interval: want a duration such as "25s" or "15m", got the number 25 (write 25s)`,
		`config: parley.yaml:4: key "addr" appears twice: lines 1 and 4; keep one`,
		`config: parley.yaml:5: guests: want true or false, got the text "maybe"`,
		`config: parley.yaml:6: rate-burst: want an integer, got the number 1.5`,
		`config: parley.yaml:9: allowed-origins: want a list of strings, but item 2 is the number 42 (quote it: "42")`,
		`config: parley.yaml:10: jwt-audience: want a string, got the number 12345 (quote it: "12345")`,
	}, "\n")
	if got := decodeErr(t, file); got != want {
		t.Fatalf("error:\n%s\nwant:\n%s", got, want)
	}
}

// TestDecodeFileProblems checks each kind of problem on its own. want is
// the whole error text.
func TestDecodeFileProblems(t *testing.T) {
	const duration = `want a duration such as "25s" or "15m", got `
	tests := []struct {
		name string
		yaml string
		want string
	}{
		// Durations.
		{"integer for duration", "typing-timeout: 6\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `the number 6 (write 6s)`},
		{"float for duration", "typing-timeout: 1.5\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `the number 1.5 (write 1.5s)`},
		{"quoted number for duration", "typing-timeout: \"6\"\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `the text "6" (write 6s)`},
		{"bad duration text", "typing-timeout: 5q\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `the text "5q"`},
		{"bool for duration", "typing-timeout: true\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `the word true`},
		{"list for duration", "typing-timeout: [6s]\n",
			`config: parley.yaml:1: typing-timeout: ` + duration + `a list`},
		{"mapping for duration", "typing-timeout:\n  s: 6\n",
			`config: parley.yaml:2: typing-timeout: ` + duration + `a mapping`},

		// Integers.
		{"float for int", "rate-burst: 1.5\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the number 1.5`},
		{"text for int", "rate-burst: lots\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the text "lots"`},
		{"quoted int", "rate-burst: \"10\"\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the text "10" (remove the quotes)`},
		{"int too large", "rate-burst: 99999999999999999999\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the number 99999999999999999999, which is too large`},
		{"int too small", "rate-burst: -99999999999999999999\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the number -99999999999999999999, which is too small`},
		{"uint64 too large", "rate-burst: 18446744073709551615\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the number 18446744073709551615, which is too large`},
		{"bool for int", "rate-burst: false\n",
			`config: parley.yaml:1: rate-burst: want an integer, got the word false`},

		// Numbers.
		{"text for number", "rate-messages: fast\n",
			`config: parley.yaml:1: rate-messages: want a number, got the text "fast"`},
		{"quoted number", "rate-messages: '2.5'\n",
			`config: parley.yaml:1: rate-messages: want a number, got the text "2.5" (remove the quotes)`},
		{"infinity", "rate-messages: .inf\n",
			`config: parley.yaml:1: rate-messages: want a number, got infinity (.inf)`},
		{"not a number", "rate-messages: .nan\n",
			`config: parley.yaml:1: rate-messages: want a number, got not-a-number (.nan)`},

		// Booleans.
		{"text for bool", "guests: yes\n",
			`config: parley.yaml:1: guests: want true or false, got the text "yes"`},
		{"number for bool", "guests: 1\n",
			`config: parley.yaml:1: guests: want true or false, got the number 1`},

		// Strings.
		{"number for string", "jwt-audience: 12345\n",
			`config: parley.yaml:1: jwt-audience: want a string, got the number 12345 (quote it: "12345")`},
		{"bool for string", "jwt-audience: true\n",
			`config: parley.yaml:1: jwt-audience: want a string, got the word true (quote it: "true")`},
		{"list for string", "jwt-audience: [a]\n",
			`config: parley.yaml:1: jwt-audience: want a string, got a list`},

		// Lists.
		{"text for list", "allowed-origins: https://a.example\n",
			`config: parley.yaml:1: allowed-origins: want a list such as [a, b], got the text "https://a.example" (write [https://a.example])`},
		{"mapping for list", "allowed-origins: {a: b}\n",
			`config: parley.yaml:1: allowed-origins: want a list such as [a, b], got a mapping`},
		{"list in list", "allowed-origins: [[a]]\n",
			`config: parley.yaml:1: allowed-origins: want a list of strings, but item 1 is a list`},
		{"two bad items", "allowed-origins:\n  - true\n  - ok\n  - 7\n", strings.Join([]string{
			`config: parley.yaml:2: allowed-origins: want a list of strings, but item 1 is the word true (quote it: "true")`,
			`config: parley.yaml:4: allowed-origins: want a list of strings, but item 3 is the number 7 (quote it: "7")`,
		}, "\n")},

		// YAML features the file does not allow.
		{"anchor and alias", "addr: &a \":1\"\nmetrics-addr: *a\n", strings.Join([]string{
			`config: parley.yaml:1: addr: YAML anchors such as &a are not supported; write the value out`,
			`config: parley.yaml:2: metrics-addr: YAML aliases such as *a are not supported; write the value out`,
		}, "\n")},
		{"tag", "addr: !!str 5\n",
			`config: parley.yaml:1: addr: YAML tags such as !!str are not supported; remove it, and quote the value to make it a string`},

		// Keys and the shape of the file.
		{"unknown key", "addr: \":1\"\ncolour: red\n",
			`config: parley.yaml:2: unknown key "colour" (see docs/CONFIG.md)`},
		{"misspelt key", "addr: \":1\"\nmax-frame-byte: 10\n",
			`config: parley.yaml:2: unknown key "max-frame-byte"; did you mean "max-frame-bytes"?`},
		{"variable name as key", "MAX_FRAME_BYTES: 10\n",
			`config: parley.yaml:1: unknown key "MAX_FRAME_BYTES"; did you mean "max-frame-bytes"?`},
		{"key only the command line can set", "confg: other.yaml\n",
			`config: parley.yaml:1: unknown key "confg" (see docs/CONFIG.md)`},
		{"config key", "config: other.yaml\n",
			`config: parley.yaml:1: config: cannot be set in the config file; use --config or PARLEY_CONFIG`},
		{"number as key", "1: x\n",
			`config: parley.yaml:1: want a setting name as key, got the number 1`},
		{"list at top", "- addr\n",
			`config: parley.yaml:1: want a mapping of setting names to values, got a list`},
		{"text at top", "addr\n",
			`config: parley.yaml:1: want a mapping of setting names to values, got the text "addr"`},
		{"second document", "addr: \":1\"\n---\naddr: \":2\"\n",
			`config: parley.yaml:2: only one YAML document is allowed, and a second one starts here`},
		{"empty second document", "addr: \":1\"\n---\n",
			`config: parley.yaml:2: only one YAML document is allowed, and a second one starts here`},
		{"third document after an empty one", "addr: \":1\"\n---\n---\nguests: true\n",
			`config: parley.yaml:2: only one YAML document is allowed, and a second one starts here`},
		// The parser drops addr here: only the markers show it is there.
		{"document after an empty one", "---\n---\naddr: \":1\"\n",
			`config: parley.yaml:2: only one YAML document is allowed, and a second one starts here`},
		{"second document and a bad value", "rate-burst: x\n---\naddr: \":2\"\n", strings.Join([]string{
			`config: parley.yaml:1: rate-burst: want an integer, got the text "x"`,
			`config: parley.yaml:2: only one YAML document is allowed, and a second one starts here`,
		}, "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeErr(t, tt.yaml); got != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestDecodeFileRepeatedKeys checks that a repeated key is reported in our
// words, once, at its second appearance, with every line it appears on,
// and that problems in each appearance are reported too.
func TestDecodeFileRepeatedKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"twice", "addr: \":1\"\naddr: \":2\"\n",
			`config: parley.yaml:2: key "addr" appears twice: lines 1 and 2; keep one`},
		{"three times", "addr: \":1\"\nguests: true\naddr: \":2\"\n# comment\naddr: \":3\"\n",
			`config: parley.yaml:3: key "addr" appears 3 times: lines 1, 3 and 5; keep one`},
		{"quoted the second time", "addr: \":1\"\n\"addr\": \":2\"\n",
			`config: parley.yaml:2: key "addr" appears twice: lines 1 and 2; keep one`},
		{"two keys repeated", "guests: true\naddr: \":1\"\nguests: false\naddr: \":2\"\n", strings.Join([]string{
			`config: parley.yaml:3: key "guests" appears twice: lines 1 and 3; keep one`,
			`config: parley.yaml:4: key "addr" appears twice: lines 2 and 4; keep one`,
		}, "\n")},
		{"repeated with a bad value", "rate-burst: 1\nrate-burst: x\n", strings.Join([]string{
			`config: parley.yaml:2: key "rate-burst" appears twice: lines 1 and 2; keep one`,
			`config: parley.yaml:2: rate-burst: want an integer, got the text "x"`,
		}, "\n")},
		{"in flow style", "{addr: \":1\", addr: \":2\"}\n",
			`config: parley.yaml:1: key "addr" appears twice on line 1; keep one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeErr(t, tt.yaml); got != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestDecodeFileSyntaxErrors checks that a YAML syntax error is reported
// as one sentence naming the file and line, followed at most by the line
// at fault, rather than the parser's own text with its source excerpt.
func TestDecodeFileSyntaxErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantFirst string // prefix of the first line
		wantMore  string // substring of the whole error, if not ""
	}{
		{"unclosed list", "addr: [\n", "config: parley.yaml:1: not valid YAML at column 7: ", "addr: ["},
		{"unclosed quote", "guests: true\naddr: \"abc\n", "config: parley.yaml:2: not valid YAML at column 7: ", `addr: "abc`},
		{"tab indentation", "\taddr: x\n", "config: parley.yaml:1: not valid YAML at column ", "tabs"},
		{"list item after mapping", "addr: x\n- y\n", "config: parley.yaml:2: not valid YAML at column 1: ", ""},
		{"two colons", "addr: a: b\n", "config: parley.yaml:1: not valid YAML at column ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeErr(t, tt.yaml)
			lines := strings.Split(got, "\n")
			if !strings.HasPrefix(lines[0], tt.wantFirst) {
				t.Errorf("first line %q does not start with %q", lines[0], tt.wantFirst)
			}
			if len(lines) > 2 || strings.Contains(got, "^") || strings.Contains(got, "[1:") || strings.Contains(got, "[2:") {
				t.Errorf("error is not one sentence and one source line:\n%s", got)
			}
			if !strings.Contains(got, tt.wantMore) {
				t.Errorf("error %q does not contain %q", got, tt.wantMore)
			}
		})
	}
}
