-- 0024: a touch's e-mail hash as its 32 bytes (issue 12).
--
-- `touches.email_sha256` held the SHA-256 of the normalized e-mail as 64 lowercase hex digits
-- (65 bytes a row with its header byte); the same hash as a blob takes 33. The stored column
-- is now `email_hash`: the 32 bytes when the value is 64 lowercase hex digits (every hash the
-- import and the identity rules make), else the text as it came (a sync source's value that is
-- not such a hash stays exactly what it was). `email_sha256` stays readable under its old name
-- as a virtual generated column — computed when read, never stored — so every reader keeps its
-- SQL and sees the same text as before. Writers write `email_hash` (`write.rs` applies the
-- same rule as the UPDATE below).
--
-- The UPDATE and the DROP COLUMN each rewrite every touch row: on 4M touches this is the long
-- step of the upgrade to this version, run like every upgrade in one transaction with progress
-- (`upgrade.rs`), so a stop leaves the file at its old version.
ALTER TABLE touches ADD COLUMN email_hash ANY;
UPDATE touches
SET email_hash = CASE
        WHEN length(email_sha256) = 64 AND email_sha256 NOT GLOB '*[^0-9a-f]*' THEN unhex(email_sha256)
        ELSE email_sha256
    END
WHERE email_sha256 IS NOT NULL;
ALTER TABLE touches DROP COLUMN email_sha256;
ALTER TABLE touches ADD COLUMN email_sha256 TEXT GENERATED ALWAYS AS (
    CASE WHEN typeof(email_hash) = 'blob' THEN lower(hex(email_hash)) ELSE email_hash END
) VIRTUAL;

-- The rewrite leaves the touch table's old pages free inside the file: `lookback compact`
-- gives them back (its VACUUM runs when this is set).
INSERT INTO workspace_settings (key, value)
    SELECT 'raw_events_vacuum_pending', '1' WHERE EXISTS (SELECT 1 FROM touches)
    ON CONFLICT (key) DO UPDATE SET value = '1';
