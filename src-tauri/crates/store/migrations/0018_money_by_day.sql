-- 0018: money per currency and time, kept as data lands (issue 13), so the overview's headline
-- can convert net revenue and ad spend into the reporting currency at each day's rate by
-- reading a few rows per day instead of every order and spend row.
--
-- * revenue_slots: order gross and counted refunds and chargebacks per currency and 15-minute
--   slot of UTC time (slot = floor(instant / 900000)). An order counts at its own instant; a
--   refund or chargeback at its order's instant, as a run converts it on its order's day, or at
--   its own while its order is not stored (an adjustment may arrive first). Every time zone in
--   use today is offset from UTC by a whole number of quarter hours, so every slot lies within
--   one day of any reporting zone: the overview sums the slots per day of the zone the
--   workspace reports in now, whichever that is, without a rebuild when it changes.
-- * ad_spend_days: ad spend per currency and day, the spend row's own day (its ad account's
--   zone), the day the views convert it on.
--
-- Kept the way 0016 keeps money_totals: lookback-store's `WriteTx` adds what it inserts when it
-- commits (an order inserted after its adjustments also moves them onto its instant), the
-- triggers below count every update and delete, each adding a signed amount, so the two
-- commute; `Store::recount_totals` counts the same from the base tables and the totals tests
-- compare the two. `rows` counts the rows summed, so a slot or day whose rows are all gone
-- (rows = 0) is known to be absent. Which adjustments count is 0016's predicate
-- (`COUNTED_ADJUSTMENT`), spelt out again over NEW / OLD.
CREATE TABLE revenue_slots (
    figure       TEXT NOT NULL CHECK (figure IN ('order', 'refund', 'chargeback')),
    currency     TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (figure, currency, slot)
) STRICT, WITHOUT ROWID;

