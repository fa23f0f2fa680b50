-- 0016: whole-workspace totals kept as data lands, so the overview, each source's freshness and
-- the duplicate counts read a few dozen rows instead of scanning every touch, order and raw
-- event at open (issue 12). `Store::recount_totals` recounts them from the base tables: tests
-- and `lookback check` compare the two.
--
-- Who keeps them: rows enter the counted tables only through lookback-store's `WriteTx`, which
-- counts what it inserts in memory and adds it here when it commits. Updates and deletes are
-- counted by the triggers below, so every path that changes or removes rows (restatements,
-- status changes, spend restated, folded orders, resolved dead letters, erasure, a person with
-- a SQL shell) keeps the totals exact without knowing about them. Inserts are not counted by
-- triggers on purpose: a statement that fires a trigger makes SQLite keep a statement journal
-- (a copy of every page the statement changes), which halved the CSV import's speed.
--
-- Every trigger adds a signed amount (an upsert of -1 / -amount for a row going out), never
-- sets a value, so it commutes with what the committing transaction adds later: an order
-- inserted and restated in one sync page ends exact whichever is written first. Inside a
-- transaction a total may therefore be below zero for a while, so there is no CHECK (>= 0).
-- The one figure that is not a sum, a source's latest arrival, is a maximum on insert and is
-- read again from the index when its row is deleted; raw events are only ever deleted by
-- erasure, in a transaction of its own.
--
-- Which adjustments take money off revenue is the predicate `COUNTED_ADJUSTMENT` of
-- lookback-store's read.rs; the triggers of order_adjustments spell it out over NEW / OLD
-- (a trigger cannot call Rust). A change of that predicate needs a new migration that recreates
-- those triggers and rebuilds the refund and chargeback rows; the recount test fails until then.
--
-- Sums are checked: SQLite turns an overflowing integer sum into a REAL, which a STRICT INTEGER
-- column refuses, so an overflow fails the write instead of storing a wrong total.

-- Rows of the tables whose count the overview shows (orders are counted in money_totals).
CREATE TABLE table_rows (
    table_name TEXT PRIMARY KEY CHECK (table_name IN ('touches', 'creators', 'campaigns', 'content')),
    rows       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Money per figure and currency: 'order' sums orders' gross (every order, whatever its
-- status), 'refund' and 'chargeback' the counted adjustments of that kind, 'ad_spend' and
-- 'creator_cost' their tables. `rows` counts the rows summed, so a figure of a currency whose
-- rows are all gone (rows = 0) is known to be absent rather than zero.
CREATE TABLE money_totals (
    figure       TEXT NOT NULL CHECK (figure IN ('order', 'refund', 'chargeback', 'ad_spend', 'creator_cost')),
    currency     TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (figure, currency)
) STRICT, WITHOUT ROWID;

