-- 0015: a compact raw-event log (issue 12). The table stays `raw_events` (rows keep their ids,
-- so every raw_event_id pointing at them stays valid); the payload and its hash move to new
-- columns, and rows written before this migration stay readable as they are until
-- `Store::compact_raw_events` converts them (in short batches, so a kill leaves a valid file):
--
-- - old layout (payload_hash IS NULL): `payload` holds the text and `payload_sha256` its
--   SHA-256 as 64 hex digits;
-- - compact layout: `payload_hash` holds the 32-byte SHA-256 and `payload_sha256` is ''; the
--   payload is `payload_zstd` decompressed (with dictionary `dictionary_id`, none when NULL)
--   or, when compressing would not make it smaller (an empty payload, the placeholders purge
--   and erasure write), the text in `payload` with `payload_zstd` NULL.
--
-- Only `raw_payloads.rs` in the store reads or writes these columns.
-- zstd dictionaries, one per source and stream, trained from that stream's own payloads once
-- 1,000 of them exist. A dictionary is never changed (the trigger refuses it): every row
-- compressed with it must decode for ever. Erasure deletes one whose bytes quote an erased
-- person, after re-encoding the rows that used it; AUTOINCREMENT keeps its id from being
-- reused, so compaction can tell dictionaries trained since a pass began by their ids.
CREATE TABLE raw_payload_dictionaries (
    dictionary_id INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    stream        TEXT NOT NULL,
    trained_at_ms INTEGER NOT NULL,
    sample_rows   INTEGER NOT NULL,
    dictionary    BLOB NOT NULL,
    UNIQUE (source, stream)
) STRICT;
CREATE TRIGGER raw_payload_dictionaries_refuse_update BEFORE UPDATE ON raw_payload_dictionaries
BEGIN
    SELECT RAISE(ABORT, 'a raw payload dictionary never changes once written');
END;

ALTER TABLE raw_events ADD COLUMN payload_zstd BLOB;
ALTER TABLE raw_events ADD COLUMN payload_hash BLOB CHECK (payload_hash IS NULL OR length(payload_hash) = 32);
ALTER TABLE raw_events ADD COLUMN dictionary_id INTEGER REFERENCES raw_payload_dictionaries(dictionary_id);

-- Per source and stream, how many rows are not yet encoded with the stream's dictionary (old
-- layout rows, and rows written before the stream had one). Compaction reads it to decide,
-- without scanning raw_events, whether a stream is ready for training or has rows to re-encode.
-- Maintained by the writer at commit and by erasure; a complete pass of compaction sets it to 0
-- for every stream that had its dictionary when the pass began.
CREATE TABLE raw_payload_streams (
    source              TEXT NOT NULL,
    stream              TEXT NOT NULL,
    rows_without_dictionary INTEGER NOT NULL,
    PRIMARY KEY (source, stream)
) STRICT;
INSERT INTO raw_payload_streams (source, stream, rows_without_dictionary)
    SELECT source, stream, COUNT(*) FROM raw_events GROUP BY source, stream;

-- Where the conversion pass of `compact_raw_events` stands: rows with ids in
-- (cursor, end] may still need converting or re-encoding. Every row existing now does (an
-- empty log needs no pass, and no setting).
INSERT INTO workspace_settings (key, value)
    SELECT 'raw_events_compaction_cursor', '0' WHERE EXISTS (SELECT 1 FROM raw_events)
    UNION ALL
    SELECT 'raw_events_compaction_end', (SELECT CAST(MAX(raw_event_id) AS TEXT) FROM raw_events)
    WHERE EXISTS (SELECT 1 FROM raw_events);

-- The latest-version lookup of deduplication and `raw_event_versions` ask for one
-- (source, stream, external_id). External ids are nearly unique across streams already, so an
-- index of the external id alone finds the few candidate rows, and the query checks source and
-- stream on them; its entries are a third of the size of (source, stream, external_id)'s.
DROP INDEX raw_events_by_id;
CREATE INDEX raw_events_by_external_id ON raw_events (external_id);

-- Indexes no query uses go (each one kept is shown used by its query in `index_plans.rs`).
-- alert_notifications_pending: the due-notification read scans the table in id order, which
-- SQLite prefers to this index plus a sort; every other index of 0001-0014 is used.
DROP INDEX alert_notifications_pending;
