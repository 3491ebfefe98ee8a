# The part of the cache's VCL that differs per deployment, rendered by the chart (templates/cache-configmap.yaml) and
# included by files/default.vcl. compose.yaml mounts compose/cache/deployment.vcl in its place.

backend api {
    .host = "{{ include "airq.apiHost" . }}";
    .port = "{{ .Values.service.port }}";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 30s;
}

# BAN is accepted only from these networks (the cluster's pods) and only with the token (checked in ban-token.vcl).
acl ban_clients {
    "127.0.0.1";
    "::1";
{{- range .Values.cache.ban.allowedCidrs }}
{{- $parts := splitList "/" . }}
    "{{ index $parts 0 }}"/{{ index $parts 1 }};
{{- end }}
}

sub airq_set_grace {
    set beresp.grace = {{ .Values.cache.graceSeconds }}s;
}
