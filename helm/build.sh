#!/usr/bin/env bash
# Builds Helm (the helm.sh/helm/v4 Go module, pinned in go.mod here) for `ork e2e`'s
# `setup.helm` entries, static (CGO_ENABLED=0), into a cache outside the repository beside the
# control plane's, keyed by version. A second run with the binary present returns at once.
# Modelled on control-plane/build.sh, whose progress reporting it shares.
#
# Usage: helm/build.sh [--print-dir] [--force]
#   ORK_HELM_DIR  output directory for the binary
#                 (default ${XDG_CACHE_HOME:-~/.cache}/ork/helm/<version>/bin)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELM_VERSION=$(sed -n 's|^require helm.sh/helm/v4 \(v[0-9.]*\)$|\1|p; s|^[[:space:]]*helm.sh/helm/v4 \(v[0-9.]*\)$|\1|p' "$here/go.mod" | head -1)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/ork/helm
out=${ORK_HELM_DIR:-$cache_root/$HELM_VERSION/bin}

force=0
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$out"; exit 0 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '[helm] %s\n' "$*" >&2; }
# shellcheck source=../control-plane/progress.sh
. "$here/../control-plane/progress.sh"
package_line='^[[:alnum:]._~/-]+$'
fetch_line='^# get .*: 200 OK'

if [ "$force" = 0 ] && [ -x "$out/helm" ]; then
  step "helm present in $out"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  step "error: the Go toolchain is not on PATH; Helm $HELM_VERSION is built from its Go module (Go >= 1.26)"
  exit 1
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

mkdir -p "$out"
start=$(date +%s)
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$here"
step "1/3 downloading modules for Helm $HELM_VERSION"
with_progress "downloading" "modules fetched" "$fetch_line" go mod download -x
step "2/3 compiling helm (a few minutes cold on 2 cores)"
ld="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
with_progress "helm" "packages built" "$package_line" \
  go build -v -trimpath -ldflags "$ld" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm
step "3/3 installing into $out"
mv -f "$tmp/helm" "$out/helm"
"$out/helm" version --short >&2
step "done in $(( $(date +%s) - start ))s"
