#!/bin/sh
# Starts the compose file's Varnish with the chart's VCL (helm/airq/files/default.vcl, mounted unchanged).
#
# What the chart renders per release, this script renders per start:
# - deployment.vcl: one backend per API replica, behind a round-robin director. In Kubernetes the API is one Service
#   address; here the name "api" resolves to every replica, and varnishd refuses a backend name with several
#   addresses, so each replica becomes a backend with a health probe (a replica that stops is skipped).
# - the BAN-token include, from the chart's own files/ban-token.vcl and CACHE_BAN_TOKEN (the seed service's token).
set -eu

chart=/etc/airq/chart-files
vcl_dir=/etc/varnish/vcl
: "${CACHE_BAN_TOKEN:?CACHE_BAN_TOKEN must be set (the seed service sends it with its BAN)}"

addresses=""
for _ in $(seq 1 30); do
  addresses="$(getent ahostsv4 "${API_HOST:-api}" | awk '{ print $1 }' | sort -u)"
  [ -n "$addresses" ] && break
  sleep 1
done
[ -n "$addresses" ] || { echo "no address for ${API_HOST:-api}: is the api service running?" >&2; exit 1; }

{
  echo "# Rendered by compose/cache/start.sh at $(date -u +%FT%TZ) for: $(echo $addresses)"
  echo 'import directors;'
  i=0
  for address in $addresses; do
    i=$((i + 1))
    cat <<VCL
backend api_$i {
    .host = "$address";
    .port = "${API_PORT:-8080}";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 30s;
    .probe = { .url = "/health/live"; .interval = 2s; .timeout = 1s; .window = 3; .threshold = 2; }
}
VCL
  done
  echo 'sub vcl_init {'
  echo '    new api = directors.round_robin();'
  j=0
  while [ "$j" -lt "$i" ]; do
    j=$((j + 1))
    echo "    api.add_backend(api_$j);"
  done
  echo '}'
  cat <<'VCL'
# Runs before default.vcl's vcl_recv (VCL appends subroutines of the same name in order).
sub vcl_recv {
    set req.backend_hint = api.backend();
}
# The compose networks Docker creates (its default address pools), besides loopback.
acl ban_clients {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}
VCL
  echo 'sub airq_set_grace {'
  echo "    set beresp.grace = ${CACHE_GRACE_SECONDS:-21600}s;"
  echo '}'
} >"$vcl_dir/deployment.vcl"
cp "$chart/default.vcl" "$vcl_dir/default.vcl"
sed "s/@BAN_TOKEN@/$CACHE_BAN_TOKEN/" "$chart/ban-token.vcl" >/etc/airq/cache-secret/ban-token.vcl

exec varnishd -F -n /var/lib/varnish/airq -f "$vcl_dir/default.vcl" -a "http=:${CACHE_PORT:-8080},HTTP" \
  -s "malloc,${CACHE_STORAGE_SIZE:-256M}" -p "default_ttl=${CACHE_DEFAULT_TTL_SECONDS:-60}" \
  -p "default_grace=${CACHE_GRACE_SECONDS:-21600}"
