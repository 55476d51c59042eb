package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// adminBin runs the built binary's commands against one server's store:
// storeArgs and env say where the store is, as an operator would.
type adminBin struct {
	t         *testing.T
	bin       string
	storeArgs []string // flags after the command, such as --data-dir DIR
	env       []string // extra environment, such as PARLEY_DATABASE_URL
}

// run runs parley with args, then the store flags, with stdin on standard
// input and extra variables in its environment, and returns what it wrote
// and its exit status.
func (a adminBin) run(stdin string, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	a.t.Helper()
	cmd := exec.Command(a.bin, append(args, a.storeArgs...)...)
	cmd.Env = append(append(cleanEnv(), a.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		a.t.Fatalf("run parley %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its standard output.
func (a adminBin) ok(stdin string, extraEnv []string, args ...string) string {
	a.t.Helper()
	stdout, stderr, code := a.run(stdin, extraEnv, args...)
	if code != 0 {
		a.t.Fatalf("parley %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// cleanEnv is this process's environment without the PARLEY_* variables
// a developer may have set, which would change what the commands do.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") || strings.HasPrefix(kv, "PARLEY_TEST_") {
			env = append(env, kv)
		}
	}
	return env
}

// request sends a JSON request to the server at addr and returns the status
// and the body.
func request(t *testing.T, method, addr, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signIn signs in over HTTP and returns the token response.
func signIn(t *testing.T, addr, username, password string) (status int, tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID    string `json:"id"`
		Admin bool   `json:"admin"`
	} `json:"user"`
}) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	status, resp := request(t, "POST", addr, "/api/v1/auth/login", "", string(body))
	if status == http.StatusOK {
		if err := json.Unmarshal([]byte(resp), &tokens); err != nil {
			t.Fatalf("login answer %s: %v", resp, err)
		}
	}
	return status, tokens
}

// TestAdminCommandsOnLiveSQLite runs the admin commands on the SQLite
// database of a server that is running, as an operator would.
func TestAdminCommandsOnLiveSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	startParley(t, bin, addr, dataDir)
	testAdminCommands(t, addr, adminBin{t: t, bin: bin, storeArgs: []string{"--data-dir", dataDir}})
}

// TestAdminCommandsOnLivePostgres is the same on PostgreSQL, with the
// database named by PARLEY_DATABASE_URL as a deployment would.
func TestAdminCommandsOnLivePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	url := pgtest.FreshSchema(t)
	bin := buildParley(t)
	addr := freeAddr(t)
	startParleyWith(t, bin, addr, t.TempDir(), os.Stderr, "--database-url", url)
	testAdminCommands(t, addr, adminBin{t: t, bin: bin, env: []string{"PARLEY_DATABASE_URL=" + url}})
}

