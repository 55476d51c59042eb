package server_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/testutil"
	"github.com/parley-chat/parley/server"
)

// startupConfig is a configuration whose data directory does not exist yet,
// so a test can tell whether New created anything.
func startupConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	return cfg
}

// newServer runs server.New and returns its error and what it logged; a
// server that did start is closed.
func newServer(t *testing.T, cfg config.Config) (error, string) {
	t.Helper()
	var logs bytes.Buffer
	srv, err := server.New(context.Background(), cfg, server.Options{LogOutput: &logs})
	if err == nil {
		srv.Close()
	}
	return err, logs.String()
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists after a refused start (stat: %v)", path, err)
	}
}

// TestStartRefusesBeforeCreatingAnything: a setting that names a file or a
// directory that is not there stops the server before it creates the data
// directory, a key or a database, and the message names the path.
func TestStartRefusesBeforeCreatingAnything(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *config.Config, dir string)
		want   []string
	}{
		{
			name: "signing key in a directory that does not exist",
			mutate: func(c *config.Config, dir string) {
				c.SigningKeyFile = filepath.Join(dir, "etc-typo", "signing.key")
			},
			want: []string{"signing-key-file", "etc-typo", "does not exist"},
		},
		{
			name: "JWKS file that does not exist",
			mutate: func(c *config.Config, dir string) {
				c.JWTAlgorithm = "RS256"
				c.JWTJWKSFile = filepath.Join(dir, "idp-jwks.json")
			},
			want: []string{"jwt-jwks-file", "idp-jwks.json", "does not exist"},
		},
		{
			name: "secret file that does not exist",
			mutate: func(c *config.Config, dir string) {
				c.JWTAlgorithm = "HS256"
				c.JWTSecretFile = filepath.Join(dir, "secret.txt")
			},
			want: []string{"jwt-secret-file", "secret.txt", "does not exist"},
		},
		{
			name: "SQLite file in a directory that does not exist",
			mutate: func(c *config.Config, dir string) {
				c.DatabaseURL = "sqlite:" + filepath.Join(dir, "db-typo", "parley.db")
			},
			want: []string{"database-url", "db-typo", "does not exist"},
		},
		{
			name: "public key file that is not a key",
			mutate: func(c *config.Config, dir string) {
				c.JWTAlgorithm = "ES256"
				c.JWTPublicKeyFile = filepath.Join(dir, "public.pem")
				if err := os.WriteFile(c.JWTPublicKeyFile, []byte("not a key\n"), 0o600); err != nil {
					panic(err)
				}
			},
			want: []string{"jwt-public-key-file", "public.pem"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := startupConfig(t)
			dir := t.TempDir()
			tt.mutate(&cfg, dir)
			err, _ := newServer(t, cfg)
			if err == nil {
				t.Fatal("the server started")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			mustNotExist(t, cfg.DataDir)
			mustNotExist(t, filepath.Join(dir, "etc-typo"))
			mustNotExist(t, filepath.Join(dir, "db-typo"))
		})
	}
}

// TestGeneratedSigningKeyIsLogged: a key made on first start is announced
// with its path, so an operator sees which file the tokens depend on; the
// next start reads it and says nothing of the kind.
func TestGeneratedSigningKeyIsLogged(t *testing.T) {
	cfg := startupConfig(t)
	err, logs := newServer(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(cfg.DataDir, "signing.key")
	if !strings.Contains(logs, "generated") || !strings.Contains(logs, key) {
		t.Fatalf("no log of the generated key %s:\n%s", key, logs)
	}
	if _, err := os.Stat(key); err != nil {
		t.Fatal(err)
	}
	err, logs = newServer(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs, "generated") {
		t.Fatalf("a second start generated a key again:\n%s", logs)
	}
}

// TestUnwritableDataDirectorySaysPermissionDenied: the data directory is
// checked before SQLite is opened, and the error says what is wrong in
// words, naming the directory. /sys refuses writes even to root.
func TestUnwritableDataDirectorySaysPermissionDenied(t *testing.T) {
	const dir = "/sys/kernel"
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip(dir + " is writable here; no unwritable directory to test with")
	}
	cfg := startupConfig(t)
	cfg.DataDir = dir
	err, _ := newServer(t, cfg)
	if err == nil {
		t.Fatal("the server started on an unwritable data directory")
	}
	for _, w := range []string{"permission denied", dir} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "(14)") || strings.Contains(err.Error(), "migrate") {
		t.Errorf("error %q speaks SQLite's language", err)
	}
}

// TestStartupLineSaysWhereThingsAre: the line logged when the server starts
// serving gives the URL to open, the database file and the signing key.
func TestStartupLineSaysWhereThingsAre(t *testing.T) {
	cfg := startupConfig(t)
	var logs syncBuffer
	srv, err := server.New(context.Background(), cfg, server.Options{LogOutput: &logs})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	testutil.Eventually(t, 5*time.Second, func() bool { return strings.Contains(logs.String(), "listening") },
		"no startup line")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "listening") {
			line = l
		}
	}
	for _, want := range []string{
		"url=http://" + ln.Addr().String(),
		"database=" + filepath.Join(cfg.DataDir, "parley.db"),
		"signing_key=" + filepath.Join(cfg.DataDir, "signing.key"),
	} {
		if !strings.Contains(line, want) {
			t.Errorf("startup line lacks %q:\n%s", want, line)
		}
	}
}

// syncBuffer is a bytes.Buffer that a server's log and a test may use at
// once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
