#!/usr/bin/env bash
# Runs a built API image the way the chart runs it — migrate, seed, serve; read-only root filesystem, the image's own
# non-root user, no capabilities — against a throwaway postgres:17 container on a network of its own, then checks
# readiness, the reported version and that /air_quality returns the bundled data.
# Usage: container-smoke.sh <image> <expected APP_VERSION>
# Needs a Docker engine (DOCKER_HOST or the default socket), curl and jq. Removes everything it made on exit.
set -euo pipefail

image="${1:?usage: container-smoke.sh <image> <expected-version>}"
expected_version="${2:?usage: container-smoke.sh <image> <expected-version>}"
run_id="airq-smoke-$$"
network="$run_id"
database="$run_id-postgres"
api="$run_id-api"
password="smoke-$RANDOM$RANDOM"
database_url="postgres://airq:$password@$database:5432/airq"

fail() {
  echo "::error title=container smoke::$*"
  exit 1
}

cleanup() {
  docker rm -f "$api" "$database" >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# What the chart enforces on every pod: no writable root, no privilege escalation, no capabilities.
hardened=(--read-only --tmpfs /tmp:size=64m --security-opt no-new-privileges --cap-drop ALL)

docker network create "$network" >/dev/null
docker run -d --name "$database" --network "$network" \
  -e POSTGRES_USER=airq -e POSTGRES_PASSWORD="$password" -e POSTGRES_DB=airq postgres:17 >/dev/null
for _ in $(seq 1 90); do
  docker exec "$database" pg_isready -h 127.0.0.1 -U airq -d airq -q 2>/dev/null && break
  sleep 1
done
docker exec "$database" pg_isready -h 127.0.0.1 -U airq -d airq -q || fail "postgres:17 was not ready within 90 s"

user="$(docker image inspect --format '{{.Config.User}}' "$image")"
[[ -n "$user" && "$user" != root && "$user" != 0 ]] || fail "$image runs as '${user:-root}'; its Dockerfile must set a non-root USER"

docker run --rm "${hardened[@]}" --network "$network" -e DATABASE_URL="$database_url" "$image" \
  node db/src/cli.ts migrate || fail "migrate failed in $image"
seeded="$(docker run --rm "${hardened[@]}" --network "$network" -e DATABASE_URL="$database_url" "$image" \
  node db/src/cli.ts seed)" || fail "seed failed in $image"
echo "seed: $seeded"

docker run -d --name "$api" "${hardened[@]}" --network "$network" -p 127.0.0.1::8080 \
  -e DATABASE_URL="$database_url" -e APP_VERSION="$expected_version" "$image" >/dev/null
port="$(docker port "$api" 8080/tcp | head -n1 | sed 's/.*://')"
base="http://127.0.0.1:$port"

ready=""
for _ in $(seq 1 60); do
  if ready="$(curl -fsS "$base/health/ready" 2>/dev/null)"; then break; fi
  sleep 1
done
if [[ -z "$ready" ]]; then
  docker logs "$api" 2>&1 | tail -n 50
  fail "$image never answered /health/ready on port 8080 within 60 s; its log is above"
fi
echo "/health/ready: $ready"
[[ "$(jq -r .version <<<"$ready")" == "$expected_version" ]] ||
  fail "$image reports $ready, expected version $expected_version (APP_VERSION)"

uid="$(docker exec "$api" id -u)"
[[ "$uid" != 0 ]] || fail "$image serves as root"
if docker exec "$api" touch /app/probe 2>/dev/null; then fail "the root filesystem of $image is writable"; fi

body="$(curl -fsS "$base/air_quality?limit=1")"
[[ "$(jq '.data | length' <<<"$body")" == 1 ]] ||
  fail "GET /air_quality on $image returned no data after the seed: ${body:0:500}"
echo "container smoke passed: $image serves version $expected_version with data, as uid $uid on a read-only root"
