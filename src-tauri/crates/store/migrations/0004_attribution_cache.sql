-- 0004: what makes a model run or a report on unchanged data cheap. Everything here is derived
-- from the canonical tables and the credits; deleting it changes no number, only speed.

-- Resolved journeys of one input watermark, lookback window and probabilistic setting, so a run
-- of another model on unchanged data reads the ~journey touches instead of every touch. The
-- engine owns the encoding of the blobs (format says which); the store only keeps them. A cache
-- row of an older watermark is never read again (the watermark only grows) and is deleted when a
-- newer one is written.
CREATE TABLE journey_cache (
    input_watermark TEXT NOT NULL,
    lookback_days   INTEGER NOT NULL,
    probabilistic   INTEGER NOT NULL CHECK (probabilistic IN (0, 1)),
    format          INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    PRIMARY KEY (input_watermark, lookback_days, probabilistic)
) STRICT;

-- A run's credits summed per report key and order day (in the run's reporting zone, as the
-- half-open instant range [day_start_ms, day_end_ms)) and provisional flag, written with the run
-- so a credits report reads a few thousand rows instead of joining every credit to its touch.
-- grouping is channel, creator, campaign or content; key is NULL when the touch has none.
-- credits counts the credit rows summed, so a bucket whose credits all moved (settlement) is
-- deleted rather than left as a zero row the exact query would not produce.
CREATE TABLE run_credit_totals (
    run_id        INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    grouping      TEXT NOT NULL CHECK (grouping IN ('channel', 'creator', 'campaign', 'content')),
    key           TEXT,
    day_start_ms  INTEGER NOT NULL,
    day_end_ms    INTEGER NOT NULL,
    provisional   INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    credits       INTEGER NOT NULL,
    share_ppb     INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX run_credit_totals_by_key
    ON run_credit_totals (run_id, grouping, key, day_start_ms, provisional);

-- Whether a run was written with run_credit_totals and the order columns below (runs written
-- before this migration were not, and are reported with the exact joins).
ALTER TABLE attribution_runs ADD COLUMN has_report_totals INTEGER NOT NULL DEFAULT 0
    CHECK (has_report_totals IN (0, 1));

-- The order's instant and currency as the run saw them, so order totals need no join to orders.
ALTER TABLE run_orders ADD COLUMN occurred_at_ms INTEGER;
ALTER TABLE run_orders ADD COLUMN order_currency TEXT;
