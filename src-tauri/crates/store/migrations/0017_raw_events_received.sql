-- 0017: how many raw events each source received at each instant, kept as they land, replaces
-- the index raw_events_by_received (0012). Data health counts arrivals per source and 24-hour
-- window (`Store::daily_received_counts`); the index gave it that count at the price of an
-- entry per raw event (about 22 bytes each, a seventh of a busy workspace) and one more
-- B-tree insert per imported row. An import or a sync page stores all its events under one
-- arrival instant, so this table holds a row per import, page or delivery, not per event, and
-- answers exactly the same counts.
--
-- Who keeps it: like the totals of 0016, lookback-store's `WriteTx` counts the events it
-- appends and adds them here at commit; the delete trigger below takes out what erasure
-- deletes (the only deletion of raw events; an arrival never changes, 0016's trigger refuses
-- it). A count may reach 0 and stay as a row; readers sum, so such rows count nothing.
CREATE TABLE raw_events_received (
    received_at_ms INTEGER NOT NULL,
    source         TEXT NOT NULL,
    events         INTEGER NOT NULL,
    PRIMARY KEY (received_at_ms, source)
) STRICT, WITHOUT ROWID;

-- Backfill from the index, before it goes (it covers both columns).
INSERT INTO raw_events_received (received_at_ms, source, events)
    SELECT received_at_ms, source, COUNT(*) FROM raw_events INDEXED BY raw_events_by_received
    GROUP BY received_at_ms, source;

-- 0016 re-read a source's latest arrival from the index when erasure deleted it; it is read
-- from this table now (a scan of its rows, one per import or page, and only when the deleted
-- event was the latest of its source and the last one of its instant).
DROP TRIGGER raw_events_latest_delete;
CREATE TRIGGER raw_events_received_delete AFTER DELETE ON raw_events BEGIN
    UPDATE raw_events_received SET events = events - 1
        WHERE received_at_ms = OLD.received_at_ms AND source = OLD.source;
    UPDATE source_totals SET last_received_at_ms =
        (SELECT MAX(received_at_ms) FROM raw_events_received WHERE source = OLD.source AND events > 0)
        WHERE source = OLD.source AND last_received_at_ms <= OLD.received_at_ms
          AND NOT EXISTS (SELECT 1 FROM raw_events_received
                           WHERE received_at_ms = OLD.received_at_ms AND source = OLD.source AND events > 0);
END;

DROP INDEX raw_events_by_received;
