# Rendered into a Secret by templates/cache-secret.yaml, which replaces @BAN_TOKEN@ with the release's BAN token.
sub airq_require_ban_token {
    if (!req.http.X-Ban-Token || req.http.X-Ban-Token != "@BAN_TOKEN@") {
        return (synth(403, "BAN refused: missing or wrong X-Ban-Token"));
    }
}