-- The slot of an instant t is `t / 900000 - (t % 900000 < 0)`: rounding down also before 1970
-- (SQLite's `/` rounds toward zero).
INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
    SELECT 'order', currency, occurred_at_ms / 900000 - (occurred_at_ms % 900000 < 0), COUNT(*), SUM(gross_minor)
      FROM orders GROUP BY 1, 2, 3
    UNION ALL
    SELECT kind, currency, t / 900000 - (t % 900000 < 0), COUNT(*), SUM(amount_minor)
      FROM (SELECT a.kind, a.currency, a.amount_minor, COALESCE(o.occurred_at_ms, a.occurred_at_ms) AS t
              FROM order_adjustments a LEFT JOIN orders o ON o.order_id = a.order_id
             WHERE a.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented')))
     GROUP BY 1, 2, 3;

-- orders: a restated gross or currency; an order moved in time takes its counted adjustments
-- along; an order deleted (folded into another, erased) leaves its adjustments at their own
-- instants (a fold re-points them to the kept order first).
CREATE TRIGGER revenue_slots_order_update AFTER UPDATE OF gross_minor, currency, occurred_at_ms ON orders
WHEN OLD.gross_minor IS NOT NEW.gross_minor OR OLD.currency IS NOT NEW.currency OR OLD.occurred_at_ms IS NOT NEW.occurred_at_ms BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES ('order', OLD.currency, OLD.occurred_at_ms / 900000 - (OLD.occurred_at_ms % 900000 < 0), -1, -OLD.gross_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES ('order', NEW.currency, NEW.occurred_at_ms / 900000 - (NEW.occurred_at_ms % 900000 < 0), 1, NEW.gross_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER revenue_slots_order_moved AFTER UPDATE OF occurred_at_ms ON orders
WHEN OLD.occurred_at_ms IS NOT NEW.occurred_at_ms BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        SELECT kind, currency, OLD.occurred_at_ms / 900000 - (OLD.occurred_at_ms % 900000 < 0), -COUNT(*), -SUM(amount_minor)
          FROM order_adjustments a WHERE a.order_id = NEW.order_id AND a.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented'))
         GROUP BY kind, currency
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        SELECT kind, currency, NEW.occurred_at_ms / 900000 - (NEW.occurred_at_ms % 900000 < 0), COUNT(*), SUM(amount_minor)
          FROM order_adjustments a WHERE a.order_id = NEW.order_id AND a.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented'))
         GROUP BY kind, currency
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER revenue_slots_order_delete AFTER DELETE ON orders BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES ('order', OLD.currency, OLD.occurred_at_ms / 900000 - (OLD.occurred_at_ms % 900000 < 0), -1, -OLD.gross_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        SELECT kind, currency, OLD.occurred_at_ms / 900000 - (OLD.occurred_at_ms % 900000 < 0), -1, -amount_minor
          FROM order_adjustments a WHERE a.order_id = OLD.order_id AND a.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented'))
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        SELECT kind, currency, occurred_at_ms / 900000 - (occurred_at_ms % 900000 < 0), 1, amount_minor
          FROM order_adjustments a WHERE a.order_id = OLD.order_id AND a.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented'))
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

-- order_adjustments: a status change moves an adjustment out of the totals or into them; a
-- re-pointed one moves to its new order's instant.
CREATE TRIGGER revenue_slots_adjustment_update_old AFTER UPDATE OF kind, status, amount_minor, currency, occurred_at_ms, order_id ON order_adjustments
WHEN OLD.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (OLD.kind = 'chargeback' AND OLD.status IN ('won', 'prevented')) BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES (OLD.kind, OLD.currency, (SELECT t / 900000 - (t % 900000 < 0) FROM (SELECT COALESCE((SELECT occurred_at_ms FROM orders WHERE order_id = OLD.order_id), OLD.occurred_at_ms) AS t)), -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER revenue_slots_adjustment_update_new AFTER UPDATE OF kind, status, amount_minor, currency, occurred_at_ms, order_id ON order_adjustments
WHEN NEW.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (NEW.kind = 'chargeback' AND NEW.status IN ('won', 'prevented')) BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES (NEW.kind, NEW.currency, (SELECT t / 900000 - (t % 900000 < 0) FROM (SELECT COALESCE((SELECT occurred_at_ms FROM orders WHERE order_id = NEW.order_id), NEW.occurred_at_ms) AS t)), 1, NEW.amount_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER revenue_slots_adjustment_delete AFTER DELETE ON order_adjustments
WHEN OLD.status NOT IN ('failed', 'canceled', 'cancelled') AND NOT (OLD.kind = 'chargeback' AND OLD.status IN ('won', 'prevented')) BEGIN
    INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor)
        VALUES (OLD.kind, OLD.currency, (SELECT t / 900000 - (t % 900000 < 0) FROM (SELECT COALESCE((SELECT occurred_at_ms FROM orders WHERE order_id = OLD.order_id), OLD.occurred_at_ms) AS t)), -1, -OLD.amount_minor)
        ON CONFLICT (figure, currency, slot) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;

CREATE TABLE ad_spend_days (
    currency     TEXT NOT NULL,
    day          TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (currency, day)
) STRICT, WITHOUT ROWID;

INSERT INTO ad_spend_days (currency, day, rows, amount_minor)
    SELECT currency, day, COUNT(*), SUM(spend_minor) FROM ad_spend GROUP BY currency, day;

CREATE TRIGGER ad_spend_days_update AFTER UPDATE OF spend_minor, currency, day ON ad_spend
WHEN OLD.spend_minor IS NOT NEW.spend_minor OR OLD.currency IS NOT NEW.currency OR OLD.day IS NOT NEW.day BEGIN
    INSERT INTO ad_spend_days (currency, day, rows, amount_minor) VALUES (OLD.currency, OLD.day, -1, -OLD.spend_minor)
        ON CONFLICT (currency, day) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
    INSERT INTO ad_spend_days (currency, day, rows, amount_minor) VALUES (NEW.currency, NEW.day, 1, NEW.spend_minor)
        ON CONFLICT (currency, day) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
CREATE TRIGGER ad_spend_days_delete AFTER DELETE ON ad_spend BEGIN
    INSERT INTO ad_spend_days (currency, day, rows, amount_minor) VALUES (OLD.currency, OLD.day, -1, -OLD.spend_minor)
        ON CONFLICT (currency, day) DO UPDATE SET rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor;
END;
