-- 0006: what makes a view's provenance cheap. Like 0003, everything here is derived from the
-- canonical tables and the credits; deleting it changes no number, only speed.

-- The join kind of the orders a bucket counts, so credited revenue by join kind is a sum over a
-- few hundred bucket rows instead of a join of every credit to its order. It equals the credits'
-- join kind because a run written with view totals has every credit carry its order's join kind
-- (the run writer checks it) and every attributed order's credits sum to its net revenue.
ALTER TABLE run_order_buckets ADD COLUMN join_kind TEXT;

-- Whether the run's run_order_buckets carry the join kind above and that kind agrees with every
-- credit's (runs without it are read with the exact join).
ALTER TABLE attribution_runs ADD COLUMN has_view_totals INTEGER NOT NULL DEFAULT 0
    CHECK (has_view_totals IN (0, 1));

-- Runs written with report totals before this migration: mark those whose credits all carry
-- their order's join kind, and rebuild their buckets with it. One pass over those runs' credits,
-- once; a run that fails the check keeps its old buckets and is read with the exact join.
UPDATE attribution_runs SET has_view_totals = 1
WHERE has_report_totals = 1
  AND NOT EXISTS (SELECT 1 FROM credits c
                  JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
                  WHERE c.run_id = attribution_runs.run_id AND c.join_kind IS NOT ro.join_kind);

DELETE FROM run_order_buckets WHERE run_id IN (SELECT run_id FROM attribution_runs WHERE has_view_totals = 1);
INSERT INTO run_order_buckets (run_id, outcome, currency, day_start_ms, day_end_ms, provisional, orders, net_minor, join_kind)
SELECT run_id, outcome, CASE WHEN outcome = 'missing_fx' THEN order_currency END, day_start_ms, day_end_ms,
       provisional, COUNT(*), SUM(net_minor), join_kind
FROM run_orders
WHERE run_id IN (SELECT run_id FROM attribution_runs WHERE has_view_totals = 1)
GROUP BY run_id, outcome, 3, day_start_ms, day_end_ms, provisional, join_kind;
