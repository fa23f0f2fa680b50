-- 0001: the whole flow of DESIGN.md §2, from raw events to credits and the model log.
-- Money is *_minor INTEGER + an ISO-4217 currency; instants are *_at_ms INTEGER (UTC, ms since epoch);
-- calendar days (ad platforms, costs, fx) are 'YYYY-MM-DD' TEXT in the zone named beside them.
-- A shipped migration is never edited: change the schema with a new numbered file.

-- Workspace settings as key/value text: name, reporting_currency, reporting_timezone,
-- lookback_days, settlement_days, probabilistic_matching, current model and its parameters.
CREATE TABLE workspace_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A place data comes from: an API connection, a CSV import stream, the demo generator, a webhook.
-- Secrets are never here: credential_ref names an entry in the OS keyring.
CREATE TABLE sources (
    source_id          TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    name               TEXT NOT NULL UNIQUE,
    base_url           TEXT,
    account            TEXT,
    credential_ref     TEXT,
    created_at_ms      INTEGER NOT NULL,
    last_attempt_at_ms INTEGER,
    last_success_at_ms INTEGER,
    last_error         TEXT
) STRICT;

-- Where an incremental sync of one stream of a source stopped. Written in the same
-- transaction as the page it covers.
CREATE TABLE sync_checkpoints (
    source_id     TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    stream        TEXT NOT NULL,
    cursor        TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, stream)
) STRICT;

-- Append-only log of every record as it arrived. A record seen again with the same payload as its
-- latest version is a duplicate and is ignored; a restated record (same id, new payload) is appended
-- as a new version. The store compares against the *latest* version rather than any version, so a
-- record restated A -> B -> A ends with A as its latest version; that is why there is no UNIQUE
-- constraint over the payload hash (it would refuse the second A and leave B as the truth).
CREATE TABLE raw_events (
    raw_event_id       INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,
    stream             TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    received_at_ms     INTEGER NOT NULL,
    payload            TEXT NOT NULL,
    payload_sha256     TEXT NOT NULL,
    normalizer_version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX raw_events_by_id ON raw_events (source, stream, external_id);

-- Everything that could not be used, with a reason a person can act on and where it came from
-- (file:line, page URL, webhook id). Resolved rows keep their history.
CREATE TABLE dead_letters (
    dead_letter_id  INTEGER PRIMARY KEY,
    source          TEXT NOT NULL,
    stream          TEXT NOT NULL,
    location        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    resolved_at_ms  INTEGER
) STRICT;

CREATE TABLE creators (
    creator_id    TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    handle        TEXT,
    platform      TEXT,
    created_at_ms INTEGER
) STRICT;

CREATE TABLE campaigns (
    campaign_id TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    account_id  TEXT,
    name        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    creator_id  TEXT
) STRICT;

-- Posts, stories, videos and tracked links, usually owned by a creator.
CREATE TABLE content (
    content_id      TEXT PRIMARY KEY,
    creator_id      TEXT,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    url             TEXT,
    published_at_ms INTEGER
) STRICT;

-- A touch: a click, link visit, story swipe, ad click, email open, direct visit.
-- Identity keys are all optional, but at least one is present; email only as SHA-256.
-- creator_id / campaign_id / content_id are not foreign keys on purpose: a touch naming an
-- unknown creator is kept and shown by reconciliation rather than refused.
CREATE TABLE touches (
    touch_id       TEXT PRIMARY KEY,
    source         TEXT NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    touch_type     TEXT NOT NULL DEFAULT 'click',
    creator_id     TEXT,
    campaign_id    TEXT,
    ad_id          TEXT,
    content_id     TEXT,
    click_id       TEXT,
    person_id      TEXT,
    anonymous_id   TEXT,
    email_sha256   TEXT,
    customer_id    TEXT,
    device_id      TEXT,
    raw_event_id   INTEGER REFERENCES raw_events(raw_event_id)
) STRICT;
CREATE INDEX touches_by_time ON touches (occurred_at_ms);
CREATE INDEX touches_by_click ON touches (click_id) WHERE click_id IS NOT NULL;
CREATE INDEX touches_by_creator ON touches (creator_id) WHERE creator_id IS NOT NULL;

-- An order at its gross amount. Refunds and chargebacks are order_adjustments, never negative orders.
CREATE TABLE orders (
    order_id       TEXT PRIMARY KEY,
    source         TEXT NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    gross_minor    INTEGER NOT NULL CHECK (gross_minor >= 0),
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'paid',
    click_id       TEXT,
    person_id      TEXT,
    anonymous_id   TEXT,
    email_sha256   TEXT,
    customer_id    TEXT,
    device_id      TEXT,
    raw_event_id   INTEGER REFERENCES raw_events(raw_event_id)
) STRICT;
CREATE INDEX orders_by_time ON orders (occurred_at_ms);

-- Refunds and chargebacks, booked against an order. amount_minor is positive and in the
-- adjustment's own currency. A chargeback's status is 'open' while disputed, then 'won' or 'lost'.
CREATE TABLE order_adjustments (
    adjustment_id  TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    source         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('refund', 'chargeback')),
    occurred_at_ms INTEGER NOT NULL,
    amount_minor   INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'succeeded',
    raw_event_id   INTEGER REFERENCES raw_events(raw_event_id)
) STRICT;
CREATE INDEX order_adjustments_by_order ON order_adjustments (order_id);

