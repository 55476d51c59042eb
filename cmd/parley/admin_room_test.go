package main

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/api"
	"github.com/parley-chat/parley/internal/testutil/pgtest"
)

// TestAdminRoomCommandsOnLiveSQLite runs the room, ban and audit commands
// on the SQLite database of a server that is running, as an operator
// would.
func TestAdminRoomCommandsOnLiveSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildParley(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	startParley(t, bin, addr, dataDir)
	testAdminRoomCommands(t, addr, adminBin{t: t, bin: bin, storeArgs: []string{"--data-dir", dataDir}})
}

// TestAdminRoomCommandsOnLivePostgres is the same on PostgreSQL, with the
// database named by PARLEY_DATABASE_URL as a deployment would.
func TestAdminRoomCommandsOnLivePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	url := pgtest.FreshSchema(t)
	bin := buildParley(t)
	addr := freeAddr(t)
	startParleyWith(t, bin, addr, t.TempDir(), os.Stderr, "--database-url", url)
	testAdminRoomCommands(t, addr, adminBin{t: t, bin: bin, env: []string{"PARLEY_DATABASE_URL=" + url}})
}

// regexpLine reports whether a line of text matches pattern, but for
// trailing blanks.
func regexpLine(text, pattern string) bool {
	return regexp.MustCompile(`(?m)^` + pattern + ` *$`).MatchString(text)
}

