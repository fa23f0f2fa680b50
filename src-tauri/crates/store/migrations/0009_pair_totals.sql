-- 0009: run totals per (campaign, creator) pair, from which the platform view is read: a
-- touch's platform is its campaign's, else its creator's, so the view maps each pair to its
-- platform with the campaigns and creators as they are when it reads (see
-- `Store::view_credit_buckets_from_totals`). SQLite cannot change a CHECK in place, so the table
-- is rebuilt with the new grouping allowed; its rows are copied unchanged. Runs written before
-- have no pair totals and their platform views keep using the exact join.
CREATE TABLE run_credit_totals_new (
    run_id   INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    grouping TEXT NOT NULL CHECK (grouping IN ('channel', 'creator', 'campaign', 'content', 'campaign_creator')),
    payload  BLOB NOT NULL,
    PRIMARY KEY (run_id, grouping)
) STRICT;
INSERT INTO run_credit_totals_new (run_id, grouping, payload)
    SELECT run_id, grouping, payload FROM run_credit_totals;
DROP TABLE run_credit_totals;
ALTER TABLE run_credit_totals_new RENAME TO run_credit_totals;