-- Per source name (raw_events.source and dead_letters.source, registered or not): raw events
-- stored (every version), distinct records among them (source, stream, external id), the
-- latest received_at_ms, and unresolved dead letters.
CREATE TABLE source_totals (
    source                  TEXT PRIMARY KEY,
    raw_events              INTEGER NOT NULL DEFAULT 0,
    raw_records             INTEGER NOT NULL DEFAULT 0,
    last_received_at_ms     INTEGER,
    unresolved_dead_letters INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- Backfill, once, from the data as it is.
INSERT INTO table_rows (table_name, rows) VALUES
    ('touches', (SELECT COUNT(*) FROM touches)),
    ('creators', (SELECT COUNT(*) FROM creators)),
    ('campaigns', (SELECT COUNT(*) FROM campaigns)),
    ('content', (SELECT COUNT(*) FROM content));

INSERT INTO money_totals (figure, currency, rows, amount_minor)
    SELECT 'order', currency, COUNT(*), SUM(gross_minor) FROM orders GROUP BY currency
    UNION ALL
    SELECT kind, currency, COUNT(*), SUM(amount_minor) FROM order_adjustments
     WHERE status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (kind = 'chargeback' AND status IN ('won', 'prevented'))
     GROUP BY kind, currency
    UNION ALL
    SELECT 'ad_spend', currency, COUNT(*), SUM(spend_minor) FROM ad_spend GROUP BY currency
    UNION ALL
    SELECT 'creator_cost', currency, COUNT(*), SUM(amount_minor) FROM creator_costs GROUP BY currency;

-- Versions and records per source from one pass over raw_events grouped by record (0015 keyed
-- the dedup index on external_id alone, so this pass sorts once); each source's latest arrival
-- then from the newest end of raw_events_by_received.
INSERT INTO source_totals (source, raw_events, raw_records, unresolved_dead_letters)
    SELECT source, SUM(raw_events), SUM(raw_records), SUM(unresolved)
    FROM (SELECT source, SUM(versions) AS raw_events, COUNT(*) AS raw_records, 0 AS unresolved
            FROM (SELECT source, COUNT(*) AS versions FROM raw_events GROUP BY source, stream, external_id)
           GROUP BY source
          UNION ALL
          SELECT source, 0, 0, COUNT(*) FROM dead_letters WHERE resolved_at_ms IS NULL GROUP BY source)
    GROUP BY source;
UPDATE source_totals SET last_received_at_ms =
    (SELECT received_at_ms FROM raw_events WHERE +source = source_totals.source ORDER BY received_at_ms DESC LIMIT 1);

-- touches, creators, campaigns, content: a row out. (Updating a row changes no count.)
CREATE TRIGGER touches_count_delete AFTER DELETE ON touches BEGIN
    UPDATE table_rows SET rows = rows - 1 WHERE table_name = 'touches';
END;
CREATE TRIGGER creators_count_delete AFTER DELETE ON creators BEGIN
    UPDATE table_rows SET rows = rows - 1 WHERE table_name = 'creators';
END;
CREATE TRIGGER campaigns_count_delete AFTER DELETE ON campaigns BEGIN
    UPDATE table_rows SET rows = rows - 1 WHERE table_name = 'campaigns';
END;
CREATE TRIGGER content_count_delete AFTER DELETE ON content BEGIN
    UPDATE table_rows SET rows = rows - 1 WHERE table_name = 'content';
END;

-- orders: gross per currency. A restatement changes gross or currency; a status change
-- changes neither (every order's gross counts, whatever its status); folding two orders into
-- one deletes the other.
CREATE TRIGGER orders_total_update AFTER UPDATE OF gross_minor, currency ON orders
WHEN OLD.gross_minor IS NOT NEW.gross_minor OR OLD.currency IS NOT NEW.currency BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('order', OLD.currency, -1, -OLD.gross_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('order', NEW.currency, 1, NEW.gross_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER orders_total_delete AFTER DELETE ON orders BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('order', OLD.currency, -1, -OLD.gross_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

-- order_adjustments: counted refunds and chargebacks per kind and currency. A status change
-- moves an adjustment out of the totals (a refund that failed, a chargeback won) or into them.
CREATE TRIGGER order_adjustments_total_update_old AFTER UPDATE OF kind, status, amount_minor, currency ON order_adjustments
WHEN OLD.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (OLD.kind = 'chargeback' AND OLD.status IN ('won', 'prevented')) BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES (OLD.kind, OLD.currency, -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER order_adjustments_total_update_new AFTER UPDATE OF kind, status, amount_minor, currency ON order_adjustments
WHEN NEW.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (NEW.kind = 'chargeback' AND NEW.status IN ('won', 'prevented')) BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES (NEW.kind, NEW.currency, 1, NEW.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER order_adjustments_total_delete AFTER DELETE ON order_adjustments
WHEN OLD.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (OLD.kind = 'chargeback' AND OLD.status IN ('won', 'prevented')) BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES (OLD.kind, OLD.currency, -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

-- ad_spend: a restated day replaces its row, so the old amount goes out and the new one in.
CREATE TRIGGER ad_spend_total_update AFTER UPDATE OF spend_minor, currency ON ad_spend
WHEN OLD.spend_minor IS NOT NEW.spend_minor OR OLD.currency IS NOT NEW.currency BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('ad_spend', OLD.currency, -1, -OLD.spend_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('ad_spend', NEW.currency, 1, NEW.spend_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER ad_spend_total_delete AFTER DELETE ON ad_spend BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('ad_spend', OLD.currency, -1, -OLD.spend_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

-- creator_costs: a voided commission is deleted.
CREATE TRIGGER creator_costs_total_update AFTER UPDATE OF amount_minor, currency ON creator_costs
WHEN OLD.amount_minor IS NOT NEW.amount_minor OR OLD.currency IS NOT NEW.currency BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('creator_cost', OLD.currency, -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('creator_cost', NEW.currency, 1, NEW.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER creator_costs_total_delete AFTER DELETE ON creator_costs BEGIN
    INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES ('creator_cost', OLD.currency, -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

-- raw_events: only erasure deletes raw events. The record is gone with its last version, and
-- when the source's latest arrival goes, its latest is read again, newest first, from
-- raw_events_by_received (rare, and it stops at the source's first row). A row's source,
-- stream, id and arrival never change (the log is append-only; only payloads are rewritten) and
-- the totals rely on it, so such an update is refused.
CREATE TRIGGER raw_events_total_delete AFTER DELETE ON raw_events BEGIN
    INSERT INTO source_totals (source, raw_events, raw_records)
        VALUES (OLD.source, -1,
                -(NOT EXISTS (SELECT 1 FROM raw_events
                               WHERE source = OLD.source AND stream = OLD.stream AND external_id = OLD.external_id)))
        ON CONFLICT (source) DO UPDATE SET
            raw_events = raw_events + excluded.raw_events, raw_records = raw_records + excluded.raw_records;
END;
CREATE TRIGGER raw_events_latest_delete AFTER DELETE ON raw_events
WHEN OLD.received_at_ms >= (SELECT last_received_at_ms FROM source_totals WHERE source = OLD.source) BEGIN
    UPDATE source_totals SET last_received_at_ms =
        (SELECT received_at_ms FROM raw_events WHERE +source = OLD.source ORDER BY received_at_ms DESC LIMIT 1)
        WHERE source = OLD.source;
END;
CREATE TRIGGER raw_events_identity_fixed BEFORE UPDATE OF source, stream, external_id, received_at_ms ON raw_events
WHEN OLD.source IS NOT NEW.source OR OLD.stream IS NOT NEW.stream OR OLD.external_id IS NOT NEW.external_id
  OR OLD.received_at_ms IS NOT NEW.received_at_ms BEGIN
    SELECT RAISE(ABORT, 'a raw event''s source, stream, external id and arrival never change');
END;

-- dead_letters: unresolved ones per source. Resolving one takes it out (reopening one puts it
-- back); erasure deletes some.
CREATE TRIGGER dead_letters_total_update_old AFTER UPDATE OF resolved_at_ms, source ON dead_letters
WHEN OLD.resolved_at_ms IS NULL BEGIN
    INSERT INTO source_totals (source, unresolved_dead_letters) VALUES (OLD.source, -1)
        ON CONFLICT (source) DO UPDATE SET unresolved_dead_letters = unresolved_dead_letters + excluded.unresolved_dead_letters;
END;
CREATE TRIGGER dead_letters_total_update_new AFTER UPDATE OF resolved_at_ms, source ON dead_letters
WHEN NEW.resolved_at_ms IS NULL BEGIN
    INSERT INTO source_totals (source, unresolved_dead_letters) VALUES (NEW.source, 1)
        ON CONFLICT (source) DO UPDATE SET unresolved_dead_letters = unresolved_dead_letters + excluded.unresolved_dead_letters;
END;
CREATE TRIGGER dead_letters_total_delete AFTER DELETE ON dead_letters WHEN OLD.resolved_at_ms IS NULL BEGIN
    INSERT INTO source_totals (source, unresolved_dead_letters) VALUES (OLD.source, -1)
        ON CONFLICT (source) DO UPDATE SET unresolved_dead_letters = unresolved_dead_letters + excluded.unresolved_dead_letters;
END;
