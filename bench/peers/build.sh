#!/usr/bin/env bash
# Builds the Go peers `ork bench peers` compares ork with, into a cache outside the
# repository, keyed by version: kro (github.com/kubernetes-sigs/kro, from the Go
# module proxy, with its ResourceGraphDefinition CRDs taken from the same module)
# and stack-operator, the hand-written controller-runtime operator in
# bench/peers/stack-operator/. A second run with the binaries present returns at
# once. Not part of CI: it downloads and compiles Go modules (5-15 min cold on
# 2 cores).
#
# Usage: bench/peers/build.sh [--print-dir] [--force] [kro|stack-operator]...
#   ORK_PEERS_DIR  output root (default ${XDG_CACHE_HOME:-~/.cache}/ork/peers);
#                  kro goes to <root>/kro-<version>/, the operator to
#                  <root>/stack-operator-<hash of its sources>/
set -euo pipefail

KRO_VERSION=v0.9.4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${ORK_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ork/peers}
operator_hash=$(cat "$here"/stack-operator/go.mod "$here"/stack-operator/go.sum "$here"/stack-operator/*.go | sha256sum | cut -c1-12)
kro_dir=$root/kro-$KRO_VERSION
operator_dir=$root/stack-operator-$operator_hash

force=0; want=()
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$root"; exit 0 ;;
    --force) force=1 ;;
    kro|stack-operator) want+=("$arg") ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} = 0 ] && want=(kro stack-operator)

step() { printf '[peers] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  step "error: the Go toolchain is not on PATH; the peers are Go programs (Go >= 1.26)."
  exit 1
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)

for peer in "${want[@]}"; do
  case "$peer" in
    kro)
      if [ "$force" = 0 ] && [ -x "$kro_dir/kro" ] && [ -f "$kro_dir/crds/kro.run_resourcegraphdefinitions.yaml" ]; then
        step "kro $KRO_VERSION present in $kro_dir"; continue
      fi
      t=$(date +%s)
      step "kro $KRO_VERSION: downloading the module and compiling cmd/controller"
      mkdir -p "$kro_dir"
      tmp=$(mktemp -d "$kro_dir/.build.XXXXXX")
      GOFLAGS= GOBIN=$tmp go install -trimpath -ldflags "-s -w" "github.com/kubernetes-sigs/kro/cmd/controller@$KRO_VERSION"
      src=$(GOFLAGS= go mod download -json "github.com/kubernetes-sigs/kro@$KRO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      mkdir -p "$kro_dir/crds"
      cp "$src"/helm/crds/*.yaml "$kro_dir/crds/"
      chmod -R u+w "$kro_dir/crds"
      mv -f "$tmp/controller" "$kro_dir/kro"
      rm -rf "$tmp"
      step "  kro done in $(( $(date +%s) - t ))s: $kro_dir/kro"
      ;;
    stack-operator)
      if [ "$force" = 0 ] && [ -x "$operator_dir/stack-operator" ]; then
        step "stack-operator present in $operator_dir"; continue
      fi
      t=$(date +%s)
      step "stack-operator: compiling bench/peers/stack-operator (controller-runtime)"
      mkdir -p "$operator_dir"
      (cd "$here/stack-operator" && go build -trimpath -ldflags "-s -w" -o "$operator_dir/stack-operator.tmp" .)
      mv -f "$operator_dir/stack-operator.tmp" "$operator_dir/stack-operator"
      step "  stack-operator done in $(( $(date +%s) - t ))s: $operator_dir/stack-operator"
      ;;
  esac
done
step "done in $(( $(date +%s) - start ))s"
