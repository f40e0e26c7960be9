#!/usr/bin/env bash
# Builds what the engine test tier runs, into the git-ignored .tools/ folder:
#   .tools/bin/pulumi                  the Pulumi CLI, from the published Go modules pinned in
#                                      tools/pulumi-cli/go.mod (go build, no download sites)
#   .tools/bin/pulumi-language-nodejs  the Node.js language host: the CLI runs the program and
#                                      starts policy packs through it. Pulumi's own host cannot be
#                                      built here: the module proxy refuses its module
#                                      (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3,
#                                      "403 Forbidden: This module version is not available" for
#                                      every version query), so this installs a launcher for ours,
#                                      tools/pulumi-language-nodejs/main.ts, which runs programs and
#                                      packs through @pulumi/pulumi's own cmd/run entry points.
#   .tools/bin/pulumi-language-yaml    Pulumi YAML's language host, from github.com/pulumi/pulumi-yaml
#                                      (cmd/pulumi-language-yaml) pinned in tools/pulumi-language-yaml/go.mod;
#                                      the engine tier's YAML program consumes the component package
#   .tools/pulumi-home/plugins/resource-gcp-v9.37.0
#                                      the gcp stand-in (test/engine/gcp-provider), installed with
#                                      `pulumi plugin install resource gcp 9.37.0 --file`
# Each part is skipped when its stamp says it is already built at the pinned version.
#
# Environment: GOPROXY etc. as usual; PULUMI_CLI_NICE (default 10) is the build's nice level.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
BUILD="$TOOLS/build"
export PULUMI_HOME="$TOOLS/pulumi-home"
WRAPPER="$ROOT/tools/pulumi-cli"
GCP_VERSION="9.37.0"
NICE="nice -n ${PULUMI_CLI_NICE:-10}"
# Release builds stamp their version this way; without it `pulumi version` is empty.
VERSION_PKG="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

