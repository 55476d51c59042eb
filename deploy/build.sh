#!/bin/sh
# Builds the parley binary reproducibly: the same commit, built with the
# same Go version for the same GOOS/GOARCH, gives the same bytes wherever
# the source tree is and whoever builds it.
#
#   sh deploy/build.sh [OUTPUT]          (default ./parley)
#
# Static (CGO_ENABLED=0: the SQLite driver is pure Go), paths trimmed
# (-trimpath), Go's own VCS stamp off (-buildvcs=false: it would record the
# build time of uncommitted trees and is missing in a Docker context
# anyway), and the version and commit set with -ldflags instead, from git or
# from PARLEY_VERSION and PARLEY_COMMIT when there is no .git (Docker).
set -eu
cd "$(dirname "$0")/.."
out=${1:-parley}
version=${PARLEY_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${PARLEY_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
pkg=github.com/parley-chat/parley/server
CGO_ENABLED=0 exec go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" \
  -o "$out" ./cmd/parley
