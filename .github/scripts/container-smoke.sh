#!/usr/bin/env bash
# Runs a built API image the way the chart does — migrate, seed, serve — against a throwaway PostgreSQL container,
# then checks readiness, the reported version and that /air_quality returns data.
# Usage: container-smoke.sh <image> <expected APP_VERSION>
set -euo pipefail

image="${1:?usage: container-smoke.sh <image> <expected-version>}"
expected_version="${2:?usage: container-smoke.sh <image> <expected-version>}"
run_id="airq-smoke-$$"
network="$run_id"
database="$run_id-postgres"
api="$run_id-api"
database_url="postgres://postgres@$database:5432/postgres"

cleanup() {
  docker rm -f "$api" "$database" >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker network create "$network" >/dev/null
docker run -d --name "$database" --network "$network" -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17-alpine >/dev/null
for _ in $(seq 1 60); do
  docker exec "$database" pg_isready -U postgres -q && break
  sleep 1
done

docker run --rm --network "$network" -e DATABASE_URL="$database_url" "$image" node db/src/cli.ts migrate
docker run --rm --network "$network" -e DATABASE_URL="$database_url" "$image" node db/src/cli.ts seed
docker run -d --name "$api" --network "$network" -p 127.0.0.1:18080:8080 \
  -e DATABASE_URL="$database_url" -e APP_VERSION="$expected_version" "$image" >/dev/null

ready=""
for _ in $(seq 1 60); do
  if ready="$(curl -fsS http://127.0.0.1:18080/health/ready)"; then break; fi
  sleep 1
done
if [[ -z "$ready" ]]; then
  echo "::error title=container smoke::$image never answered /health/ready on port 8080 within 60 s; its log follows"
  docker logs "$api"
  exit 1
fi
echo "/health/ready: $ready"
if [[ "$ready" != *"\"version\":\"$expected_version\""* ]]; then
  echo "::error title=container smoke::$image reports $ready, expected version $expected_version (APP_VERSION)"
  exit 1
fi

body="$(curl -fsS 'http://127.0.0.1:18080/air_quality?limit=1')"
if [[ "$body" != *'"data":[{'* ]]; then
  echo "::error title=container smoke::GET /air_quality on $image returned no data after the seed: ${body:0:500}"
  docker logs "$api"
  exit 1
fi
echo "container smoke passed: $image serves version $expected_version with data"
