//! The day a credit counts on: its order's (cash basis, the default) or its touch's (accrual
//! basis). [`CreditBasis`] is the one place that decides which instant dates a credit; every
//! credit query selects and buckets by [`CreditBasis::time_sql`], so a view, its chart and its
//! CSV agree under either basis.
//!
//! Over the whole history both bases give the same totals (every credit counts once); over a
//! range they differ by the credits that cross its edges, which [`Store::basis_shift`] measures:
//! credits to touches in the range from orders after it, and credits of the range's orders to
//! touches before it. A journey's touches lie in `[order − lookback, order]` (core's journey
//! rule), so both are found from the orders within one lookback of the range's edges, through
//! `orders_by_time` and the credits' primary key — never a scan of every credit or touch.

use rusqlite::{OptionalExtension, params};

use crate::runs::credit_touch_join;
use crate::{JoinKind, RunOrderFilter, Store, StoreError, StoreResult};

/// Which instant dates a credit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CreditBasis {
    /// The credited order's instant: revenue counts when the sale happened.
    #[default]
    Cash,
    /// The credited touch's instant: revenue counts when the touch that earned it happened.
    Accrual,
}

impl CreditBasis {
    /// Both bases, cash first.
    pub const ALL: [CreditBasis; 2] = [CreditBasis::Cash, CreditBasis::Accrual];

    /// `cash` or `accrual`: the CLI's, CSV's and provenance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditBasis::Cash => "cash",
            CreditBasis::Accrual => "accrual",
        }
    }

    /// Parses `cash` or `accrual` (case-insensitive, surrounding blanks ignored).
    pub fn parse(text: &str) -> StoreResult<CreditBasis> {
        let wanted = text.trim().to_ascii_lowercase();
        CreditBasis::ALL
            .into_iter()
            .find(|b| b.as_str() == wanted)
            .ok_or_else(|| StoreError::InvalidValue {
                field: "basis",
                detail: format!("{text:?} is not a basis (cash or accrual)"),
            })
    }

    /// The instant of a credit under this basis, over `orders o` and `touches t`.
    pub(crate) fn time_sql(self) -> &'static str {
        match self {
            CreditBasis::Cash => "o.occurred_at_ms",
            CreditBasis::Accrual => "t.occurred_at_ms",
        }
    }

    /// The WHERE condition of [`RunOrderFilter`] over credits, with `?2`/`?3` the bounds and
    /// `?4` settled-only, over `orders o`, `touches t` and `run_orders ro`. Under cash it needs
    /// no touch; under accrual the query must join `touches t`.
    pub(crate) fn filter_sql(self) -> String {
        let at = self.time_sql();
        format!(
            "(?2 IS NULL OR {at} >= ?2) AND (?3 IS NULL OR {at} < ?3) AND (?4 = 0 OR ro.provisional = 0)"
        )
    }
}

impl std::fmt::Display for CreditBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the accrual basis moves a range's credited revenue from the cash basis: accrual =
/// cash + `from_later_orders_minor` − `to_earlier_touches_minor`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BasisShift {
    /// Credited revenue of orders after the range, earned by touches inside it (accrual counts
    /// it in the range, cash does not).
    pub from_later_orders_minor: i64,
    /// Credited revenue of orders inside the range, earned by touches before it (cash counts it
    /// in the range, accrual does not).
    pub to_earlier_touches_minor: i64,
}

/// Credits crossing one edge of a range, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrossingSums {
    pub revenue_minor: i64,
    /// The part of `revenue_minor` on provisional orders.
    pub provisional_revenue_minor: i64,
    /// `revenue_minor` by how the order was joined to its touches, by join kind.
    pub by_join_kind: Vec<(JoinKind, i64)>,
}

/// The credits crossing both edges of a range: what [`BasisShift`] sums, in detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasisCrossing {
    /// Orders after the range, credited to touches inside it.
    pub from_later_orders: CrossingSums,
    /// Orders inside the range, credited to touches before it.
    pub to_earlier_touches: CrossingSums,
}

impl BasisCrossing {
    /// The two revenues alone.
    pub fn in_brief(&self) -> BasisShift {
        BasisShift {
            from_later_orders_minor: self.from_later_orders.revenue_minor,
            to_earlier_touches_minor: self.to_earlier_touches.revenue_minor,
        }
    }
}

impl Store {
    /// The credits of run `run_id` that cross the edges of `filter`'s range (its basis is
    /// ignored: the crossing is between the two). Settled-only applies as everywhere. Nothing
    /// crosses an unbounded side.
    pub fn basis_shift(&self, run_id: i64, filter: &RunOrderFilter) -> StoreResult<BasisCrossing> {
        let lookback_days: Option<i64> = self
            .conn
            .prepare_cached("SELECT lookback_days FROM attribution_runs WHERE run_id = ?1")?
            .query_row(params![run_id], |row| row.get(0))
            .optional()?;
        let lookback_ms = lookback_days.unwrap_or(0).max(0) * 86_400_000;
        // Orders in [?2, ?3) (orders_by_time), their credits (primary key), the touch's instant
        // compared with ?4/?5.
        let crossing = |orders_from: i64,
                        orders_until: i64,
                        touch_from: Option<i64>,
                        touch_until: Option<i64>|
         -> StoreResult<CrossingSums> {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT c.join_kind, SUM(c.revenue_minor),
                        SUM(CASE WHEN ro.provisional = 1 THEN c.revenue_minor ELSE 0 END)
                     FROM orders o
                     JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = o.order_id
                     JOIN credits c ON c.run_id = ?1 AND c.order_id = o.order_id
                     JOIN touches t ON {credit_touch}
                     WHERE o.occurred_at_ms >= ?2 AND o.occurred_at_ms < ?3
                       AND (?4 IS NULL OR t.occurred_at_ms >= ?4) AND (?5 IS NULL OR t.occurred_at_ms < ?5)
                       AND (?6 = 0 OR ro.provisional = 0)
                     GROUP BY c.join_kind ORDER BY c.join_kind",
                credit_touch = credit_touch_join(&self.conn)?,
            ))?;
            let mut rows = statement.query(params![
                run_id,
                orders_from,
                orders_until,
                touch_from,
                touch_until,
                filter.settled_only
            ])?;
            let mut sums = CrossingSums::default();
            while let Some(row) = rows.next()? {
                let (kind, revenue, provisional): (JoinKind, i64, i64) =
                    (row.get(0)?, row.get(1)?, row.get(2)?);
                sums.revenue_minor += revenue;
                sums.provisional_revenue_minor += provisional;
                sums.by_join_kind.push((kind, revenue));
            }
            Ok(sums)
        };
        let mut shift = BasisCrossing::default();
        if let Some(until) = filter.until_at_ms {
            // Orders after the range whose touch is inside it: within one lookback of its end.
            shift.from_later_orders = crossing(
                until,
                until.saturating_add(lookback_ms).saturating_add(1),
                filter.from_at_ms,
                Some(until),
            )?;
        }
        if let Some(from) = filter.from_at_ms {
            // Orders inside the range whose touch is before it: within one lookback of its start.
            let orders_until = from.saturating_add(lookback_ms).saturating_add(1);
            shift.to_earlier_touches = crossing(
                from,
                filter
                    .until_at_ms
                    .map_or(orders_until, |u| u.min(orders_until)),
                None,
                Some(from),
            )?;
        }
        Ok(shift)
    }
}
