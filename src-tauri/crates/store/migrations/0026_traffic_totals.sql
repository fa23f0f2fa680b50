-- 0026: touches per source, channel, traffic class and family kept as touches land (issue 12),
-- so the traffic summary (`lookback traffic summary`, the window's traffic table) reads a few
-- hundred rows instead of grouping every touch and probing `touch_traffic` per group; and the
-- revenue a run credits per source, channel and class, kept per run once it is first asked for.
--
-- `family` is `touch_traffic.family` of the touch, or '' when the touch has no such row or its
-- family is NULL (a primary key of a WITHOUT ROWID table cannot hold NULL). Ids are those of
-- `touch_sources` and `touch_channels` (0024).
--
-- Who keeps them, as for 0016's totals: a touch enters only through lookback-store's `WriteTx`,
-- which counts the rows it inserts (class 0, no family yet) in memory and adds them here when
-- it commits, so an import's insert statements fire no trigger (a statement that fires one makes
-- SQLite keep a statement journal: 0016 measured the CSV import at half speed with insert
-- triggers). Everything after the insert is counted by the triggers below, whichever code makes
-- it: a re-classification (the class on `touch_rows`, the family in `touch_traffic`), erasure
-- and any other delete. Each adds signed amounts, never sets a value, so it commutes with what
-- the committing transaction adds later; a total may be below zero inside a transaction.
--
-- A touch's key is read where it is at the time: the class and ids from `touch_rows`, the
-- family from `touch_traffic`. A `touch_traffic` row for a touch not stored (none is written)
-- counts nothing. The delete trigger on `touch_rows` is BEFORE DELETE, so it sees the touch's
-- family before 0019's `touch_traffic_follows_touch` removes its row; that removal then finds
-- no touch and counts nothing.
CREATE TABLE traffic_totals (
    source_id     INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    traffic_class INTEGER NOT NULL,
    family        TEXT NOT NULL,
    touches       INTEGER NOT NULL,
    PRIMARY KEY (source_id, channel_id, traffic_class, family)
) STRICT, WITHOUT ROWID;

-- Backfill, once, from the touches as they are: every touch under no family, then the touches
-- with a family moved to it (one pass over touch_rows, one over touch_traffic).
INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
    SELECT source_id, channel_id, traffic_class, '', COUNT(*) FROM touch_rows
    GROUP BY source_id, channel_id, traffic_class;
INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
    SELECT source_id, channel_id, traffic_class, family, touches
    FROM (SELECT t.source_id, t.channel_id, t.traffic_class, f.family, COUNT(*) AS touches
            FROM touch_traffic f JOIN touch_rows t ON t.touch_id = f.touch_id
           WHERE f.family IS NOT NULL AND f.family <> ''
           GROUP BY t.source_id, t.channel_id, t.traffic_class, f.family
          UNION ALL
          SELECT t.source_id, t.channel_id, t.traffic_class, '', -COUNT(*)
            FROM touch_traffic f JOIN touch_rows t ON t.touch_id = f.touch_id
           WHERE f.family IS NOT NULL AND f.family <> ''
           GROUP BY t.source_id, t.channel_id, t.traffic_class)
    WHERE true
    ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;

-- touch_rows: a touch changing class (or, by any other path, source or channel) moves with its
-- family; a touch going out takes its count with it.
CREATE TRIGGER touch_rows_traffic_total_update AFTER UPDATE OF source_id, channel_id, traffic_class ON touch_rows
WHEN OLD.source_id IS NOT NEW.source_id OR OLD.channel_id IS NOT NEW.channel_id
  OR OLD.traffic_class IS NOT NEW.traffic_class BEGIN
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        VALUES (OLD.source_id, OLD.channel_id, OLD.traffic_class,
                COALESCE((SELECT family FROM touch_traffic WHERE touch_id = OLD.touch_id), ''), -1)
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        VALUES (NEW.source_id, NEW.channel_id, NEW.traffic_class,
                COALESCE((SELECT family FROM touch_traffic WHERE touch_id = NEW.touch_id), ''), 1)
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
END;
CREATE TRIGGER touch_rows_traffic_total_delete BEFORE DELETE ON touch_rows BEGIN
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        VALUES (OLD.source_id, OLD.channel_id, OLD.traffic_class,
                COALESCE((SELECT family FROM touch_traffic WHERE touch_id = OLD.touch_id), ''), -1)
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
END;

-- touch_traffic: a stored touch's family set, changed or cleared moves the touch between
-- families of its (source, channel, class).
CREATE TRIGGER touch_traffic_total_insert AFTER INSERT ON touch_traffic
WHEN COALESCE(NEW.family, '') <> '' BEGIN
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, '', -1 FROM touch_rows WHERE touch_id = NEW.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, NEW.family, 1 FROM touch_rows WHERE touch_id = NEW.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
END;
CREATE TRIGGER touch_traffic_total_update AFTER UPDATE OF touch_id, family ON touch_traffic
WHEN OLD.touch_id IS NOT NEW.touch_id OR COALESCE(OLD.family, '') <> COALESCE(NEW.family, '') BEGIN
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, COALESCE(OLD.family, ''), -1 FROM touch_rows WHERE touch_id = OLD.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, '', 1 FROM touch_rows WHERE touch_id = OLD.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, '', -1 FROM touch_rows WHERE touch_id = NEW.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, COALESCE(NEW.family, ''), 1 FROM touch_rows WHERE touch_id = NEW.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
END;
CREATE TRIGGER touch_traffic_total_delete AFTER DELETE ON touch_traffic
WHEN COALESCE(OLD.family, '') <> '' BEGIN
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, OLD.family, -1 FROM touch_rows WHERE touch_id = OLD.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
    INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
        SELECT source_id, channel_id, traffic_class, '', 1 FROM touch_rows WHERE touch_id = OLD.touch_id
        ON CONFLICT (source_id, channel_id, traffic_class, family) DO UPDATE SET touches = touches + excluded.touches;
END;

-- The revenue a run credited per source, channel and class of the credited touch (its
-- reporting currency, minor units), one row per run: written the first time the traffic
-- summary asks for that run (one join of its credits with their touches), read every time after.
-- A run's credits never change and a change of class marks the inputs changed, so a new run
-- (with its own row) replaces the old one in the summary; the row goes with its run. Runs
-- stored before this migration get theirs the same way, on first use.
-- `payload` is lines of `source_id channel_id traffic_class revenue_minor`.
CREATE TABLE run_traffic_credits (
    run_id  INTEGER PRIMARY KEY REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    payload TEXT NOT NULL
) STRICT;
