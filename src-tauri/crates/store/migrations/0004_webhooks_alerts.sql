-- 0004: real time — webhook deliveries (the receiver's durable log and idempotency key),
-- references to webhook secrets in the OS keyring, alert rules and their notifications.

-- One row per accepted webhook or postback, keyed by the platform's event id. The UNIQUE
-- constraint is what makes five concurrent deliveries of one event store it once: the second
-- insert is a no-op and the receiver answers 2xx without writing anything else.
-- normalized_at_ms is NULL until the background normalizer has turned the raw event into
-- canonical rows (or a dead letter).
CREATE TABLE webhook_deliveries (
    delivery_id      INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    scheme           TEXT NOT NULL CHECK (scheme IN ('stripe', 'dub', 'generic', 'postback')),
    event_id         TEXT NOT NULL,
    stream           TEXT NOT NULL,
    raw_event_id     INTEGER REFERENCES raw_events(raw_event_id),
    received_at_ms   INTEGER NOT NULL,
    normalized_at_ms INTEGER,
    UNIQUE (source, event_id)
) STRICT;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (delivery_id) WHERE normalized_at_ms IS NULL;

-- Which keyring entries hold a source's webhook secrets (several at once during a rotation).
-- Only the keyring user name is stored here, never the secret.
CREATE TABLE webhook_secrets (
    secret_ref  TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    added_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_secrets_by_source ON webhook_secrets (source);

-- Alert rules a person wrote. threshold is in minor units (money kinds), minutes
-- (sync_failing) or a count (dead_letters). A removed rule keeps its row so that its
-- notifications keep their meaning.
CREATE TABLE alert_rules (
    rule_id             INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('creator_revenue', 'large_order', 'sync_failing', 'dead_letters')),
    subject             TEXT,
    threshold           INTEGER NOT NULL CHECK (threshold >= 0),
    currency            TEXT,
    include_provisional INTEGER NOT NULL DEFAULT 0 CHECK (include_provisional IN (0, 1)),
    grace_minutes       INTEGER NOT NULL DEFAULT 0 CHECK (grace_minutes >= 0),
    channel             TEXT NOT NULL CHECK (channel IN ('desktop', 'slack')),
    created_at_ms       INTEGER NOT NULL,
    removed_at_ms       INTEGER
) STRICT;

-- One notification per (rule, subject, window), written BEFORE it is sent: the UNIQUE key is
-- what keeps a retry or a restart from notifying twice. state: pending -> sent | failed.
CREATE TABLE alert_notifications (
    notification_id INTEGER PRIMARY KEY,
    rule_id         INTEGER NOT NULL REFERENCES alert_rules(rule_id),
    subject         TEXT NOT NULL,
    window_key      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    context         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error      TEXT,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    UNIQUE (rule_id, subject, window_key)
) STRICT;
CREATE INDEX alert_notifications_pending ON alert_notifications (next_attempt_at_ms) WHERE state = 'pending';
