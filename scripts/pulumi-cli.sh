#!/usr/bin/env bash
# Builds what the engine test tier runs, into the git-ignored .tools/ folder:
#   .tools/bin/pulumi                  the Pulumi CLI, from the published Go modules pinned in
#                                      tools/pulumi-cli/go.mod (go build, no download sites)
#   .tools/bin/pulumi-language-nodejs  the Node.js language host: the CLI runs the program and
#                                      starts policy packs through it (see "Language host" below)
#   .tools/pulumi-home/plugins/resource-gcp-v9.37.0
#                                      the gcp stand-in (test/engine/gcp-provider), installed with
#                                      `pulumi plugin install resource gcp 9.37.0 --file`
# Each part is skipped when its stamp says it is already built at the pinned version.
#
# Language host: its module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
# is not tagged, so it can only be fetched by commit. Set one of:
#   PULUMI_LANGHOST_COMMIT=<commit of pulumi/pulumi tag v3.274.1>   fetch it from the module proxy
#   PULUMI_LANGHOST_SRC=<pulumi/pulumi checkout or git dir>         build it from that source
# In both cases pkg/v3 and sdk/v3 are pinned to the CLI's published version by module-to-module
# replace lines. Once built, neither is needed again.
#
# Environment: GOPROXY etc. as usual; PULUMI_CLI_NICE (default 10) is the build's nice level.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
BUILD="$TOOLS/build"
export PULUMI_HOME="$TOOLS/pulumi-home"
WRAPPER="$ROOT/tools/pulumi-cli"
LANGHOST_MODULE="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
LANGHOST_DIR="sdk/nodejs/cmd/pulumi-language-nodejs"
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
    say "building pulumi $PULUMI_VERSION with $GO_VERSION (cold: about 15 min on 2 cores; cached afterwards)"
    started=$SECONDS
    (cd "$WRAPPER" && $NICE go build -ldflags "-X $VERSION_PKG=$PULUMI_VERSION" -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) \
        || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION failed (output above)"
    echo "$CLI_STAMP" > "$BIN/pulumi.stamp"
    say "built pulumi $PULUMI_VERSION in $((SECONDS - started)) s"
fi

# --- the Node.js language host -----------------------------------------------------------------
# A wrapper module in .tools/build/langhost: the language host's own go.mod replaces pkg and sdk
# with relative paths, which are ignored in a dependency, so the wrapper pins them here.
write_langhost_wrapper() { # $1: require line for the language host, $2: extra replace line
    local dir="$BUILD/langhost"
    rm -rf "$dir" && mkdir -p "$dir"
    cat > "$dir/go.mod" <<EOF
module example.invalid/websocket-lb/tools/pulumi-language-nodejs

go 1.26

require $1

replace (
	github.com/pulumi/pulumi/pkg/v3 => github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 => github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
	github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
	$2
)
EOF
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$LANGHOST_MODULE" > "$dir/tools.go"
    echo "$dir"
}

LANGHOST_SOURCE=""
if [ -n "${PULUMI_LANGHOST_COMMIT:-}" ]; then
    LANGHOST_SOURCE="proxy:$PULUMI_LANGHOST_COMMIT"
elif [ -n "${PULUMI_LANGHOST_SRC:-}" ]; then
    if [ -f "$PULUMI_LANGHOST_SRC/$LANGHOST_DIR/main.go" ]; then
        LANGHOST_SOURCE="src:$(git -C "$PULUMI_LANGHOST_SRC" rev-parse HEAD 2>/dev/null || echo "$PULUMI_LANGHOST_SRC")"
    else
        LANGHOST_SOURCE="src:$(git -C "$PULUMI_LANGHOST_SRC" rev-parse HEAD 2>/dev/null)" \
            || die "PULUMI_LANGHOST_SRC=$PULUMI_LANGHOST_SRC is neither a pulumi/pulumi checkout nor a git dir"
    fi
fi
LANGHOST_STAMP="pulumi-language-nodejs $LANGHOST_SOURCE pkg+sdk $PULUMI_VERSION $GO_VERSION"

if [ -x "$BIN/pulumi-language-nodejs" ] && [ -f "$BIN/pulumi-language-nodejs.stamp" ] \
    && { [ -z "$LANGHOST_SOURCE" ] || stamp_ok "$BIN/pulumi-language-nodejs" "$LANGHOST_STAMP"; }; then
    say "pulumi-language-nodejs already built ($(cat "$BIN/pulumi-language-nodejs.stamp"))"
