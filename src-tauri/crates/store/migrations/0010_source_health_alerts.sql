-- 0010: alert rules on a source's data health (`source_health`: the source turns stale or
-- failing, or its volume drops; see lookback-alerts). SQLite cannot change the CHECK of
-- alert_rules.kind in place, so the table is rebuilt: its rows are kept aside, the old table
-- dropped and the new one renamed into its place, then the rows put back. alert_notifications
-- refers to alert_rules; deferring foreign-key checks to the commit lets the rows be missing in
-- between, and the commit checks that every notification has its rule again.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE alert_rules_kept AS SELECT * FROM alert_rules;
CREATE TABLE alert_rules_new (
    rule_id             INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('creator_revenue', 'large_order', 'sync_failing', 'dead_letters', 'source_health')),
    subject             TEXT,
    threshold           INTEGER NOT NULL CHECK (threshold >= 0),
    currency            TEXT,
    include_provisional INTEGER NOT NULL DEFAULT 0 CHECK (include_provisional IN (0, 1)),
    grace_minutes       INTEGER NOT NULL DEFAULT 0 CHECK (grace_minutes >= 0),
    channel             TEXT NOT NULL CHECK (channel IN ('desktop', 'slack')),
    created_at_ms       INTEGER NOT NULL,
    removed_at_ms       INTEGER
) STRICT;
DROP TABLE alert_rules;
ALTER TABLE alert_rules_new RENAME TO alert_rules;
INSERT INTO alert_rules SELECT * FROM temp.alert_rules_kept;
DROP TABLE temp.alert_rules_kept;
