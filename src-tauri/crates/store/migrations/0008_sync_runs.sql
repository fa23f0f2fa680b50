-- 0008: one row per sync of a source, for data health: error rate, retries and schema drift over
-- a recent window. (0007 is another change's number.) Written when a sync ends, however it ends;
-- the counters are the sums over the source's streams. `error` is the redacted message a person
-- sees on the Sources screen, never a secret.
CREATE TABLE sync_runs (
    sync_run_id    INTEGER PRIMARY KEY,
    source_id      TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL,
    -- complete | failed | cancelled
    outcome        TEXT NOT NULL CHECK (outcome IN ('complete', 'failed', 'cancelled')),
    pages          INTEGER NOT NULL DEFAULT 0,
    records        INTEGER NOT NULL DEFAULT 0,
    inserted       INTEGER NOT NULL DEFAULT 0,
    new_versions   INTEGER NOT NULL DEFAULT 0,
    dead_letters   INTEGER NOT NULL DEFAULT 0,
    -- top-level fields no normalizer knew (schema drift), summed over records
    unknown_fields INTEGER NOT NULL DEFAULT 0,
    -- requests retried after throttling or transient failures
    retries        INTEGER NOT NULL DEFAULT 0,
    error          TEXT
) STRICT;
CREATE INDEX sync_runs_by_source ON sync_runs (source_id, started_at_ms);
