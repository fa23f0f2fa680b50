-- 0019: who is behind each touch (issue 15): a person, or a bot, a link preview, an e-mail
-- scanner or a prefetch. Classified at ingest from signals read before the payload is
-- minimized (lookback-core `traffic`), and again, from the kept signals and the canonical rows,
-- whenever the workspace adopts a new rule set.
--
-- The class sits on the touch (0 human, 1 suspicious, 2 bot), so a view can leave touches out
-- by class without a join; every touch written before this migration is human until a rule
-- set re-classifies it. Adding a column with a constant default rewrites nothing.
ALTER TABLE touches ADD COLUMN traffic_class INTEGER NOT NULL DEFAULT 0 CHECK (traffic_class IN (0, 1, 2));

-- The rule and signals behind a touch's class, for touches a rule matched or whose signals say
-- something a later rule set could read (a user-agent family, a platform verdict, a prefetch,
-- missing browser headers). A human touch from a browser that sent every header has no row.
-- `signals` is JSON with nothing personal in it (`TrafficSignals::to_json`): the user agent is
-- kept only as the name of its family.
CREATE TABLE touch_traffic (
    touch_id      TEXT PRIMARY KEY,
    rules_version INTEGER NOT NULL,
    rule          TEXT,
    family        TEXT,
    score         REAL NOT NULL,
    signals       TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Every rule set the workspace adopted, in order; the latest is in force. A workspace with no
-- row uses the built-in set as version 1. Append-only like model_changes: a change of rules
-- changes credit as much as a change of model, and is logged as one (who, when, why).
CREATE TABLE traffic_rule_sets (
    version       INTEGER PRIMARY KEY,
    rules         TEXT NOT NULL,
    adopted_at_ms INTEGER NOT NULL,
    adopted_by    TEXT NOT NULL,
    reason        TEXT NOT NULL
) STRICT;
CREATE TRIGGER traffic_rule_sets_refuse_update BEFORE UPDATE ON traffic_rule_sets
BEGIN
    SELECT RAISE(ABORT, 'traffic_rule_sets is append-only');
END;
CREATE TRIGGER traffic_rule_sets_refuse_delete BEFORE DELETE ON traffic_rule_sets
BEGIN
    SELECT RAISE(ABORT, 'traffic_rule_sets is append-only');
END;

-- A touch that goes (erasure is the only deletion) takes its classification with it.
CREATE TRIGGER touch_traffic_follows_touch AFTER DELETE ON touches BEGIN
    DELETE FROM touch_traffic WHERE touch_id = OLD.touch_id;
END;

-- A webhook delivery's payload is minimized when it arrives, before its touch is normalized:
-- what its request said that classifies the touch (user-agent family, verdict, header flags;
-- nothing personal) is kept with the delivery for the normalizer.
ALTER TABLE webhook_deliveries ADD COLUMN traffic_signals TEXT;
