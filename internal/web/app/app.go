package app

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed ui
var ui embed.FS

// versionMark is replaced, in index.html, by the version of the assets,
// so that the page names asset URLs that change whenever any asset does.
const versionMark = "%VERSION%"

// AssetPrefix is the path under which the app's assets are served, followed
// by their version: /app/<version>/js/main.js.
const AssetPrefix = "/app/"

// App serves the web app: the page at "/" and its assets. Create it with
// New; it is safe for concurrent use and holds everything in memory (the
// whole app is a few tens of kilobytes).
type App struct {
	version string
	index   *file
	assets  map[string]*file // by path below ui/, such as "js/main.js"
}

// file is one response body with its validators.
type file struct {
	data        []byte
	contentType string
	etag        string
}

// New reads the embedded app. It fails only if the embedded files are
// broken, which the package's tests rule out.
func New() (*App, error) {
	a := &App{assets: map[string]*file{}}
	var names []string
	err := fs.WalkDir(ui, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, strings.TrimPrefix(p, "ui/"))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("app: list embedded files: %w", err)
	}
	sort.Strings(names)
	// The version is a hash of every asset, names included: any change to
	// any file gives every asset a new URL, so a browser never mixes
	// modules of two releases, and assets can be cached for good.
	all := sha256.New()
	for _, name := range names {
		data, err := ui.ReadFile("ui/" + name)
		if err != nil {
			return nil, fmt.Errorf("app: read %s: %w", name, err)
		}
		if name == "index.html" {
			continue
		}
		fmt.Fprintf(all, "%s\x00%d\x00", name, len(data))
		all.Write(data)
		a.assets[name] = newFile(data, contentType(name))
	}
	a.version = hex.EncodeToString(all.Sum(nil)[:8])
	page, err := ui.ReadFile("ui/index.html")
	if err != nil {
		return nil, fmt.Errorf("app: read index.html: %w", err)
	}
	if !bytes.Contains(page, []byte(versionMark)) {
		return nil, fmt.Errorf("app: index.html names no versioned asset (%s)", versionMark)
	}
	a.index = newFile(bytes.ReplaceAll(page, []byte(versionMark), []byte(a.version)), "text/html; charset=utf-8")
	return a, nil
}

func newFile(data []byte, contentType string) *file {
	sum := sha256.Sum256(data)
	return &file{data: data, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".webmanifest":
		return "application/manifest+json"
	}
	return "application/octet-stream"
}

// Version is the hash that names this build's assets in their URLs.
func (a *App) Version() string { return a.version }

// Register mounts the page on "GET /{$}" (exactly "/": any other unknown
// path stays a 404) and the assets under AssetPrefix.
func (a *App) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", a.serveIndex)
	mux.HandleFunc("GET "+AssetPrefix+"{version}/{path...}", a.serveAsset)
}

// serveIndex sends the page. It is revalidated on every load
// (no-cache, ETag), so an upgraded server is seen at the next reload, and
// its asset URLs then carry the new version.
func (a *App) serveIndex(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header(), r.Host)
	a.index.serve(w, r, "no-cache")
}

// serveAsset sends one asset of the current version. Their URLs change with
// their content, so browsers may keep them for a year without asking; an
// old version's URL is a 404, which only a page loaded before an upgrade
// could ask for, and a reload fixes.
func (a *App) serveAsset(w http.ResponseWriter, r *http.Request) {
	f, ok := a.assets[r.PathValue("path")]
	if !ok || r.PathValue("version") != a.version {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w.Header(), r.Host)
	f.serve(w, r, "public, max-age=31536000, immutable")
}

func (f *file) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", f.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(f.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(f.data)
	}
}

// etagMatches reports whether an If-None-Match list names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
