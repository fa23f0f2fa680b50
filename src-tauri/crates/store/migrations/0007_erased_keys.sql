-- 0007: the suppression list of erased people (issue #7). After `privacy erase`, a platform that
-- still holds the person would bring them back with the next sync or import; instead, every
-- touch, order and identity link written afterwards is checked against this list (see
-- `WriteTx::insert_touch`). Only salted hashes are kept: SHA-256 over a per-workspace random
-- salt (workspace_settings `erased_key_salt`), the key type and the value. They differ from the
-- plain SHA-256 used for e-mails everywhere else, so the erased person's e-mail hash appears
-- nowhere in the file, and without the salt a value cannot be tested against the list.
CREATE TABLE erased_keys (
    key_hash      TEXT PRIMARY KEY,
    erased_at_ms  INTEGER NOT NULL
) STRICT;
