-- 0025: the first and last touch instants kept as touches land, instead of the time index
-- `touches_by_time` (issue 12: ~16 bytes per touch).
--
-- The index had two readers. The activity span (the overview's "data from … to …", the range
-- pickers' bounds) took one step into each end of it; it now reads this one-row table. The
-- event-level export of touches in time order sorts instead (it writes every row anyway).
--
-- Who keeps it: `WriteTx` widens the span by the instants it inserted when it commits (like
-- the counts of 0016, without a trigger on insert: a trigger makes SQLite keep a statement
-- journal, which slowed the import). Touches are never moved in time (no writer updates
-- `occurred_at_ms`). A delete of a touch at either end (erasure, or a person with a SQL shell)
-- cannot know the next one without a scan, so the trigger below only marks the span as not
-- exact; readers then take MIN and MAX from the rows, and erasure recounts it in its own
-- transaction. `Store::recount_totals` recounts it: tests and `lookback check` compare.
CREATE TABLE touch_time_span (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    first_at_ms INTEGER,
    last_at_ms  INTEGER,
    -- 1 while first/last are the touches' own MIN/MAX (both NULL with no touches); 0 after a
    -- delete took a touch at an end.
    exact       INTEGER NOT NULL CHECK (exact IN (0, 1))
) STRICT;

-- Backfill, once: two steps into the index before it goes.
INSERT INTO touch_time_span (one, first_at_ms, last_at_ms, exact)
    VALUES (1, (SELECT MIN(occurred_at_ms) FROM touch_rows), (SELECT MAX(occurred_at_ms) FROM touch_rows), 1);

CREATE TRIGGER touch_time_span_edge_delete AFTER DELETE ON touch_rows
WHEN OLD.occurred_at_ms <= (SELECT first_at_ms FROM touch_time_span WHERE one = 1)
  OR OLD.occurred_at_ms >= (SELECT last_at_ms FROM touch_time_span WHERE one = 1) BEGIN
    UPDATE touch_time_span SET exact = 0 WHERE one = 1;
END;

DROP INDEX touches_by_time;

-- The index's pages are free inside the file: `lookback compact` gives them back.
INSERT INTO workspace_settings (key, value)
    SELECT 'raw_events_vacuum_pending', '1' WHERE EXISTS (SELECT 1 FROM touch_rows)
    ON CONFLICT (key) DO UPDATE SET value = '1';
