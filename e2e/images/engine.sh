#!/usr/bin/env bash
# The Docker engine the image builds, the container smoke run and the compose suite use.
#
#   engine.sh start   prints DOCKER_HOST=… (and STARTED=1 when this call started the daemon)
#   engine.sh stop    stops the daemon this project started (a DOCKER_HOST engine is never touched)
#
# With DOCKER_HOST set, that engine is used as it is; so is an engine the docker CLI reaches by default (unless
# AIRQ_OWN_DOCKERD=1). Otherwise the project runs its own dockerd from Debian's
# docker.io: data under the images cache (so built images survive between runs), overlay2, no iptables rules and no
# default bridge (user-defined networks, name resolution and ports published on 127.0.0.1 work without them).
set -euo pipefail

CACHE="${AIRQ_IMAGES_CACHE:-$HOME/.cache/airq-images}"
RUN_DIR="${AIRQ_DOCKERD_RUN:-/run/airq-docker}"   # short: containerd's shim sockets live under it
SOCKET="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$CACHE/dockerd.log"

log() { printf '[engine] %s\n' "$*" >&2; }

alive() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

answers() { DOCKER_HOST="unix://$SOCKET" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
      log "DOCKER_HOST=$DOCKER_HOST does not answer: start that engine, or unset DOCKER_HOST to let the project run its own"
      exit 1
    fi
    echo "DOCKER_HOST=$DOCKER_HOST"
    return
  fi
  # An engine the docker CLI already reaches (the default socket or context) is used as it is.
  if [[ "${AIRQ_OWN_DOCKERD:-}" != 1 ]] && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    echo "DOCKER_HOST=$(docker context inspect --format '{{.Endpoints.docker.Host}}')"
    return
  fi
  mkdir -p "$CACHE/docker" "$RUN_DIR"
  exec 8>"$RUN_DIR/.lock"
  flock 8
  if alive && answers; then
    echo "DOCKER_HOST=unix://$SOCKET"
    return
  fi
  for tool in dockerd docker containerd runc; do
    command -v "$tool" >/dev/null || { log "$tool not found: apt-get install docker.io (Debian's Docker engine)"; exit 1; }
  done
  if [[ "$(id -u)" != 0 ]]; then
    log "the project's own dockerd needs root; run as root or point DOCKER_HOST at a running engine"
    exit 1
  fi
  rm -f "$SOCKET" "$PIDFILE"
  # setsid: the daemon outlives this script (build.sh and the test harness stop it explicitly). It must not inherit
  # this lock (fd 8) nor build.sh's (fd 9), or it would hold them for as long as it runs.
  setsid dockerd \
    --data-root "$CACHE/docker" --exec-root "$RUN_DIR/exec" --pidfile "$PIDFILE" -H "unix://$SOCKET" \
    --storage-driver overlay2 --iptables=false --ip-masq=false --bridge=none \
    --default-address-pool base=172.29.0.0/16,size=24 \
    >>"$LOG" 2>&1 </dev/null 8>&- 9>&- &
  for _ in $(seq 1 150); do
    if answers; then
      echo "DOCKER_HOST=unix://$SOCKET"
      echo "STARTED=1"
      return
    fi
    sleep 0.2
  done
  log "dockerd did not answer on $SOCKET within 30 s; the end of $LOG follows"
  tail -n 30 "$LOG" >&2
  exit 1
}

stop() {
  [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "unix://$SOCKET" ]] && return 0
  alive || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "dockerd $pid did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: engine.sh start|stop" >&2; exit 2 ;;
esac