elif [ -z "$LANGHOST_SOURCE" ]; then
    die "pulumi-language-nodejs is missing: its module $LANGHOST_MODULE is untagged; set PULUMI_LANGHOST_COMMIT (commit of pulumi/pulumi tag $PULUMI_VERSION) or PULUMI_LANGHOST_SRC (a pulumi/pulumi checkout)"
else
    started=$SECONDS
    if [ "${LANGHOST_SOURCE%%:*}" = proxy ]; then
        out="$(cd "$BUILD" && go list -m -json "$LANGHOST_MODULE@$PULUMI_LANGHOST_COMMIT" 2>&1)" \
            || die "the module proxy refused $LANGHOST_MODULE@$PULUMI_LANGHOST_COMMIT: $(echo "$out" | grep -v '^go: downloading' | tr '\n' ' ')"
        pseudo="$(echo "$out" | awk -F'"' '$2 == "Version" { print $4; exit }')"
        dir="$(write_langhost_wrapper "$LANGHOST_MODULE $pseudo" "")"
        say "building pulumi-language-nodejs $pseudo from the module proxy"
    else
        # Only the language host's folder is taken from the checkout, without tests and test data.
        src="$BUILD/langhost-src"
        rm -rf "$src" && mkdir -p "$src"
        if [ -f "$PULUMI_LANGHOST_SRC/$LANGHOST_DIR/main.go" ]; then
            cp "$PULUMI_LANGHOST_SRC/$LANGHOST_DIR"/*.go "$PULUMI_LANGHOST_SRC/$LANGHOST_DIR/go.mod" "$src/"
        else
            git -C "$PULUMI_LANGHOST_SRC" archive HEAD "$LANGHOST_DIR" 2>/dev/null | tar -x -C "$src" --strip-components=4 \
                || die "cannot read $LANGHOST_DIR from the git dir $PULUMI_LANGHOST_SRC"
        fi
        rm -f "$src"/*_test.go
        # A checkout older than the CLI's sdk lacks forwarders for monitor calls added since; the
        # proxy forwards every ResourceMonitor call to the engine, so add the same forwarder.
        if ! grep -q 'ExistsResource' "$src"/proxy.go; then
            say "adding the ResourceMonitor.ExistsResource forwarder that sdk $PULUMI_VERSION requires (absent from this checkout)"
            cat > "$src/zz_exists_resource.go" <<'EOF_GO'
package main

import (
	"context"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Written by scripts/pulumi-cli.sh: forwards ExistsResource to the engine's monitor.
func (p *monitorProxy) ExistsResource(
	ctx context.Context, req *pulumirpc.ExistsResourceRequest,
) (*pulumirpc.ExistsResourceResponse, error) {
	return p.target.ExistsResource(ctx, req)
}
EOF_GO
        fi
        (cd "$src" && go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3)
        dir="$(write_langhost_wrapper "$LANGHOST_MODULE v3.0.0-00010101000000-000000000000" "$LANGHOST_MODULE => ../langhost-src")"
        say "building pulumi-language-nodejs from ${LANGHOST_SOURCE#src:} (source of $PULUMI_LANGHOST_SRC) against pkg+sdk $PULUMI_VERSION"
    fi
    (cd "$dir" && go mod tidy >/dev/null 2>"$BUILD/langhost-tidy.log") \
        || die "go mod tidy for the language host failed: $(grep -v '^go: downloading' "$BUILD/langhost-tidy.log" | head -n 1)"
    (cd "$dir" && $NICE go build -ldflags "-X $VERSION_PKG=$PULUMI_VERSION" -o "$BIN/pulumi-language-nodejs" "$LANGHOST_MODULE") \
        || die "go build of $LANGHOST_MODULE ($LANGHOST_SOURCE) against pkg+sdk $PULUMI_VERSION failed (output above)"
    echo "$LANGHOST_STAMP" > "$BIN/pulumi-language-nodejs.stamp"
    say "built pulumi-language-nodejs in $((SECONDS - started)) s"
fi

# --- the gcp stand-in, installed as resource plugin gcp 9.37.0 ----------------------------------
NODE_BIN="$ROOT/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || die "the project's Node 22 is missing ($NODE_BIN): run npm ci first"
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
