vcl 4.1;
# Varnish in front of the airq API: the one VCL of the chart (templates/cache-configmap.yaml) and of compose.yaml.
#
# Cache key: host + URL with its query parameters sorted, so ?a=1&b=2 and ?b=2&a=1 share one object. The API answers
# `Vary: Accept`, so Accept is first rewritten to the one type the API will serve (airq_normalise_accept): a browser,
# curl and a client that sends no Accept all share the one JSON object. Lifetime: the API's Cache-Control max-age, then a long grace in
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

    call airq_normalise_accept;
    # Bulk exports (CSV, NDJSON) stream straight through: they would evict the hot pages from a small cache. So does a
    # request whose Accept is too intricate to decide here: the API negotiates it, and nothing of it is cached.
    if (req.http.Accept != "application/json") {
        return (pass);
    }

    set req.url = std.querysort(req.url);
    # The API sets no cookies and takes no credentials: a browser's cookies must not make every request a pass.
    unset req.http.Cookie;
    unset req.http.Authorization;
    return (hash);
}

# The API negotiates among application/json (the default when Accept is absent), text/csv and application/x-ndjson
# (api/src/routes/readings.ts; the other data routes offer JSON only), as npm's `negotiator` ranks them: by q, then by
# how specific the matching range is, then by the order of the header, then JSON first. Rewrites Accept to the type that
# ranking picks when the header makes it certain, and otherwise leaves it as it came:
# - absent or empty: JSON;
# - exactly `text/csv` or `application/x-ndjson`: that type;
# - with no range that could select CSV or NDJSON over JSON (text/csv, text/*, x-ndjson): JSON when its best range is a
#   lone bare `application/json`, else a lone bare `application/*`, else a lone `*/*` with a q above 0 (a browser's
#   `text/html,...,*/*;q=0.8`, curl's `*/*`). Each of those gives JSON the highest q of the three, or wins the tie.
sub airq_normalise_accept {
    # Several Accept lines are one list to the API: decide on all of them.
    std.collect(req.http.Accept);
    if (!req.http.Accept || req.http.Accept ~ "^\s*$") {
        set req.http.Accept = "application/json";
    } elsif (req.http.Accept ~ "(?i)^\s*(text/csv|application/x-ndjson)\s*$") {
        set req.http.Accept = std.tolower(regsub(req.http.Accept, "^\s*(\S+)\s*$", "\1"));
    } elsif (req.http.Accept ~ "(?i)text/(csv|\*)|x-ndjson") {
        return;
    } elsif (req.http.Accept ~ "(?i)application/json") {
        if (req.http.Accept ~ "(?i)(^|,)\s*application/json\s*(,|$)" && req.http.Accept !~ "(?i)application/json.*application/json") {
            set req.http.Accept = "application/json";
        }
    } elsif (req.http.Accept ~ "(?i)application/\*") {
        if (req.http.Accept ~ "(?i)(^|,)\s*application/\*\s*(,|$)" && req.http.Accept !~ "(?i)application/\*.*application/\*") {
            set req.http.Accept = "application/json";
        }
    } elsif (req.http.Accept ~ "(^|,)\s*\*/\*\s*(;\s*[qQ]=(1(\.0*)?|0?\.[0-9]*[1-9][0-9]*)\s*)?(,|$)" && req.http.Accept !~ "\*/\*.*\*/\*") {
        set req.http.Accept = "application/json";
    }
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
