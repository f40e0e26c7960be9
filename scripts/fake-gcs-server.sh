#!/usr/bin/env bash
# Builds fake-gcs-server (github.com/fsouza/fake-gcs-server, pinned in tools/fake-gcs-server/go.mod),
# the Cloud Storage emulator the load job's tests point @google-cloud/storage at, into the
# git-ignored .tools/bin/fake-gcs-server. Skipped when its stamp says it is built at the pinned
# version; a cold build takes a minute or two on 2 cores, from the Go module proxy.
#
# Environment: GOPROXY etc. as usual; FAKE_GCS_NICE (default 10) is the build's nice level.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
MODULE_DIR="$ROOT/tools/fake-gcs-server"
OUT="$BIN/fake-gcs-server"

say() { echo "fake-gcs-server.sh: $*" >&2; }
die() { say "$*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not installed or not on PATH; fake-gcs-server is built from its Go module"
VERSION="$(awk '{ if ($1 == "require") $1 = ""; $0 = $0 } $1 == "github.com/fsouza/fake-gcs-server" && $2 ~ /^v/ { print $2; exit }' "$MODULE_DIR/go.mod")"
[ -n "$VERSION" ] || die "tools/fake-gcs-server/go.mod does not require github.com/fsouza/fake-gcs-server"
STAMP="fake-gcs-server $VERSION $(go env GOVERSION) $(sha256sum "$MODULE_DIR/go.sum" | cut -c1-16)"
if [ -x "$OUT" ] && [ -f "$OUT.stamp" ] && [ "$(cat "$OUT.stamp")" = "$STAMP" ]; then
    say "fake-gcs-server $VERSION already built ($OUT)"
    exit 0
fi
mkdir -p "$BIN"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
if ! out="$(cd "$MODULE_DIR" && go mod download "github.com/fsouza/fake-gcs-server@$VERSION" 2>&1)"; then
    die "cannot fetch github.com/fsouza/fake-gcs-server@$VERSION from the Go module proxy (GOPROXY=$(go env GOPROXY)): $(echo "$out" | head -n 1)"
fi
say "building fake-gcs-server $VERSION (cold: a minute or two on 2 cores; cached afterwards)"
started=$SECONDS
# A concurrent build (two test runs at once) writes its own file; the rename is atomic.
(cd "$MODULE_DIR" && nice -n "${FAKE_GCS_NICE:-10}" go build -o "$OUT.$$" github.com/fsouza/fake-gcs-server) \
    || die "go build of github.com/fsouza/fake-gcs-server@$VERSION failed (output above)"
mv -f "$OUT.$$" "$OUT"
echo "$STAMP" > "$OUT.stamp"
say "built fake-gcs-server $VERSION in $((SECONDS - started)) s"
