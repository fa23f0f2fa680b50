-- 0021: raw payloads of bulk touch imports kept in compressed blocks (issue 12). A row of
-- raw_events costs ~140 bytes per touch (compressed payload, 32-byte hash, external id, source,
-- stream, arrival, row header) plus ~19 bytes of the external-id index; the same payloads
-- compressed together, thousands at a time, cost ~30. Only the CSV import of touches writes
-- blocks (`WriteTx::log_touch`); sync pages, webhooks and the other CSV kinds keep writing
-- raw_events rows (their volume is small). `raw_blocks.rs` is the only code that reads or
-- writes a block's frame; its header describes the frame's layout.
--
-- One block holds up to 8,192 consecutive raw events of one source and stream that arrived at
-- one instant in one write transaction: each slot's external id and payload bytes, framed and
-- compressed together with zstd. A slot is never moved or reused, so a pointer to it stays
-- valid; erasure rewrites the frame with the erased slots emptied, retention purge with the
-- payloads blanked.
--
-- `slots` is how many slots the frame holds, `events` how many of them erasure has not
-- deleted (the raw events the block counts for, in the totals of 0016 and the arrivals of
-- 0017, which the writer and erasure keep exactly as they do for rows).
CREATE TABLE raw_event_blocks (
    block_id           INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,
    stream             TEXT NOT NULL,
    received_at_ms     INTEGER NOT NULL,
    normalizer_version INTEGER NOT NULL,
    slots              INTEGER NOT NULL CHECK (slots > 0),
    events             INTEGER NOT NULL CHECK (events BETWEEN 0 AND slots),
    frame_zstd         BLOB NOT NULL
) STRICT;

-- Like a row's (0016), a block's source, stream and arrival never change: the totals rely on it.
CREATE TRIGGER raw_event_blocks_identity_fixed BEFORE UPDATE OF source, stream, received_at_ms ON raw_event_blocks
WHEN OLD.source IS NOT NEW.source OR OLD.stream IS NOT NEW.stream OR OLD.received_at_ms IS NOT NEW.received_at_ms BEGIN
    SELECT RAISE(ABORT, 'a raw event block''s source, stream and arrival never change');
END;

-- A touch whose payload is in a block points at its latest version: `raw_slot` is
-- block_id * 65536 + slot, and `raw_hash` the first 8 bytes of that payload's SHA-256 read as
-- a big-endian signed integer, which the next import of the same touch compares against (same
-- hash: a duplicate; another: a new version, appended to a block, and the pointer moves to
-- it). Both are NULL for a touch whose payload is a raw_events row (`raw_event_id`, which
-- stays NULL for blocked touches) or that has no payload. Each slot of a newer version names
-- the slot of the version before it, so every version of a record is reached from its touch.
ALTER TABLE touches ADD COLUMN raw_slot INTEGER;
ALTER TABLE touches ADD COLUMN raw_hash INTEGER;
