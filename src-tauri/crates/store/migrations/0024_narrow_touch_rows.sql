-- 0024: a narrower touch row (issue 12).
--
-- The touch table becomes `touch_rows`, and `touches` a view of it under the old name, with the
-- old columns in their old order, so readers keep their SQL. Writers write `touch_rows`
-- (a view refuses writes). The row changes in two ways:
--
-- * Channel, source and touch type are integer ids into three small dictionaries
--   (`touch_channels`, `touch_sources`, `touch_types`; a few hundred names at most) instead of
--   their text on every row. The view reads the names back through scalar subqueries (which,
--   unlike joins, keep the view flattenable: `MIN(occurred_at_ms) FROM touches` is still one
--   step into `touches_by_time`); readers of every touch read the ids and map them in memory.
-- * The e-mail hash is `email_hash` (type ANY): the SHA-256's 32 bytes when the value is 64
--   lowercase hex digits (every hash the import and the identity rules make), else the text as
--   it came (a sync source's value that is not such a hash stays exactly what it was).
--   `email_sha256` stays readable as a virtual generated column — computed when read, never
--   stored — giving the same text as before. `write.rs` applies the same rule as the UPDATE
--   below.
--
-- The UPDATE and the DROP COLUMNs rewrite every touch row: on 4M touches this is the long step
-- of the upgrade to this version, run like every upgrade in one transaction with progress
-- (`upgrade.rs`), so a stop leaves the file at its old version. The indexes and the delete
-- triggers of 0016 and 0019 follow the table through the rename.
CREATE TABLE touch_channels (channel_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
CREATE TABLE touch_sources (source_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
CREATE TABLE touch_types (touch_type_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
INSERT INTO touch_channels (name) SELECT DISTINCT channel FROM touches ORDER BY channel;
INSERT INTO touch_sources (name) SELECT DISTINCT source FROM touches ORDER BY source;
INSERT INTO touch_types (name) SELECT DISTINCT touch_type FROM touches ORDER BY touch_type;

ALTER TABLE touches RENAME TO touch_rows;
ALTER TABLE touch_rows ADD COLUMN source_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE touch_rows ADD COLUMN channel_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE touch_rows ADD COLUMN touch_type_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE touch_rows ADD COLUMN email_hash ANY;
UPDATE touch_rows SET
    source_id = (SELECT source_id FROM touch_sources WHERE name = source),
    channel_id = (SELECT channel_id FROM touch_channels WHERE name = channel),
    touch_type_id = (SELECT touch_type_id FROM touch_types WHERE name = touch_type),
    email_hash = CASE
        WHEN length(email_sha256) = 64 AND email_sha256 NOT GLOB '*[^0-9a-f]*' THEN unhex(email_sha256)
        ELSE email_sha256
    END;
ALTER TABLE touch_rows DROP COLUMN source;
ALTER TABLE touch_rows DROP COLUMN channel;
ALTER TABLE touch_rows DROP COLUMN touch_type;
ALTER TABLE touch_rows DROP COLUMN email_sha256;
ALTER TABLE touch_rows ADD COLUMN email_sha256 TEXT GENERATED ALWAYS AS (
    CASE WHEN typeof(email_hash) = 'blob' THEN lower(hex(email_hash)) ELSE email_hash END
) VIRTUAL;

CREATE VIEW touches AS
SELECT touch_rows.rowid AS rowid, touch_id,
       (SELECT name FROM touch_sources WHERE source_id = touch_rows.source_id) AS source,
       occurred_at_ms,
       (SELECT name FROM touch_channels WHERE channel_id = touch_rows.channel_id) AS channel,
       (SELECT name FROM touch_types WHERE touch_type_id = touch_rows.touch_type_id) AS touch_type,
       creator_id, campaign_id, ad_id, content_id, click_id, person_id, anonymous_id,
       email_sha256, customer_id, device_id, raw_event_id, traffic_class, raw_slot
FROM touch_rows;

-- The rewrite leaves the touch table's old pages free inside the file: `lookback compact`
-- gives them back (its VACUUM runs when this is set).
INSERT INTO workspace_settings (key, value)
    SELECT 'raw_events_vacuum_pending', '1' WHERE EXISTS (SELECT 1 FROM touch_rows)
    ON CONFLICT (key) DO UPDATE SET value = '1';
