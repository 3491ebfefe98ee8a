#!/usr/bin/env bash
# Builds the end-to-end control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok) from the
# Go module proxy into a cache outside the repository, keyed by version. Idempotent: a tool whose directory carries a
# `.complete` marker is reused; a half-built one is rebuilt. Concurrent runs are serialised with flock.
# Prints `AIRQ_TOOLS_BIN=<dir>` on its last line: the directory holding every binary (symlinks).
set -euo pipefail

KUBE_VERSION="${AIRQ_KUBE_VERSION:-1.35.4}"   # helm v4.1.4 is built on client-go 1.35
ETCD_VERSION="${AIRQ_ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${AIRQ_KWOK_VERSION:-0.7.0}"

CACHE="${AIRQ_TOOLS_CACHE:-$HOME/.cache/airq-tools}"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0

log() { printf '[e2e-tools] %s\n' "$*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  log "another build holds $CACHE/.lock; waiting for it"
  flock 9
fi

# Runs "$2..." to fill tool directory $1 unless it is already complete; timing goes to the log.
build_once() {
  local dir="$1"; shift
  if [[ -f "$dir/.complete" ]]; then
    log "reusing $(basename "$dir") from $dir"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    log "go not found on PATH: install Go >= 1.25 (https://go.dev/dl) to build $(basename "$dir") into $dir"
    exit 2
  fi
  log "building $(basename "$dir") into $dir (cold: this takes a while)"
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/src"
  local started=$SECONDS
  "$@" "$dir"
  date -u +%FT%TZ >"$dir/.complete"
  log "built $(basename "$dir") in $((SECONDS - started)) s"
}

build_kubernetes() {
  local dir="$1" v="v$KUBE_VERSION" minor
  minor="$(cut -d. -f2 <<<"$KUBE_VERSION")"
  local upstream
  upstream="$(go mod download -json "k8s.io/kubernetes@$v" | jq -r .GoMod)"
  cd "$dir/src"
  {
    echo "module airq.local/e2e-tools/kubernetes"
    echo
    grep -E '^(go|godebug) ' "$upstream"
    echo
    # Upstream's require block pins every dependency; keep those pins.
    awk '/^require \(/{p=1} p{print} p&&/^\)/{p=0}' "$upstream"
    echo "require k8s.io/kubernetes $v"
    echo
    echo "replace ("
    # Upstream replaces each staging module with ./staging/...; use the published v0.<minor>.<patch> instead.
    sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/.*#\t\1 => \1 v0.'"${KUBE_VERSION#1.}"'#p' "$upstream"
    echo ")"
  } >go.mod
  cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  # Upstream's require block lists staging modules at v0.0.0; the replaces above give them real versions.
  go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; return 1; }
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  go build -trimpath -tags tools -ldflags "$ldflags" -o "$dir/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
}

build_etcd() {
  local dir="$1"
  cd "$dir/src"
  cat >go.mod <<MOD
module airq.local/e2e-tools/etcd

go 1.24

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
MOD
  # The etcd binary's own main lives in the root module, which is not meant to be imported; etcdmain.Main is.
  cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod tidy >/dev/null 2>tidy.log || { cat tidy.log >&2; return 1; }
  go build -trimpath -ldflags "-s -w" -o "$dir/bin/etcd" .
}

build_kwok() {
  local dir="$1"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
}

build_once "$CACHE/kubernetes-v$KUBE_VERSION" build_kubernetes
build_once "$CACHE/etcd-v$ETCD_VERSION" build_etcd
build_once "$CACHE/kwok-v$KWOK_VERSION" build_kwok

# One directory of symlinks per version set, so the harness needs one path.
set_dir="$CACHE/bin-k$KUBE_VERSION-e$ETCD_VERSION-w$KWOK_VERSION"
mkdir -p "$set_dir"
for tool in kube-apiserver kube-controller-manager kube-scheduler; do
  ln -sfn "$CACHE/kubernetes-v$KUBE_VERSION/bin/$tool" "$set_dir/$tool"
done
ln -sfn "$CACHE/etcd-v$ETCD_VERSION/bin/etcd" "$set_dir/etcd"
ln -sfn "$CACHE/kwok-v$KWOK_VERSION/bin/kwok" "$set_dir/kwok"
echo "AIRQ_TOOLS_BIN=$set_dir"
