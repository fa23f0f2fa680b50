-- 0005: the erasure audit log of the privacy controls (issue #7). It records that an erasure
-- happened and what it removed, never who was erased: `marker` is SHA-256 over a random salt
-- that is shown once to the person who ran the erasure and never stored, followed by the key.
-- Without that receipt the marker cannot be tied to anyone; with it, the team can prove later
-- which request an entry answered. Append-only, like model_changes.
CREATE TABLE erasure_log (
    erasure_id          INTEGER PRIMARY KEY,
    erased_at_ms        INTEGER NOT NULL,
    requested_key_type  TEXT NOT NULL,
    marker              TEXT NOT NULL,
    keys_resolved       INTEGER NOT NULL,
    touches_deleted     INTEGER NOT NULL,
    orders_anonymized   INTEGER NOT NULL,
    identity_links_deleted INTEGER NOT NULL,
    raw_events_deleted  INTEGER NOT NULL,
    dead_letters_deleted INTEGER NOT NULL,
    runs_deleted        INTEGER NOT NULL
) STRICT;

CREATE TRIGGER erasure_log_refuse_update BEFORE UPDATE ON erasure_log
BEGIN
    SELECT RAISE(ABORT, 'erasure_log is append-only');
END;

CREATE TRIGGER erasure_log_refuse_delete BEFORE DELETE ON erasure_log
BEGIN
    SELECT RAISE(ABORT, 'erasure_log is append-only');
END;
