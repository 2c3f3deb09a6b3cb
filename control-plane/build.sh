#!/usr/bin/env bash
# Builds the local Kubernetes control plane ork tests against and `ork dev` runs:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl, all
# from Go modules (module proxy), static (CGO_ENABLED=0), with version ldflags
# so /version reports the pinned release; and kwok (fake kubelets for the
# workloads mode), from its own module in kwok/ because it pins its own
# Kubernetes client libraries. Output goes to a cache outside the repository,
# keyed by version; a second run with the binaries present returns at once, and
# a run with only some missing builds only the module that provides them.
#
# Usage: control-plane/build.sh [--print-dir] [--force]
#   ORK_CONTROL_PLANE_DIR  output directory for the binaries
#                          (default ${XDG_CACHE_HOME:-~/.cache}/ork/control-plane/<version>/bin)
set -euo pipefail

K8S_VERSION=v1.37.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/ork/control-plane
out=${ORK_CONTROL_PLANE_DIR:-$cache_root/$K8S_VERSION/bin}
k8s_bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)
kwok_bins=(kwok)
bins=("${k8s_bins[@]}" "${kwok_bins[@]}")

force=0
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$out"; exit 0 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '[control-plane] %s\n' "$*" >&2; }
# shellcheck source=progress.sh
. "$here/progress.sh"
# What `go build -v` prints for each package it finishes, and `go mod download -x` per fetch.
package_line='^[[:alnum:]._~/-]+$'
fetch_line='^# get .*: 200 OK'

missing=()
for b in "${bins[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
if [ "$force" = 0 ] && [ ${#missing[@]} = 0 ]; then
  step "all binaries present in $out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
[control-plane] error: the Go toolchain is not on PATH.
  ork builds kube-apiserver, etcd and friends from Go modules; it needs Go >= 1.26.
  Install Go (https://go.dev/doc/install, or your distribution's golang package),
  make sure 'go version' works, then run this script again.
MSG
  exit 1
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
go_version=$(go env GOVERSION)
case "$go_version" in
  go1.2[6-9]*|go1.[3-9][0-9]*) ;;
  *) step "error: $go_version is too old; Kubernetes $K8S_VERSION needs Go >= 1.26"; exit 1 ;;
esac

mkdir -p "$out"
start=$(date +%s)
need_k8s=0; need_kwok=0
for b in "${missing[@]}"; do
  case " ${kwok_bins[*]} " in *" $b "*) need_kwok=1 ;; *) need_k8s=1 ;; esac
done
if [ "$force" = 1 ]; then need_k8s=1; need_kwok=1; fi
step "building ${missing[*]:-${bins[*]}} for Kubernetes $K8S_VERSION with $go_version into $out"
if [ "$need_k8s" = 1 ]; then
  step "a cold build downloads ~1 GB of modules and compiles for 15-30 min on 2 cores; later runs reuse Go's caches"
fi

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

if [ "$need_k8s" = 1 ]; then
  cd "$here"
  step "1/5 downloading modules (Kubernetes, etcd)"
  with_progress "downloading" "modules fetched" "$fetch_line" go mod download -x

  t=$(date +%s)
  step "2/5 compiling etcd"
  with_progress "etcd" "packages built" "$package_line" \
    go build -v -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  step "    etcd done in $(( $(date +%s) - t ))s"

  t=$(date +%s)
  step "3/5 compiling kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (the long step)"
  with_progress "kubernetes" "packages built" "$package_line" \
    go build -v -trimpath -ldflags "$ld" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
  step "    kubernetes done in $(( $(date +%s) - t ))s"
else
  step "1-3/5 Kubernetes and etcd binaries present, skipped"
fi

if [ "$need_kwok" = 1 ]; then
  t=$(date +%s)
  cd "$here/kwok"
  kwok_version=$(go list -m -f '{{.Version}}' sigs.k8s.io/kwok)
  step "4/5 downloading modules and compiling kwok $kwok_version (2-5 min cold on 2 cores)"
  with_progress "downloading" "modules fetched" "$fetch_line" go mod download -x
  with_progress "kwok" "packages built" "$package_line" \
    go build -v -trimpath -ldflags "-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
  step "    kwok done in $(( $(date +%s) - t ))s"
else
  step "4/5 kwok present, skipped"
fi

step "5/5 installing into $out"
built=()
[ "$need_k8s" = 1 ] && built+=("${k8s_bins[@]}")
[ "$need_kwok" = 1 ] && built+=("${kwok_bins[@]}")
for b in "${built[@]}"; do mv -f "$tmp/$b" "$out/$b"; done
if [ "$need_k8s" = 1 ]; then "$out/kube-apiserver" --version >&2; fi
if [ "$need_kwok" = 1 ]; then "$out/kwok" --version >&2; fi
step "done in $(( $(date +%s) - start ))s"