say() { echo "pulumi-cli.sh: $*" >&2; }
die() { say "$*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not installed or not on PATH; the Pulumi CLI is built from Go modules (Go 1.26 or later)"
PULUMI_VERSION="$(awk '{ if ($1 == "require") $1 = ""; $0 = $0 } $1 == "github.com/pulumi/pulumi/pkg/v3" && $2 ~ /^v/ { print $2; exit }' "$WRAPPER/go.mod")"
[ -n "$PULUMI_VERSION" ] || die "tools/pulumi-cli/go.mod does not require github.com/pulumi/pulumi/pkg/v3"
GO_VERSION="$(go env GOVERSION)"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "$BIN" "$BUILD" "$PULUMI_HOME"

stamp_ok() { [ -x "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

# Fails with one line when the module proxy cannot serve a module (cached modules need no network).
fetch_or_die() {
    local out
    if ! out="$(cd "$1" && go mod download "${@:2}" 2>&1)"; then
        die "cannot fetch ${*:2} from the Go module proxy (GOPROXY=$(go env GOPROXY)): $(echo "$out" | grep -v '^go: downloading' | head -n 1)"
    fi
}

# --- the CLI -----------------------------------------------------------------------------------
CLI_STAMP="pulumi $PULUMI_VERSION $GO_VERSION ldflags-version"
if stamp_ok "$BIN/pulumi" "$CLI_STAMP"; then
    say "pulumi $PULUMI_VERSION already built ($BIN/pulumi)"
else
    fetch_or_die "$WRAPPER" "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
    say "building pulumi $PULUMI_VERSION with $GO_VERSION (cold: about 6 min on 2 cores, measured 5 to 6 min; cached afterwards)"
    started=$SECONDS
    (cd "$WRAPPER" && $NICE go build -ldflags "-X $VERSION_PKG=$PULUMI_VERSION" -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) \
        || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION failed (output above)"
    echo "$CLI_STAMP" > "$BIN/pulumi.stamp"
    say "built pulumi $PULUMI_VERSION in $((SECONDS - started)) s"
fi

# --- the Node.js language host (ours; see the header) --------------------------------------------
NODE_BIN="$ROOT/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || die "the project's Node 22 is missing ($NODE_BIN): run npm ci first"
# The CLI looks for pulumi-language-nodejs beside itself; a launcher is all it needs.
cat > "$BIN/pulumi-language-nodejs.new" <<EOF
#!/bin/sh
# The project's Node.js language host for the Pulumi CLI (tools/pulumi-language-nodejs/main.ts).
# Written by scripts/pulumi-cli.sh; runs with the project's Node 22.
TS_NODE_PROJECT="$ROOT/tsconfig.json" exec "$NODE_BIN" -r "$ROOT/node_modules/ts-node/register/transpile-only" "$ROOT/tools/pulumi-language-nodejs/main.ts" "\$@"
EOF
chmod +x "$BIN/pulumi-language-nodejs.new"
mv -f "$BIN/pulumi-language-nodejs.new" "$BIN/pulumi-language-nodejs"
echo "pulumi-language-nodejs tools/pulumi-language-nodejs" > "$BIN/pulumi-language-nodejs.stamp"
say "installed the language host launcher ($BIN/pulumi-language-nodejs)"

# --- Pulumi YAML's language host ----------------------------------------------------------------
YAML_WRAPPER="$ROOT/tools/pulumi-language-yaml"
YAML_VERSION="$(awk '{ if ($1 == "require") $1 = ""; $0 = $0 } $1 == "github.com/pulumi/pulumi-yaml" && $2 ~ /^v/ { print $2; exit }' "$YAML_WRAPPER/go.mod")"
[ -n "$YAML_VERSION" ] || die "tools/pulumi-language-yaml/go.mod does not require github.com/pulumi/pulumi-yaml"
YAML_STAMP="pulumi-language-yaml $YAML_VERSION $GO_VERSION $(sha256sum "$YAML_WRAPPER/go.sum" | cut -c1-16)"
if stamp_ok "$BIN/pulumi-language-yaml" "$YAML_STAMP"; then
    say "pulumi-language-yaml $YAML_VERSION already built ($BIN/pulumi-language-yaml)"
else
    fetch_or_die "$YAML_WRAPPER" "github.com/pulumi/pulumi-yaml@$YAML_VERSION"
    say "building pulumi-language-yaml $YAML_VERSION with $GO_VERSION (cold: a few minutes on 2 cores; cached afterwards)"
    started=$SECONDS
    (cd "$YAML_WRAPPER" && $NICE go build -o "$BIN/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml) \
        || die "go build of github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION failed (output above)"
    echo "$YAML_STAMP" > "$BIN/pulumi-language-yaml.stamp"
    say "built pulumi-language-yaml $YAML_VERSION in $((SECONDS - started)) s"
fi

# --- the gcp stand-in, installed as resource plugin gcp 9.37.0 ----------------------------------
PLUGIN_SRC="$BUILD/gcp-standin"
rm -rf "$PLUGIN_SRC" && mkdir -p "$PLUGIN_SRC"
cat > "$PLUGIN_SRC/pulumi-resource-gcp" <<EOF
#!/bin/sh
# gcp stand-in: a test double for Google's gcp provider, for the engine tests only.
# Built by scripts/pulumi-cli.sh; runs test/engine/gcp-provider with the project's Node 22.
TS_NODE_PROJECT="$ROOT/tsconfig.json" exec "$NODE_BIN" -r "$ROOT/node_modules/ts-node/register/transpile-only" "$ROOT/test/engine/gcp-provider/index.ts" "\$@"
EOF
chmod +x "$PLUGIN_SRC/pulumi-resource-gcp"
PLUGIN_STAMP="gcp $GCP_VERSION $(sha256sum "$PLUGIN_SRC/pulumi-resource-gcp" | cut -c1-16) pulumi $PULUMI_VERSION"
PLUGIN_DIR="$PULUMI_HOME/plugins/resource-gcp-v$GCP_VERSION"
if [ -x "$PLUGIN_DIR/pulumi-resource-gcp" ] && [ "$(cat "$PULUMI_HOME/gcp-standin.stamp" 2>/dev/null)" = "$PLUGIN_STAMP" ]; then
    say "gcp stand-in already installed as resource plugin gcp $GCP_VERSION ($PLUGIN_DIR)"
else
    tar -czf "$BUILD/gcp-standin-$GCP_VERSION.tgz" -C "$PLUGIN_SRC" pulumi-resource-gcp
    PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" plugin install resource gcp "$GCP_VERSION" --file "$BUILD/gcp-standin-$GCP_VERSION.tgz" --reinstall \
        || die "pulumi plugin install resource gcp $GCP_VERSION --file $BUILD/gcp-standin-$GCP_VERSION.tgz failed (output above)"
    echo "$PLUGIN_STAMP" > "$PULUMI_HOME/gcp-standin.stamp"
    say "installed the gcp stand-in as resource plugin gcp $GCP_VERSION into $PULUMI_HOME"
fi
say "ready: $BIN/pulumi ($("$BIN/pulumi" version 2>/dev/null)), PULUMI_HOME=$PULUMI_HOME"