-- Daily ad spend as the platform reports it: the day in the ad account's time zone and the
-- amount in the account's currency. ad_id is '' for campaign-level rows. A restated day replaces
-- the row (upsert on the primary key), it is never added to it.
CREATE TABLE ad_spend (
    platform         TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    campaign_id      TEXT NOT NULL,
    ad_id            TEXT NOT NULL DEFAULT '',
    day              TEXT NOT NULL,
    account_timezone TEXT NOT NULL,
    channel          TEXT NOT NULL,
    creator_id       TEXT,
    spend_minor      INTEGER NOT NULL CHECK (spend_minor >= 0),
    currency         TEXT NOT NULL,
    impressions      INTEGER,
    clicks           INTEGER,
    source           TEXT NOT NULL,
    raw_event_id     INTEGER REFERENCES raw_events(raw_event_id),
    updated_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (platform, account_id, campaign_id, ad_id, day)
) STRICT;
CREATE INDEX ad_spend_by_day ON ad_spend (day);

-- What a creator costs besides ads: flat fees and commissions.
CREATE TABLE creator_costs (
    cost_id      TEXT PRIMARY KEY,
    creator_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('fee', 'commission')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency     TEXT NOT NULL,
    source       TEXT NOT NULL,
    raw_event_id INTEGER REFERENCES raw_events(raw_event_id)
) STRICT;

-- Two identity keys known to belong to one person (key types: person_id, anonymous_id,
-- email_sha256, customer_id, device_id). Stored with a < b so each link is stored once.
CREATE TABLE identity_links (
    key_type_a    TEXT NOT NULL,
    key_a         TEXT NOT NULL,
    key_type_b    TEXT NOT NULL,
    key_b         TEXT NOT NULL,
    source        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (key_type_a, key_a, key_type_b, key_b)
) STRICT;

-- 1 unit of from_currency = rate units of to_currency on that day; rate is an exact decimal string.
CREATE TABLE fx_rates (
    day           TEXT NOT NULL,
    from_currency TEXT NOT NULL,
    to_currency   TEXT NOT NULL,
    rate          TEXT NOT NULL,
    source        TEXT NOT NULL,
    PRIMARY KEY (day, from_currency, to_currency)
) STRICT;

-- One execution of one attribution model over the store as of input_watermark.
-- parameters is canonical JSON; a run with the same model, parameters and watermark is reused.
CREATE TABLE attribution_runs (
    run_id              INTEGER PRIMARY KEY,
    model               TEXT NOT NULL,
    parameters          TEXT NOT NULL,
    lookback_days       INTEGER NOT NULL,
    settlement_days     INTEGER NOT NULL,
    reporting_currency  TEXT NOT NULL,
    input_watermark     TEXT NOT NULL,
    started_at_ms       INTEGER NOT NULL,
    finished_at_ms      INTEGER,
    status              TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', 'failed')),
    error               TEXT
) STRICT;

-- Every order a run looked at, and what became of it: attributed, unattributed, or
-- not convertible (no fx rate). net_minor is in the run's reporting currency.
CREATE TABLE run_orders (
    run_id        INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    order_id      TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('attributed', 'unattributed', 'missing_fx')),
    net_minor     INTEGER NOT NULL,
    provisional   INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    join_kind     TEXT,
    PRIMARY KEY (run_id, order_id)
) STRICT;

-- The share of one order's net revenue a touch earned in one run. share_ppb are parts per
-- billion and sum to exactly 1e9 per order; revenue_minor sums to exactly the order's net_minor.
CREATE TABLE credits (
    run_id         INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    order_id       TEXT NOT NULL,
    touch_id       TEXT NOT NULL,
    share_ppb      INTEGER NOT NULL,
    revenue_minor  INTEGER NOT NULL,
    join_kind      TEXT NOT NULL CHECK (join_kind IN ('deterministic', 'identity_graph', 'probabilistic')),
    confidence_ppm INTEGER NOT NULL DEFAULT 1000000,
    PRIMARY KEY (run_id, order_id, touch_id)
) STRICT;

-- Every change of the workspace's attribution settings. Append-only: the triggers below refuse
-- UPDATE and DELETE, so the log is a record a manager can trust.
CREATE TABLE model_changes (
    change_id         INTEGER PRIMARY KEY,
    changed_at_ms     INTEGER NOT NULL,
    changed_by        TEXT NOT NULL,
    from_model        TEXT,
    to_model          TEXT NOT NULL,
    parameters_before TEXT,
    parameters_after  TEXT NOT NULL,
    reason            TEXT NOT NULL
) STRICT;
CREATE TRIGGER model_changes_refuse_update BEFORE UPDATE ON model_changes
BEGIN
    SELECT RAISE(ABORT, 'model_changes is append-only');
END;
CREATE TRIGGER model_changes_refuse_delete BEFORE DELETE ON model_changes
BEGIN
    SELECT RAISE(ABORT, 'model_changes is append-only');
END;
