#!/usr/bin/env bash
# The stand-in postgres image's entrypoint: the official image's documented behaviour, written for this project.
# - `postgres …` (or options only): as root, own the data directory and drop to postgres; as postgres (uid 999),
#   initialise an empty PGDATA from POSTGRES_* variables, run /docker-entrypoint-initdb.d, then exec the server.
# - anything else runs as given.
set -Eeuo pipefail

# VAR or VAR_FILE (the file's content), never both; the default otherwise.
file_env() {
  local var="$1" default="${2:-}" file_var="${1}_FILE"
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    echo >&2 "error: both $var and $file_var are set (they are exclusive)"
    exit 1
  fi
  local value="$default"
  if [[ -n "${!var:-}" ]]; then
    value="${!var}"
  elif [[ -n "${!file_var:-}" ]]; then
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"
}

require_password() {
  if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
    cat >&2 <<'MSG'
Error: the database is uninitialized and the superuser password is not specified.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value for the superuser, or
       POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password (never in production).
MSG
    exit 1
  fi
}

init_database() {
  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  local args=(--username="$POSTGRES_USER" --pgdata="$PGDATA")
  [[ -n "$POSTGRES_PASSWORD" ]] && args+=(--pwfile="$pwfile")
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, split on purpose
  initdb "${args[@]}" $POSTGRES_INITDB_ARGS
  rm -f "$pwfile"

  local method="$POSTGRES_HOST_AUTH_METHOD"
  if [[ -z "$method" ]]; then
    method="$(postgres -C password_encryption -D "$PGDATA")"
  fi
  printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

  # Local socket only while the init scripts run, so no client sees a half-initialised server.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  local psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [[ "$POSTGRES_DB" != postgres ]]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e "$f" ]] || continue
    case "$f" in
      *.sh) echo "running $f"; if [[ -x "$f" ]]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *) echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
}

main() {
  if [[ "${1:0:1}" == - ]]; then
    set -- postgres "$@"
  fi
  if [[ "$1" != postgres ]]; then
    exec "$@"
  fi
  setup_env
  if [[ "$(id -u)" == 0 ]]; then
    install -d -m 0700 -o postgres -g postgres "$PGDATA"
    install -d -m 3777 -o postgres -g postgres /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
  fi
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA" 2>/dev/null || true
    require_password
    init_database
  else
    echo 'PostgreSQL database directory appears to contain a database; skipping initialization'
  fi
  exec "$@"
}

main "$@"
