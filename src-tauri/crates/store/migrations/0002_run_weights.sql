-- 0002: the channel weights a data-driven run learned, so a report can show them without
-- re-learning (and so they are exactly the weights the run's credits were split by).
-- value is the model's raw figure: the Markov removal effect or the Shapley value;
-- weight is value normalized over the run's channels (sums to 1 when any value is positive).
CREATE TABLE run_channel_weights (
    run_id      INTEGER NOT NULL REFERENCES attribution_runs(run_id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    value       REAL NOT NULL,
    weight      REAL NOT NULL,
    conversions INTEGER NOT NULL,
    paths       INTEGER NOT NULL,
    PRIMARY KEY (run_id, channel)
) STRICT;