// testAdminRoomCommands runs the room, ban, unban, user delete and audit
// commands on the store of the running server at addr, and checks what
// the server then says over HTTP.
func testAdminRoomCommands(t *testing.T, addr string, p adminBin) {
	const password = "correct horse battery"
	pw := []string{"PARLEY_PASSWORD=" + password}

	// Bad command lines change nothing, and say why.
	for _, bad := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"no room name", nil, []string{"room", "create"}, 2, "missing NAME"},
		{"bad room name", nil, []string{"room", "create", "no way!"}, 2, "room name may contain only letters"},
		{"conversation name", nil, []string{"room", "create", "@a+b"}, 2, "room name must start with a letter or digit"},
		{"name over the configured length", []string{"PARLEY_MAX_ROOM_NAME_LENGTH=4"}, []string{"room", "create", "toolong"}, 2, "longer than 4 characters"},
		{"long topic", nil, []string{"room", "create", "team", "--topic", strings.Repeat("t", 257)}, 2, "the topic has 257 characters"},
		{"bad owner name", nil, []string{"room", "create", "team", "--owner", "x!"}, 2, "use only letters, digits"},
		{"no such owner", nil, []string{"room", "create", "team", "--owner", "nobody"}, 1, `there is no user "nobody"`},
		{"show no room", nil, []string{"room", "show", "nowhere"}, 1, `there is no room "nowhere"`},
		{"lock no room", nil, []string{"room", "lock", "nowhere"}, 1, `there is no room "nowhere"`},
		{"unarchive no room", nil, []string{"room", "archive", "nowhere", "--undo"}, 1, `there is no room "nowhere"`},
		{"delete without --yes", nil, []string{"room", "delete", "team"}, 2, `this deletes room "team" with its whole history`},
		{"delete no room", nil, []string{"room", "delete", "nowhere", "--yes"}, 1, `there is no room "nowhere"`},
		{"list with an argument", nil, []string{"room", "list", "team"}, 2, `unexpected argument "team"`},
		{"ban no one", nil, []string{"ban", "team"}, 2, "missing USER"},
		{"ban nothing", nil, []string{"ban"}, 2, "missing ROOM and USER"},
		{"ban in no room", nil, []string{"ban", "nowhere", "bob"}, 1, `there is no room "nowhere"`},
		{"ban for a bad time", nil, []string{"ban", "team", "bob", "--for", "a week"}, 2, `--for "a week" is not a duration`},
		{"ban for too long", nil, []string{"ban", "team", "bob", "--for", "3700d"}, 2, "from 1s to 10 years"},
		{"ban with a long reason", nil, []string{"ban", "team", "bob", "--reason", strings.Repeat("r", 201)}, 2, "--reason must be at most 200 bytes"},
		{"unban in no room", nil, []string{"unban", "nowhere", "bob"}, 1, `there is no room "nowhere"`},
		{"user delete without --yes", nil, []string{"user", "delete", "bob"}, 2, `this deletes the account "bob" for good`},
		{"user delete of no one", nil, []string{"user", "delete", "nobody", "--yes"}, 1, `there is no user "nobody"`},
		{"audit of a bad action", nil, []string{"audit", "--action", "room.explode"}, 2, `--action "room.explode" is not one the audit log records; they are room.ban,`},
		{"audit of no entries", nil, []string{"audit", "--limit", "0"}, 2, "--limit must be 1 to 1000"},
	} {
		stdout, stderr, code := p.run("", bad.env, bad.args...)
		if code != bad.code || !strings.Contains(stderr, bad.stderr) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%s: parley %s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q",
				bad.name, strings.Join(bad.args, " "), code, stdout, stderr, bad.code, bad.stderr)
		}
	}
	if got := p.ok("", nil, "room", "list", "--json"); got != "{\n  \"rooms\": []\n}\n" {
		t.Fatalf("after the refused commands, room list --json = %q, want no rooms", got)
	}
	if got := p.ok("", nil, "audit", "--json"); got != "{\n  \"entries\": []\n}\n" {
		t.Fatalf("after the refused commands, audit --json = %q, want no entries", got)
	}

	// Two accounts: carol owns a room, dave is in it until banned.
	p.ok("", pw, "user", "create", "carol")
	p.ok("", pw, "user", "create", "dave")
	_, carol := signIn(t, addr, "carol", password)
	_, dave := signIn(t, addr, "dave", password)

	// A room made here is there at once for the server.
	out := p.ok("", nil, "room", "create", "Team", "--private", "--topic", " the team ", "--owner", "Carol")
	if want := "created private room team, owned by carol (" + carol.User.ID + ")\n"; out != want {
		t.Errorf("room create said %q, want %q", out, want)
	}
	if _, stderr, code := p.run("", nil, "room", "create", "TEAM"); code != 1 || stderr != "parley room create: room \"team\" already exists\n" {
		t.Errorf("a taken room name: exit %d, %q", code, stderr)
	}
	var lobby api.RoomJSON
	if err := json.Unmarshal([]byte(p.ok("", nil, "room", "create", "lobby", "--json")), &lobby); err != nil {
		t.Fatal(err)
	}
	if lobby.Name != "lobby" || lobby.Private || lobby.Owner != "" || lobby.CreatedAt == "" {
		t.Errorf("room create --json: %+v", lobby)
	}
	status, body := request(t, "GET", addr, "/api/v1/rooms/team", carol.AccessToken, "")
	if status != http.StatusOK || !strings.Contains(body, `"private":true`) || !strings.Contains(body, `"topic":"the team"`) ||
		!strings.Contains(body, `"role":"owner"`) {
		t.Fatalf("GET /rooms/team as its owner: %d %s", status, body)
	}
	if status, body := request(t, "PUT", addr, "/api/v1/rooms/team/members/"+dave.User.ID, carol.AccessToken, ""); status != http.StatusCreated {
		t.Fatalf("invite dave: %d %s", status, body)
	}
	if status, body := request(t, "GET", addr, "/api/v1/rooms/team/messages", dave.AccessToken, ""); status != http.StatusOK {
		t.Fatalf("dave reads team: %d %s", status, body)
	}

	list := p.ok("", nil, "room", "list")
	if !strings.HasPrefix(list, "NAME") || !regexpLine(list, `lobby +- +no +no +no +0`) || !regexpLine(list, `team +carol +yes +no +no +0`) {
		t.Errorf("room list:\n%s", list)
	}
	var shown roomShowJSON
	if err := json.Unmarshal([]byte(p.ok("", nil, "room", "show", "team", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, m := range shown.Members {
		roles[m.Username] = m.Role
	}
	if shown.Name != "team" || shown.Owner != carol.User.ID || len(roles) != 2 || roles["carol"] != "owner" || roles["dave"] != "member" ||
		len(shown.Bans) != 0 || len(shown.Mutes) != 0 {
		t.Errorf("room show --json: %+v", shown)
	}

	// A ban: refused for the owner and for no one; the server keeps dave
	// out from his next read.
	if _, stderr, code := p.run("", nil, "ban", "team", "carol"); code != 1 || !strings.Contains(stderr, "the owner of a room cannot be banned") {
		t.Errorf("ban of the owner: exit %d, %q", code, stderr)
	}
	if _, stderr, code := p.run("", nil, "ban", "team", "nobody"); code != 1 || !strings.Contains(stderr, `there is no user "nobody"`) {
		t.Errorf("ban of no one: exit %d, %q", code, stderr)
	}
	out = p.ok("", nil, "ban", "team", "Dave", "--reason", "spam", "--for", "7d")
	if !strings.HasPrefix(out, "banned dave ("+dave.User.ID+") from room team until ") {
		t.Errorf("ban said %q", out)
	}
	if status, body := request(t, "GET", addr, "/api/v1/rooms/team/messages", dave.AccessToken, ""); status != http.StatusForbidden {
		t.Errorf("dave reads team after the ban: %d %s", status, body)
	}
	if status, body := request(t, "GET", addr, "/api/v1/rooms/lobby/messages", dave.AccessToken, ""); status != http.StatusOK {
		t.Fatalf("dave reads the public lobby: %d %s", status, body)
	}
	p.ok("", nil, "ban", "lobby", dave.User.ID) // by id
	if status, body := request(t, "GET", addr, "/api/v1/rooms/lobby/messages", dave.AccessToken, ""); status != http.StatusForbidden ||
		!strings.Contains(body, `you are banned from room \"lobby\"`) {
		t.Errorf("dave reads the lobby after the ban: %d %s", status, body)
	}
	shown = roomShowJSON{}
	if err := json.Unmarshal([]byte(p.ok("", nil, "room", "show", "team", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if len(shown.Members) != 1 || len(shown.Bans) != 1 || shown.Bans[0].User != dave.User.ID || shown.Bans[0].Reason != "spam" ||
		shown.Bans[0].By != "system" || shown.Bans[0].ExpiresAt == "" {
		t.Errorf("room show --json after the ban: %+v", shown)
	}
	if text := p.ok("", nil, "room", "show", "team"); !regexpLine(text, `ban +dave +spam +system +\S+ \S+ +\S+ \S+`) {
		t.Errorf("room show after the ban:\n%s", text)
	}
	if out := p.ok("", nil, "unban", "team", "dave"); out != "lifted the ban of dave ("+dave.User.ID+") from room team\n" {
		t.Errorf("unban said %q", out)
	}
	if _, stderr, code := p.run("", nil, "unban", "team", "dave"); code != 1 ||
		stderr != "parley unban: dave ("+dave.User.ID+") is not banned from room \"team\"\n" {
		t.Errorf("unban of someone not banned: exit %d, %q", code, stderr)
	}
	p.ok("", nil, "unban", "lobby", dave.User.ID)

	// Lock and archive, and back; the server reads the new state.
	for _, step := range []struct{ args, want string }{
		{"room lock team", "room team is now locked"},
		{"room lock team", "room team was already locked"},
		{"room lock team --undo", "room team is no longer locked"},
		{"room lock team --undo", "room team was not locked"},
		{"room archive team", "room team is now archived"},
	} {
		if out := p.ok("", nil, strings.Fields(step.args)...); out != step.want+"\n" {
			t.Errorf("parley %s said %q, want %q", step.args, out, step.want)
		}
	}
	if status, body := request(t, "GET", addr, "/api/v1/rooms/team", carol.AccessToken, ""); status != http.StatusOK ||
		!strings.Contains(body, `"archived":true`) || !strings.Contains(body, `"locked":false`) {
		t.Errorf("GET /rooms/team after archiving: %d %s", status, body)
	}

	if status, body := request(t, "PATCH", addr, "/api/v1/rooms/team", carol.AccessToken, `{"locked":true}`); status != http.StatusOK {
		t.Fatalf("carol locks team over HTTP: %d %s", status, body)
	}

	// Deleting the room, then an account.
	if out := p.ok("", nil, "room", "delete", "team", "--yes"); out != "deleted room team and its 0 events\n" {
		t.Errorf("room delete said %q", out)
	}
	if status, _ := request(t, "GET", addr, "/api/v1/rooms/team", carol.AccessToken, ""); status != http.StatusNotFound {
		t.Errorf("GET /rooms/team after deleting it: %d, want 404", status)
	}
	if list := p.ok("", nil, "room", "list"); strings.Contains(list, "team") {
		t.Errorf("room list after the delete:\n%s", list)
	}
	out = p.ok("", nil, "user", "delete", "dave", "--yes")
	if want := "deleted user dave (" + dave.User.ID + "); 1 session ended; their messages stay, under the name they were sent with\n"; out != want {
		t.Errorf("user delete said %q, want %q", out, want)
	}
	if status, _ := signIn(t, addr, "dave", password); status != http.StatusUnauthorized {
		t.Errorf("sign-in of a deleted account: %d, want 401", status)
	}
	if _, stderr, code := p.run("", nil, "ban", "lobby", "dave"); code != 1 || !strings.Contains(stderr, `there is no user "dave"`) {
		t.Errorf("ban of a deleted account: exit %d, %q", code, stderr)
	}

	// The audit log holds all of it, newest first, as the command line's.
	var log api.AuditResponse
	if err := json.Unmarshal([]byte(p.ok("", nil, "audit", "--actor", "cli", "--json")), &log); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range slices.Backward(log.Entries) {
		actions = append(actions, en.Action+" "+en.Room)
		if en.Actor != "cli" || en.ActorName != "command line" {
			t.Errorf("audit entry by %q (%q)", en.Actor, en.ActorName)
		}
	}
	want := []string{"user.create ", "user.create ", "room.create team", "room.create lobby", "room.ban team", "room.ban lobby",
		"room.unban team", "room.unban lobby", "room.lock team", "room.unlock team", "room.archive team", "room.delete team", "user.delete "}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions, oldest first:\n%q\nwant\n%q", actions, want)
	}
	var bans api.AuditResponse
	if err := json.Unmarshal([]byte(p.ok("", nil, "audit", "--room", "TEAM", "--action", "room.ban", "--json")), &bans); err != nil {
		t.Fatal(err)
	}
	if len(bans.Entries) != 1 || bans.Entries[0].Target != dave.User.ID || bans.Entries[0].Detail["reason"] != "spam" ||
		bans.Entries[0].Detail["expires_at"] == nil {
		t.Errorf("audit --room TEAM --action room.ban: %+v", bans.Entries)
	}
	text, stderr, code := p.run("", nil, "audit", "--limit", "2")
	if code != 0 || !strings.HasPrefix(text, "ID") || strings.Count(text, "\n") != 3 || !regexpLine(text, `\S+ +\S+ \S+ +user.delete +command line +- +`+dave.User.ID+` +\{"username":"dave"\}`) {
		t.Errorf("audit --limit 2: exit %d:\n%s", code, text)
	}
	next, ok := strings.CutPrefix(strings.TrimSpace(stderr), "There may be more: parley audit --before ")
	if !ok {
		t.Fatalf("audit --limit 2 said on stderr %q", stderr)
	}
	if older := p.ok("", nil, "audit", "--before", next, "--limit", "1"); !regexpLine(older, `\S+ +\S+ \S+ +room.lock +.*`) {
		t.Errorf("audit --before %s:\n%s", next, older)
	}
	var byCarol api.AuditResponse
	if err := json.Unmarshal([]byte(p.ok("", nil, "audit", "--actor", "carol", "--json")), &byCarol); err != nil {
		t.Fatal(err)
	}
	if len(byCarol.Entries) != 1 || byCarol.Entries[0].Actor != carol.User.ID || byCarol.Entries[0].Action != "room.lock" {
		t.Errorf("audit --actor carol: %+v", byCarol.Entries)
	}
}
