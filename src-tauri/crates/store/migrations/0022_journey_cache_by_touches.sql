-- 0022: the journey cache keyed by the touch filter too (issue 15). A run reads only the touches
-- its filter admits (`no-bots`: human and suspicious, `human`, `all`), so the journeys of one
-- filter are not the journeys of another. The cache is derived data: the table is recreated
-- empty with the filter in its key, and the next run of each filter resolves again.
DROP TABLE journey_cache;
CREATE TABLE journey_cache (
    input_watermark TEXT NOT NULL,
    lookback_days   INTEGER NOT NULL,
    probabilistic   INTEGER NOT NULL CHECK (probabilistic IN (0, 1)),
    touches         TEXT NOT NULL CHECK (touches IN ('no-bots', 'human', 'all')),
    format          INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    -- The distinct non-converting paths with their counts: only data-driven models read them.
    paths           BLOB NOT NULL,
    PRIMARY KEY (input_watermark, lookback_days, probabilistic, touches)
) STRICT;
