-- Non-secret settings of a source that do not fit a column of `sources`: today the OAuth
-- endpoints a source with an OAuth grant uses (`oauth_token_url`, `oauth_authorize_url`), which
-- default to the platform's own and are overridden by tests and proxies. Secrets never go here:
-- they live in the OS keyring under `sources.credential_ref`.
CREATE TABLE source_settings (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
) STRICT;
