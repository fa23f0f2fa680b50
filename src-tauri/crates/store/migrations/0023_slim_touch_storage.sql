-- 0023: slimmer touch storage (issue 12).
--
-- `touches.raw_hash` (0021) kept the first 8 bytes of the latest payload's SHA-256 so that a
-- re-import could tell a duplicate without reading its block; it cost 9 bytes per touch (its
-- value and its header byte) and repeated what the block holds. Deduplication now hashes the
-- payload in the slot `raw_slot` points at (the writer keeps the last block it read, and a
-- re-import meets touches in the order they were first written, so it decodes each block about
-- once), and the column goes. Dropping a column rewrites every touch row: on 4M touches this
-- is the long step of the upgrade to this version, run like every upgrade in one transaction
-- with progress (`upgrade.rs`), so a stop leaves the file at its old version.
ALTER TABLE touches DROP COLUMN raw_hash;

-- Touches imported before 0021 keep their payloads as raw_events rows. `lookback compact`
-- moves them into blocks (`block_moves.rs`), walking the touch table by rowid behind a cursor:
-- touches with rowids in (cursor, end] may still point at rows. Only records of the CSV import
-- of touches move (what the writer puts in blocks); a workspace with none needs no pass, and
-- no setting.
CREATE TEMP TABLE touch_rows_to_move AS
    SELECT EXISTS (SELECT 1 FROM touches t JOIN raw_events r ON r.raw_event_id = t.raw_event_id
                   WHERE r.source = 'csv' AND r.stream = 'touches' AND r.external_id = t.touch_id) AS pending;
INSERT INTO workspace_settings (key, value)
    SELECT 'touch_rows_to_blocks_cursor', '0' WHERE (SELECT pending FROM temp.touch_rows_to_move)
    UNION ALL
    SELECT 'touch_rows_to_blocks_end', (SELECT CAST(MAX(rowid) AS TEXT) FROM touches)
    WHERE (SELECT pending FROM temp.touch_rows_to_move);
DROP TABLE temp.touch_rows_to_move;

-- The rewrite leaves the touch table's old pages free inside the file: `lookback compact`
-- gives them back (its VACUUM runs when this is set, as after a conversion).
INSERT INTO workspace_settings (key, value)
    SELECT 'raw_events_vacuum_pending', '1' WHERE EXISTS (SELECT 1 FROM touches)
    ON CONFLICT (key) DO UPDATE SET value = '1';