func testAdminCommands(t *testing.T, addr string, p adminBin) {
	const password, newPassword = "correct horse battery", "staple battery horse"

	// Bad command lines change nothing, and say why.
	for _, bad := range []struct {
		name   string
		stdin  string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"no username", password, nil, []string{"user", "create"}, 2, "missing USERNAME"},
		{"bad username", password, nil, []string{"user", "create", "x!"}, 2, "use only letters, digits"},
		{"short password", "short\n", nil, []string{"user", "create", "alice"}, 2, "at least 8"},
		{"no password", "", nil, []string{"user", "create", "alice"}, 2, "no password: set PARLEY_PASSWORD"},
		{"empty display name", password, nil, []string{"user", "create", "alice", "--display-name", " "}, 2, "display name must be 1 to 64"},
		{"password flag", "", nil, []string{"user", "create", "alice", "--password", password}, 2, "unknown flag: --password"},
		{"no such user", "", nil, []string{"user", "show", "nobody"}, 1, `there is no user "nobody"`},
		{"set-admin of no one", "", nil, []string{"user", "set-admin", "nobody"}, 1, `there is no user "nobody"`},
		{"reset of no one", "", []string{"PARLEY_PASSWORD=" + newPassword}, []string{"user", "reset-password", "nobody"}, 1, `there is no user "nobody"`},
		{"no scopes", "", nil, []string{"apikey", "create", "--name", "ci"}, 2, "--scopes is required"},
		{"bad scope", "", nil, []string{"apikey", "create", "--name", "ci", "--scopes", "everything"}, 2, `"everything" is not a scope`},
		{"blank key name", "", nil, []string{"apikey", "create", "--name", " ", "--scopes", "rooms"}, 2, "name must be 1 to 64"},
		{"revoke no key", "", nil, []string{"apikey", "revoke", "0123456789abcdef0123"}, 1, `there is no API key "0123456789abcdef0123"`},
		{"unknown subcommand", "", nil, []string{"user", "remove", "alice"}, 2, `unknown command "remove"`},
		{"disable no one", "", nil, []string{"user", "disable"}, 2, "missing USERNAME"},
	} {
		stdout, stderr, code := p.run(bad.stdin, bad.env, bad.args...)
		if code != bad.code || !strings.Contains(stderr, bad.stderr) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%s: parley %s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q",
				bad.name, strings.Join(bad.args, " "), code, stdout, stderr, bad.code, bad.stderr)
		}
	}
	if got := p.ok("", nil, "user", "list", "--json"); got != "{\n  \"users\": []\n}\n" {
		t.Fatalf("after the refused commands, user list --json = %q, want no users", got)
	}
	if got := p.ok("", nil, "apikey", "list", "--json"); got != "{\n  \"keys\": []\n}\n" {
		t.Fatalf("after the refused commands, apikey list --json = %q, want no keys", got)
	}

	// The first administrator, made while the server runs, signs in as one.
	out := p.ok(password+"\n", nil, "user", "create", "--admin", "Alice", "--display-name", "Alice A.")
	if !strings.HasPrefix(out, "created user alice (u_") || !strings.Contains(out, "an administrator") {
		t.Fatalf("user create said %q", out)
	}
	status, first := signIn(t, addr, "alice", password)
	if status != http.StatusOK || !first.User.Admin {
		t.Fatalf("sign-in as the new administrator: %d, admin %v", status, first.User.Admin)
	}
	if _, stderr, code := p.run(password, nil, "user", "create", "ALICE"); code != 1 || !strings.Contains(stderr, `the username "ALICE" is taken`) {
		t.Errorf("a taken name: exit %d, %q", code, stderr)
	}
	if _, stderr, code := p.run(password, nil, "user", "create", "\u0430lice"); code != 1 ||
		!strings.Contains(stderr, `looks too much like the existing username "alice"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("a look-alike name: exit %d, %q", code, stderr)
	}
	list := p.ok("", nil, "user", "list")
	if !strings.Contains(list, "ID") || !strings.Contains(list, first.User.ID) || !strings.Contains(list, "Alice A.") {
		t.Errorf("user list:\n%s", list)
	}

	// An API key made on the command line works on the running server.
	var key struct{ ID, Key string }
	if err := json.Unmarshal([]byte(p.ok("", nil, "apikey", "create", "--name", "ci", "--scopes", "admin", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key.Key, "pk_"+key.ID+"_") {
		t.Fatalf("apikey create --json: key %q, id %q", key.Key, key.ID)
	}
	status, body := request(t, "GET", addr, "/api/v1/admin/keys", key.Key, "")
	if status != http.StatusOK || !strings.Contains(body, `"id":"`+key.ID+`"`) || strings.Contains(body, key.Key) {
		t.Fatalf("GET /admin/keys with the new key: %d %s", status, body)
	}
	if list := p.ok("", nil, "apikey", "list"); !strings.Contains(list, key.ID) || !strings.Contains(list, "admin") {
		t.Errorf("apikey list:\n%s", list)
	}
	if out := p.ok("", nil, "apikey", "revoke", key.ID); out != "revoked API key "+key.ID+" (ci)\n" {
		t.Errorf("apikey revoke said %q", out)
	}
	if status, body := request(t, "GET", addr, "/api/v1/admin/keys", key.Key, ""); status != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
		t.Fatalf("GET /admin/keys with the revoked key: %d %s", status, body)
	}

	// A new password: the old one is refused and every session ends.
	out = p.ok("", []string{"PARLEY_PASSWORD=" + newPassword}, "user", "reset-password", "alice")
	if !strings.Contains(out, "1 session signed out") {
		t.Errorf("reset-password said %q", out)
	}
	if status, _ := signIn(t, addr, "alice", password); status != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d, want 401", status)
	}
	if status, _ := request(t, "GET", addr, "/api/v1/me", first.AccessToken, ""); status != http.StatusUnauthorized {
		t.Errorf("the old session's access token: %d, want 401", status)
	}
	if status, _ := request(t, "POST", addr, "/api/v1/auth/refresh", "", `{"refresh_token":"`+first.RefreshToken+`"}`); status != http.StatusUnauthorized {
		t.Errorf("the old session's refresh token: %d, want 401", status)
	}
	status, second := signIn(t, addr, "alice", newPassword)
	if status != http.StatusOK || !second.User.Admin {
		t.Fatalf("sign-in with the new password: %d, admin %v", status, second.User.Admin)
	}

	// Taking the flag away shows at the next sign-in.
	if out := p.ok("", nil, "user", "set-admin", "alice", "--off"); !strings.Contains(out, "is no longer an administrator") {
		t.Errorf("set-admin --off said %q", out)
	}
	if _, third := signIn(t, addr, "alice", newPassword); third.User.Admin {
		t.Error("still an administrator after set-admin --off")
	}
	var shown userJSON
	if err := json.Unmarshal([]byte(p.ok("", nil, "user", "show", "alice", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.ID != first.User.ID || shown.Username != "alice" || shown.Name != "Alice A." || shown.Admin || shown.CreatedAt == "" {
		t.Errorf("user show --json: %+v", shown)
	}

	// A disabled account cannot sign in, and its sessions end, until it is
	// enabled again.
	_, fourth := signIn(t, addr, "alice", newPassword)
	if out := p.ok("", nil, "user", "disable", "alice"); !strings.Contains(out, "is disabled") || !strings.Contains(out, "sessions ended") {
		t.Errorf("user disable said %q", out)
	}
	if status, _ := signIn(t, addr, "alice", newPassword); status != http.StatusForbidden {
		t.Errorf("sign-in of a disabled account: %d, want 403", status)
	}
	if status, _ := request(t, "GET", addr, "/api/v1/me", fourth.AccessToken, ""); status != http.StatusUnauthorized {
		t.Errorf("a disabled account's token: %d, want 401", status)
	}
	if list := p.ok("", nil, "user", "list"); !strings.Contains(list, "DISABLED") || !strings.Contains(list, "yes") {
		t.Errorf("user list of a disabled account:\n%s", list)
	}
	if out := p.ok("", nil, "user", "enable", "alice"); !strings.Contains(out, "may sign in again") {
		t.Errorf("user enable said %q", out)
	}
	if status, _ := signIn(t, addr, "alice", newPassword); status != http.StatusOK {
		t.Errorf("sign-in after enabling: %d, want 200", status)
	}
	if _, stderr, code := p.run("", nil, "user", "disable", "nobody"); code != 1 || !strings.Contains(stderr, `there is no user "nobody"`) {
		t.Errorf("disable of no one: exit %d, %q", code, stderr)
	}
}

// TestAdminRefusesMissingDatabase: a mistyped --data-dir is an error, not
// a new empty database.
func TestAdminRefusesMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runIn([]string{"PARLEY_PASSWORD=correct horse"}, "user", "create", "alice", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "there is no Parley database at "+filepath.Join(dir, "parley.db")) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the command left %d files in the data directory", len(entries))
	}
}

// TestAdminRefusesNewerSchema: a database migrated by a newer Parley is
// left alone, and the message says so plainly.
func TestAdminRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, stderr, code := runIn(nil, "user", "list", "--data-dir", dir)
	if code != 1 || !strings.Contains(stderr, "parley user list: the database "+path+" was migrated by a newer Parley than this one") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
