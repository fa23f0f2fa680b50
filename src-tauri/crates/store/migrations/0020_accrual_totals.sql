-- 0020: run totals per day of the credited touch (the accrual basis, see `basis.rs`), beside the
-- totals per order day: the same five groupings under `accrual_` names, each bucket the touch's
-- day in the run's reporting zone and the order's provisional flag. They make the accrual views
-- read a few thousand rows instead of joining every credit to its touch. SQLite cannot change a
-- CHECK in place, so the table is rebuilt with the new groupings allowed; its rows are copied
-- unchanged. Runs written before have no accrual totals and their accrual views use the exact
-- join.
CREATE TABLE run_credit_totals_new (
    run_id   INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    grouping TEXT NOT NULL CHECK (grouping IN (
        'channel', 'creator', 'campaign', 'content', 'campaign_creator',
        'accrual_channel', 'accrual_creator', 'accrual_campaign', 'accrual_content',
        'accrual_campaign_creator')),
    payload  BLOB NOT NULL,
    PRIMARY KEY (run_id, grouping)
) STRICT;
INSERT INTO run_credit_totals_new (run_id, grouping, payload)
    SELECT run_id, grouping, payload FROM run_credit_totals;
DROP TABLE run_credit_totals;
ALTER TABLE run_credit_totals_new RENAME TO run_credit_totals;
