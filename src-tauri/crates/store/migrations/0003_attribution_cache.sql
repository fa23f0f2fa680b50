-- 0003: what makes a model run or a report on unchanged data cheap. Everything here is derived
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
    -- The distinct non-converting paths with their counts: only data-driven models read them.
    paths           BLOB NOT NULL,
    PRIMARY KEY (input_watermark, lookback_days, probabilistic)
) STRICT;

-- A run's credits summed per report key and order day (in the run's reporting zone, as the
-- half-open instant range [day_start, day_end)) and provisional flag, written with the run so a
-- credits report reads one row instead of joining every credit to its touch. grouping is channel,
-- creator, campaign or content; payload holds that grouping's buckets in the store's own binary
-- encoding (`attribution_io::encode_totals`): tens of thousands of buckets per run are one blob
-- written at once, not as many rows. A bucket whose credits all moved (settlement) is removed.
CREATE TABLE run_credit_totals (
    run_id   INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    grouping TEXT NOT NULL CHECK (grouping IN ('channel', 'creator', 'campaign', 'content')),
    payload  BLOB NOT NULL,
    PRIMARY KEY (run_id, grouping)
) STRICT;

-- The provisional orders of each run: what settling a reused run looks at, usually few.
CREATE INDEX run_orders_provisional ON run_orders (run_id) WHERE provisional = 1;

-- Whether a run was written with run_credit_totals and the order columns below (runs written
-- before this migration were not, and are reported with the exact joins).
ALTER TABLE attribution_runs ADD COLUMN has_report_totals INTEGER NOT NULL DEFAULT 0
    CHECK (has_report_totals IN (0, 1));

-- The order's instant, currency and day (in the run's reporting zone) as the run saw them, so
-- order totals need no join to orders.
ALTER TABLE run_orders ADD COLUMN occurred_at_ms INTEGER;
ALTER TABLE run_orders ADD COLUMN order_currency TEXT;
ALTER TABLE run_orders ADD COLUMN day_start_ms INTEGER;
ALTER TABLE run_orders ADD COLUMN day_end_ms INTEGER;

-- A run's orders counted and summed per outcome, currency (missing_fx only), order day and
-- provisional flag: a few hundred rows that answer the order totals of every report. Derived
-- from run_orders with one GROUP BY when the run is written and again when orders settle.
CREATE TABLE run_order_buckets (
    run_id       INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    outcome      TEXT NOT NULL,
    currency     TEXT,
    day_start_ms INTEGER NOT NULL,
    day_end_ms   INTEGER NOT NULL,
    provisional  INTEGER NOT NULL,
    orders       INTEGER NOT NULL,
    net_minor    INTEGER NOT NULL
) STRICT;
CREATE INDEX run_order_buckets_by_run ON run_order_buckets (run_id);
