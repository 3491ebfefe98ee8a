vcl 4.1;
# Varnish in front of the airq API: the one VCL of the chart (templates/cache-configmap.yaml) and of compose.yaml.
#
# Cache key: host + URL with its query parameters sorted, so ?a=1&b=2 and ?b=2&a=1 share one object; the API's
# `Vary: Accept` keeps JSON, CSV and NDJSON apart. Lifetime: the API's Cache-Control max-age, then a long grace in
# which the stale object is served while one background fetch refreshes it (or while the API is down). Invalidation:
# after a reseed the seeder sends BAN with the new dataset version, which bans every object of any other version.

import std;

# What differs per deployment — the API backend, the networks allowed to BAN, the grace period — is rendered next to
# this file: by the chart from files/deployment.vcl, by compose from compose/cache/deployment.vcl.
include "/etc/varnish/vcl/deployment.vcl";

# Mounted by the chart on a path of its own: images' packagings ship their own files under /etc/varnish.
include "/etc/airq/cache-secret/ban-token.vcl";

sub vcl_recv {
    unset req.http.X-Airq-Cache;

    if (req.url == "/varnish/health") {
        return (synth(200, "OK"));
    }

    if (req.method == "BAN") {
        if (client.ip !~ ban_clients) {
            return (synth(403, "BAN refused: only accepted from inside the cluster"));
        }
        # Returns synth(403) unless X-Ban-Token carries the release's token.
        call airq_require_ban_token;
        if (req.http.X-Dataset-Version !~ "^[0-9a-f]{12}$") {
            return (synth(400, "BAN refused: X-Dataset-Version must be the new dataset's 12 hex characters"));
        }
        ban("obj.http.X-Dataset-Version != " + req.http.X-Dataset-Version);
        return (synth(200, "Banned every object whose dataset version differs from " + req.http.X-Dataset-Version));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    # Only the data endpoints are cached: health, readiness, metrics and anything else always reach the API.
    if (req.url !~ "^/air_quality(/|\?|$)") {
        return (pass);
    }

    # Bulk exports stream straight through: they would evict the hot pages from a small cache.
    if (req.http.Accept ~ "text/csv|application/x-ndjson") {
        return (pass);
    }

    set req.url = std.querysort(req.url);
    # The API sets no cookies and takes no credentials: a browser's cookies must not make every request a pass.
    unset req.http.Cookie;
    unset req.http.Authorization;
    return (hash);
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        set req.http.X-Airq-Cache = "HIT";
    } else {
        # Within grace: deliver the stale object now; Varnish refreshes it with one background fetch.
        set req.http.X-Airq-Cache = "HIT-STALE";
    }
}

sub vcl_miss {
    set req.http.X-Airq-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Airq-Cache = "PASS";
}

sub vcl_backend_fetch {
    # One request per API connection: kube-proxy balances per connection, so reused connections would send every
    # miss to the same few replicas. A new connection per fetch spreads misses over all of them.
    set bereq.http.Connection = "close";
}

sub vcl_backend_response {
    # A failing refresh must not replace the stale object that grace is still serving.
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        return (abandon);
    }
    if (beresp.ttl > 0s) {
        call airq_set_grace;
    }
}

# The API is unreachable and no stale copy exists: answer like the API does (RFC 9457), never cached.
sub vcl_backend_error {
    set beresp.http.Content-Type = "application/problem+json";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.Retry-After = "5";
    set beresp.ttl = 0s;
    set beresp.body = {"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the cache could not reach the API ("} + beresp.reason + {"), retry later""} + "}";
    set beresp.status = 503;
    return (deliver);
}

sub vcl_deliver {
    set resp.http.X-Cache = req.http.X-Airq-Cache;
    if (!resp.http.X-Cache) {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache-Hits = obj.hits;
    unset req.http.X-Airq-Cache;
}

sub vcl_synth {
    set resp.http.Cache-Control = "no-store";
}
