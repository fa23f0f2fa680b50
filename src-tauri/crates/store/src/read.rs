//! Reads: the workspace overview (from the maintained totals of `totals`), each source's
//! freshness, streaming loaders for attribution, plain listings of every table, and row counts.
//!
//! Which adjustments count against revenue is decided here, once, by [`COUNTED_ADJUSTMENT`]:
//! refunds that did not fail or get cancelled, and chargebacks the merchant has not won and
//! that were not prevented (a dispute stopped before it became a chargeback). Every
//! sum of refunds or chargebacks in this crate uses that predicate, so the overview and the
//! attribution loaders agree.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, Row, params};

use crate::raw_blocks::{ArrivalMerge, blocked_versions};
use crate::raw_payloads::{
    PayloadDecoder, STORED_HASH_COLUMNS, STORED_PAYLOAD_COLUMNS, StoredPayload, stored_hash,
};
use crate::totals::SourceTotal;
use crate::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, DeadLetter, FxRate,
    IdentityKey, IdentityKeys, IdentityLink, MoneyFigure, Order, OrderAdjustment, RawEvent, Source,
    Store, StoreResult, SyncCheckpoint, Touch,
};

/// SQL predicate over `order_adjustments` rows: true for the ones that reduce revenue.
pub const COUNTED_ADJUSTMENT: &str = "(status NOT IN ('failed', 'canceled', 'cancelled') \
     AND NOT (kind = 'chargeback' AND status IN ('won', 'prevented')))";

/// Revenue of one currency, in minor units of that currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrencyRevenue {
    pub currency: String,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub chargebacks_minor: i64,
    /// gross − refunds − chargebacks.
    pub net_minor: i64,
}

/// An amount of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyAmount {
    pub currency: String,
    pub amount_minor: i64,
}

/// How fresh one source's data is. `kind` and `name` are `None` for raw events whose source
/// has no `sources` row (a CSV import that registered none, say) so those are not hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFreshness {
    pub source_id: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub last_attempt_at_ms: Option<i64>,
    pub last_success_at_ms: Option<i64>,
    pub last_error: Option<String>,
    /// The platform refused the credential at this instant and the source needs reconnecting
    /// (see `SourceCredential`); `None` while it works.
    pub needs_reconnect_since_ms: Option<i64>,
    pub raw_event_count: u64,
    pub last_received_at_ms: Option<i64>,
}

/// The numbers on the workspace's first screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub order_count: u64,
    /// Per currency of the orders and adjustments, sorted by currency code.
    pub revenue: Vec<CurrencyRevenue>,
    pub ad_spend: Vec<CurrencyAmount>,
    pub creator_costs: Vec<CurrencyAmount>,
    pub touch_count: u64,
    pub creator_count: u64,
    pub campaign_count: u64,
    pub content_count: u64,
    /// Earliest and latest `occurred_at_ms` over orders and touches.
    pub first_activity_at_ms: Option<i64>,
    pub last_activity_at_ms: Option<i64>,
    pub unresolved_dead_letters: u64,
    /// Sorted by source id.
    pub sources: Vec<SourceFreshness>,
}

/// An order with its counted adjustments summed, as attribution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderWithAdjustments {
    pub order: Order,
    /// Counted refunds in the order's currency.
    pub refunds_minor: i64,
    /// Counted chargebacks in the order's currency.
    pub chargebacks_minor: i64,
    /// Whether a chargeback is still `open`: the order is disputed, so not settled.
    pub disputed: bool,
    /// Counted adjustments booked in another currency than the order's. Rare, and kept apart
    /// rather than summed into a different currency.
    pub foreign_currency_adjustments: Vec<(AdjustmentKind, CurrencyAmount)>,
}

/// How much of each order [`Store::for_each_order_with_adjustments`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDetail {
    /// Every column.
    Full,
    /// What revenue needs: the id, instant, gross amount and currency. `source` and `status`
    /// are left empty, `click_id`, `raw_event_id` and the identity keys `None`.
    Revenue,
}

/// Every table of the schema, for [`Store::row_count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    WorkspaceSettings,
    Sources,
    SyncCheckpoints,
    RawEvents,
    DeadLetters,
    Creators,
    Campaigns,
    Content,
    Touches,
    Orders,
    OrderAdjustments,
    AdSpend,
    CreatorCosts,
    IdentityLinks,
    FxRates,
    AttributionRuns,
    RunOrders,
    Credits,
    ModelChanges,
}

impl Table {
    pub const ALL: &'static [Table] = &[
        Table::WorkspaceSettings,
        Table::Sources,
        Table::SyncCheckpoints,
        Table::RawEvents,
        Table::DeadLetters,
        Table::Creators,
        Table::Campaigns,
        Table::Content,
        Table::Touches,
        Table::Orders,
        Table::OrderAdjustments,
        Table::AdSpend,
        Table::CreatorCosts,
        Table::IdentityLinks,
        Table::FxRates,
        Table::AttributionRuns,
        Table::RunOrders,
        Table::Credits,
        Table::ModelChanges,
    ];

    /// The table's name in SQL.
    pub fn sql_name(self) -> &'static str {
        match self {
            Table::WorkspaceSettings => "workspace_settings",
            Table::Sources => "sources",
            Table::SyncCheckpoints => "sync_checkpoints",
            Table::RawEvents => "raw_events",
            Table::DeadLetters => "dead_letters",
            Table::Creators => "creators",
            Table::Campaigns => "campaigns",
            Table::Content => "content",
            Table::Touches => "touches",
            Table::Orders => "orders",
            Table::OrderAdjustments => "order_adjustments",
            Table::AdSpend => "ad_spend",
            Table::CreatorCosts => "creator_costs",
            Table::IdentityLinks => "identity_links",
            Table::FxRates => "fx_rates",
            Table::AttributionRuns => "attribution_runs",
            Table::RunOrders => "run_orders",
            Table::Credits => "credits",
            Table::ModelChanges => "model_changes",
        }
    }
}

const TOUCH_COLUMNS: &str = "touch_id, source, occurred_at_ms, channel, touch_type, creator_id, campaign_id, ad_id, \
     content_id, click_id, person_id, anonymous_id, email_sha256, customer_id, device_id, raw_event_id";

fn touch_from_row(row: &Row<'_>) -> rusqlite::Result<Touch> {
    Ok(Touch {
        touch_id: row.get(0)?,
        source: row.get(1)?,
        occurred_at_ms: row.get(2)?,
        channel: row.get(3)?,
        touch_type: row.get(4)?,
        creator_id: row.get(5)?,
        campaign_id: row.get(6)?,
        ad_id: row.get(7)?,
        content_id: row.get(8)?,
        click_id: row.get(9)?,
        identity: IdentityKeys {
            person_id: row.get(10)?,
            anonymous_id: row.get(11)?,
            email_sha256: row.get(12)?,
            customer_id: row.get(13)?,
            device_id: row.get(14)?,
        },
        raw_event_id: row.get(15)?,
    })
}

pub(crate) const ORDER_COLUMNS: &str = "order_id, source, occurred_at_ms, gross_minor, currency, status, click_id, person_id, \
     anonymous_id, email_sha256, customer_id, device_id, raw_event_id";

pub(crate) fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        order_id: row.get(0)?,
        source: row.get(1)?,
        occurred_at_ms: row.get(2)?,
        gross_minor: row.get(3)?,
        currency: row.get(4)?,
        status: row.get(5)?,
        click_id: row.get(6)?,
        identity: IdentityKeys {
            person_id: row.get(7)?,
            anonymous_id: row.get(8)?,
            email_sha256: row.get(9)?,
            customer_id: row.get(10)?,
            device_id: row.get(11)?,
        },
        raw_event_id: row.get(12)?,
    })
}

/// An order with only the columns revenue needs ([`OrderDetail::Revenue`]).
fn revenue_only(
    order_id: String,
    occurred_at_ms: i64,
    gross_minor: i64,
    currency: String,
) -> Order {
    Order {
        order_id,
        source: String::new(),
        occurred_at_ms,
        gross_minor,
        currency,
        status: String::new(),
        click_id: None,
        identity: IdentityKeys::default(),
        raw_event_id: None,
    }
}

impl Store {
    /// Runs `sql` and maps every row; for the small listings below.
    pub(crate) fn collect<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params, map)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn count(&self, sql: &str) -> StoreResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(sql)?
            .query_row([], |row| row.get(0))?;
        Ok(n as u64)
    }

    /// The number of rows in `table`.
    pub fn row_count(&self, table: Table) -> StoreResult<u64> {
        self.count(&format!("SELECT COUNT(*) FROM {}", table.sql_name()))
    }

    /// The workspace overview, from the totals kept as data lands (see `totals`) and the first
    /// and last instants of the time indexes: a few dozen rows read, however large the
    /// workspace.
    pub fn overview(&self) -> StoreResult<Overview> {
        let totals = self.totals()?;
        let mut by_currency: BTreeMap<String, CurrencyRevenue> = BTreeMap::new();
        for figure in [
            MoneyFigure::OrderGross,
            MoneyFigure::Refunds,
            MoneyFigure::Chargebacks,
        ] {
            for total in totals.money_of(figure) {
                let row = by_currency
                    .entry(total.currency.clone())
                    .or_insert_with(|| CurrencyRevenue {
                        currency: total.currency.clone(),
                        ..Default::default()
                    });
                match figure {
                    MoneyFigure::OrderGross => row.gross_minor = total.amount_minor,
                    MoneyFigure::Refunds => row.refunds_minor = total.amount_minor,
                    _ => row.chargebacks_minor = total.amount_minor,
                }
            }
        }
        for row in by_currency.values_mut() {
            row.net_minor = row.gross_minor - row.refunds_minor - row.chargebacks_minor;
        }
        let amounts = |figure| {
            totals
                .money_of(figure)
                .map(|total| CurrencyAmount {
                    currency: total.currency.clone(),
                    amount_minor: total.amount_minor,
                })
                .collect::<Vec<_>>()
        };

        let (first_activity_at_ms, last_activity_at_ms) = self.activity_span_ms()?;

        Ok(Overview {
            order_count: totals
                .money_of(MoneyFigure::OrderGross)
                .map(|total| total.rows)
                .sum(),
            revenue: by_currency.into_values().collect(),
            ad_spend: amounts(MoneyFigure::AdSpend),
            creator_costs: amounts(MoneyFigure::CreatorCosts),
            touch_count: totals.touches,
            creator_count: totals.creators,
            campaign_count: totals.campaigns,
            content_count: totals.content,
            first_activity_at_ms,
            last_activity_at_ms,
            unresolved_dead_letters: totals
                .sources
                .iter()
                .map(|s| s.unresolved_dead_letters)
                .sum(),
            sources: self.freshness_of(&totals.sources)?,
        })
    }

    /// The earliest and latest `occurred_at_ms` over orders and touches (`None` for an empty
    /// workspace): two steps into the orders' time index and the touch span kept as touches
    /// land (0025), however large the workspace.
    pub fn activity_span_ms(&self) -> StoreResult<(Option<i64>, Option<i64>)> {
        // Each MIN and each MAX is one step into the time index (a test checks the plan). They
        // are separate subqueries on purpose: SQLite answers a lone MIN or MAX from the end of
        // the index, but `SELECT MIN(x), MAX(x)` reads the whole index.
        let (order_first, order_last) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT MIN(occurred_at_ms) FROM orders), (SELECT MAX(occurred_at_ms) FROM orders)",
            )?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let (touch_first, touch_last) = self.touch_span_ms()?;
        Ok((
            [order_first, touch_first].into_iter().flatten().min(),
            [order_last, touch_last].into_iter().flatten().max(),
        ))
    }

    /// Freshness of every registered source, plus every source that has raw events but no row.
    pub fn source_freshness(&self) -> StoreResult<Vec<SourceFreshness>> {
        self.freshness_of(&self.source_totals()?)
    }

    /// Every registered source with its totals, then the unregistered names that have raw
    /// events, sorted by source id.
    fn freshness_of(&self, totals: &[SourceTotal]) -> StoreResult<Vec<SourceFreshness>> {
        // A damaged workspace opened read-only before migration 0014 has no reconnect column.
        let needs_reconnect = if self.has_credential_columns()? {
            "needs_reconnect_since_ms"
        } else {
            "NULL"
        };
        let mut by_source: BTreeMap<&str, &SourceTotal> =
            totals.iter().map(|t| (t.source.as_str(), t)).collect();
        let mut freshness = self.collect(
            &format!(
                "SELECT source_id, kind, name, last_attempt_at_ms, last_success_at_ms, last_error, {needs_reconnect}
                 FROM sources ORDER BY source_id"
            ),
            [],
            |row| {
                Ok(SourceFreshness {
                    source_id: row.get(0)?,
                    kind: row.get(1)?,
                    name: row.get(2)?,
                    last_attempt_at_ms: row.get(3)?,
                    last_success_at_ms: row.get(4)?,
                    last_error: row.get(5)?,
                    needs_reconnect_since_ms: row.get(6)?,
                    raw_event_count: 0,
                    last_received_at_ms: None,
                })
            },
        )?;
        for source in &mut freshness {
            if let Some(total) = by_source.remove(source.source_id.as_str()) {
                source.raw_event_count = total.raw_events;
                source.last_received_at_ms = total.last_received_at_ms;
            }
        }
        freshness.extend(
            by_source
                .into_values()
                .filter(|total| total.raw_events > 0)
                .map(|total| SourceFreshness {
                    source_id: total.source.clone(),
                    kind: None,
                    name: None,
                    last_attempt_at_ms: None,
                    last_success_at_ms: None,
                    last_error: None,
                    needs_reconnect_since_ms: None,
                    raw_event_count: total.raw_events,
                    last_received_at_ms: total.last_received_at_ms,
                }),
        );
        freshness.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        Ok(freshness)
    }

    /// Calls `each` for every touch in time order (ties by id), one row at a time, so a
    /// million touches never have to sit in one `Vec`.
    pub fn for_each_touch(&self, mut each: impl FnMut(Touch)) -> StoreResult<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {TOUCH_COLUMNS} FROM touches ORDER BY occurred_at_ms, touch_id"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            each(touch_from_row(row)?);
        }
        Ok(())
    }

    /// Every touch in time order.
    pub fn touches(&self) -> StoreResult<Vec<Touch>> {
        let mut all = Vec::new();
        self.for_each_touch(|touch| all.push(touch))?;
        Ok(all)
    }

    /// Calls `each` for every order in time order (ties by id) with its counted adjustments
    /// summed, reading the order columns `detail` asks for. Adjustments are aggregated first
    /// (they are a few percent of orders); orders are read in the table's own order and sorted
    /// here, which costs a fraction of walking the time index (a table seek per order, and a
    /// sorter for equal instants).
    pub fn for_each_order_with_adjustments(
        &self,
        detail: OrderDetail,
        mut each: impl FnMut(&OrderWithAdjustments),
    ) -> StoreResult<()> {
        #[derive(Default)]
        struct Sums {
            by_currency: Vec<(AdjustmentKind, CurrencyAmount)>,
            disputed: bool,
        }
        let mut sums: HashMap<String, Sums> = HashMap::new();
        {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT order_id, kind, currency, SUM(amount_minor) FROM order_adjustments WHERE {COUNTED_ADJUSTMENT}
                 GROUP BY order_id, kind, currency"
            ))?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let order_id: String = row.get(0)?;
                let amount = CurrencyAmount {
                    currency: row.get(2)?,
                    amount_minor: row.get(3)?,
                };
                sums.entry(order_id)
                    .or_default()
                    .by_currency
                    .push((row.get(1)?, amount));
            }
            let mut statement = self.conn.prepare_cached(
                "SELECT DISTINCT order_id FROM order_adjustments WHERE kind = 'chargeback' AND status = 'open'",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                sums.entry(row.get(0)?).or_default().disputed = true;
            }
        }
        let with_sums = |order: Order| OrderWithAdjustments {
            order,
            refunds_minor: 0,
            chargebacks_minor: 0,
            disputed: false,
            foreign_currency_adjustments: Vec::new(),
        };
        let mut items: Vec<OrderWithAdjustments> = match detail {
            OrderDetail::Full => {
                self.collect(&format!("SELECT {ORDER_COLUMNS} FROM orders"), [], |row| {
                    Ok(with_sums(order_from_row(row)?))
                })?
            }
            OrderDetail::Revenue => self.collect(
                "SELECT order_id, occurred_at_ms, gross_minor, currency FROM orders",
                [],
                |row| {
                    Ok(with_sums(revenue_only(
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                    )))
                },
            )?,
        };
        for item in &mut items {
            if let Some(found) = sums.remove(&item.order.order_id) {
                item.disputed = found.disputed;
                for (kind, amount) in found.by_currency {
                    if amount.currency != item.order.currency {
                        item.foreign_currency_adjustments.push((kind, amount));
                    } else if kind == AdjustmentKind::Refund {
                        item.refunds_minor += amount.amount_minor;
                    } else {
                        item.chargebacks_minor += amount.amount_minor;
                    }
                }
            }
        }
        // Positions sorted, not the orders themselves (a few hundred bytes each), and each
        // order lent where it lies; ids compared bytewise, as SQLite's BINARY collation does.
        let mut sequence: Vec<u32> = (0..items.len() as u32).collect();
        sequence.sort_unstable_by(|&a, &b| {
            let (a, b) = (&items[a as usize].order, &items[b as usize].order);
            (a.occurred_at_ms, a.order_id.as_bytes())
                .cmp(&(b.occurred_at_ms, b.order_id.as_bytes()))
        });
        for index in sequence {
            each(&items[index as usize]);
        }
        Ok(())
    }

    /// Every order with its adjustments summed, in time order.
    pub fn orders_with_adjustments(&self) -> StoreResult<Vec<OrderWithAdjustments>> {
        let mut all = Vec::new();
        self.for_each_order_with_adjustments(OrderDetail::Full, |order| all.push(order.clone()))?;
        Ok(all)
    }

    /// Every order, in time order.
    pub fn orders(&self) -> StoreResult<Vec<Order>> {
        self.collect(
            &format!("SELECT {ORDER_COLUMNS} FROM orders ORDER BY occurred_at_ms, order_id"),
            [],
            order_from_row,
        )
    }

    /// Every adjustment, in time order.
    pub fn adjustments(&self) -> StoreResult<Vec<OrderAdjustment>> {
        self.collect(
            "SELECT adjustment_id, order_id, source, kind, occurred_at_ms, amount_minor, currency, status, raw_event_id
             FROM order_adjustments ORDER BY occurred_at_ms, adjustment_id",
            [],
            |row| {
                Ok(OrderAdjustment {
                    adjustment_id: row.get(0)?,
                    order_id: row.get(1)?,
                    source: row.get(2)?,
                    kind: row.get(3)?,
                    occurred_at_ms: row.get(4)?,
                    amount_minor: row.get(5)?,
                    currency: row.get(6)?,
                    status: row.get(7)?,
                    raw_event_id: row.get(8)?,
                })
            },
        )
    }

    /// Every identity link, with `a < b`.
    pub fn identity_links(&self) -> StoreResult<Vec<IdentityLink>> {
        self.collect(
            "SELECT key_type_a, key_a, key_type_b, key_b, source, created_at_ms FROM identity_links
             ORDER BY key_type_a, key_a, key_type_b, key_b",
            [],
            |row| {
                Ok(IdentityLink {
                    a: IdentityKey {
                        key_type: row.get(0)?,
                        value: row.get(1)?,
                    },
                    b: IdentityKey {
                        key_type: row.get(2)?,
                        value: row.get(3)?,
                    },
                    source: row.get(4)?,
                    created_at_ms: row.get(5)?,
                })
            },
        )
    }

    /// Every fx rate, by day then pair.
    pub fn fx_rates(&self) -> StoreResult<Vec<FxRate>> {
        self.collect(
            "SELECT day, from_currency, to_currency, rate, source FROM fx_rates ORDER BY day, from_currency, to_currency",
            [],
            |row| {
                Ok(FxRate {
                    day: row.get(0)?,
                    from_currency: row.get(1)?,
                    to_currency: row.get(2)?,
                    rate: row.get(3)?,
                    source: row.get(4)?,
                })
            },
        )
    }

    pub fn sources(&self) -> StoreResult<Vec<Source>> {
        self.collect(
            "SELECT source_id, kind, name, base_url, account, credential_ref, created_at_ms, last_attempt_at_ms,
                    last_success_at_ms, last_error
             FROM sources ORDER BY source_id",
            [],
            |row| {
                Ok(Source {
                    source_id: row.get(0)?,
                    kind: row.get(1)?,
                    name: row.get(2)?,
                    base_url: row.get(3)?,
                    account: row.get(4)?,
                    credential_ref: row.get(5)?,
                    created_at_ms: row.get(6)?,
                    last_attempt_at_ms: row.get(7)?,
                    last_success_at_ms: row.get(8)?,
                    last_error: row.get(9)?,
                })
            },
        )
    }

    /// Where the sync of one stream stopped, if it ever ran.
    pub fn checkpoint(&self, source_id: &str, stream: &str) -> StoreResult<Option<SyncCheckpoint>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT source_id, stream, cursor, updated_at_ms FROM sync_checkpoints WHERE source_id = ?1 AND stream = ?2",
            )?
            .query_row(params![source_id, stream], |row| {
                Ok(SyncCheckpoint {
                    source_id: row.get(0)?,
                    stream: row.get(1)?,
                    cursor: row.get(2)?,
                    updated_at_ms: row.get(3)?,
                })
            })
            .optional()?)
    }

    /// Every stored version of one raw record, oldest first; the last one is current. A
    /// record's versions are `raw_events` rows or slots of raw-event blocks (see
    /// `raw_blocks`), never both.
    pub fn raw_event_versions(
        &self,
        source: &str,
        stream: &str,
        external_id: &str,
    ) -> StoreResult<Vec<RawEvent>> {
        let mut versions = Vec::new();
        self.raw_events_where(
            "external_id = ?3 AND source = ?1 AND stream = ?2",
            params![source, stream, external_id],
            |event| {
                versions.push(event);
                Ok(())
            },
        )?;
        if versions.is_empty() && self.has_blocks()? {
            versions = blocked_versions(&self.conn, source, stream, external_id)?;
        }
        Ok(versions)
    }

    /// Calls `each` for every raw event in the order it arrived: the input of reprocessing.
    /// Rows and blocked events (see `raw_blocks`) are merged by arrival; at one instant rows
    /// come first, and within a block its slots in the order they were written.
    pub fn for_each_raw_event(&self, mut each: impl FnMut(RawEvent)) -> StoreResult<()> {
        if !self.has_blocks()? {
            return self.raw_events_where("1", [], |event| {
                each(event);
                Ok(())
            });
        }
        let mut blocked = ArrivalMerge::new(&self.conn)?;
        self.raw_events_where("1", [], |event| {
            blocked.emit_before(&self.conn, Some(event.received_at_ms), &mut each)?;
            each(event);
            Ok(())
        })?;
        blocked.emit_before(&self.conn, None, &mut each)
    }

    /// Raw events matching `filter`, by id, with their payloads decoded (either layout).
    fn raw_events_where(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
        mut each: impl FnMut(RawEvent) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut decoder = PayloadDecoder::default();
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT raw_event_id, source, stream, external_id, received_at_ms, normalizer_version,
                    {STORED_HASH_COLUMNS}, {STORED_PAYLOAD_COLUMNS}
             FROM raw_events WHERE {filter} ORDER BY raw_event_id"
        ))?;
        let mut rows = statement.query(params)?;
        while let Some(row) = rows.next()? {
            let raw_event_id = row.get(0)?;
            let stored = StoredPayload::from_row(row, 8)?;
            each(RawEvent {
                raw_event_id,
                source: row.get(1)?,
                stream: row.get(2)?,
                external_id: row.get(3)?,
                received_at_ms: row.get(4)?,
                normalizer_version: row.get(5)?,
                payload_sha256: stored_hash(row, 6)?,
                payload: decoder.decode(&self.conn, raw_event_id, stored)?,
            })?;
        }
        Ok(())
    }

    /// Dead letters, oldest first; resolved ones only when asked for.
    pub fn dead_letters(&self, include_resolved: bool) -> StoreResult<Vec<DeadLetter>> {
        self.dead_letters_where(None, include_resolved)
    }

    /// One source's dead letters, oldest first; resolved ones only when asked for.
    pub fn source_dead_letters(
        &self,
        source: &str,
        include_resolved: bool,
    ) -> StoreResult<Vec<DeadLetter>> {
        self.dead_letters_where(Some(source), include_resolved)
    }

    fn dead_letters_where(
        &self,
        source: Option<&str>,
        include_resolved: bool,
    ) -> StoreResult<Vec<DeadLetter>> {
        self.collect(
            "SELECT dead_letter_id, source, stream, location, reason, payload, created_at_ms, resolved_at_ms
             FROM dead_letters WHERE (?1 OR resolved_at_ms IS NULL) AND (?2 IS NULL OR source = ?2)
             ORDER BY dead_letter_id",
            params![include_resolved, source],
            |row| {
                Ok(DeadLetter {
                    dead_letter_id: row.get(0)?,
                    source: row.get(1)?,
                    stream: row.get(2)?,
                    location: row.get(3)?,
                    reason: row.get(4)?,
                    payload: row.get(5)?,
                    created_at_ms: row.get(6)?,
                    resolved_at_ms: row.get(7)?,
                })
            },
        )
    }

    pub fn creators(&self) -> StoreResult<Vec<Creator>> {
        self.collect(
            "SELECT creator_id, display_name, handle, platform, created_at_ms FROM creators ORDER BY creator_id",
            [],
            |row| {
                Ok(Creator {
                    creator_id: row.get(0)?,
                    display_name: row.get(1)?,
                    handle: row.get(2)?,
                    platform: row.get(3)?,
                    created_at_ms: row.get(4)?,
                })
            },
        )
    }

    pub fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.collect(
            "SELECT campaign_id, platform, account_id, name, channel, creator_id FROM campaigns ORDER BY campaign_id",
            [],
            |row| {
                Ok(Campaign {
                    campaign_id: row.get(0)?,
                    platform: row.get(1)?,
                    account_id: row.get(2)?,
                    name: row.get(3)?,
                    channel: row.get(4)?,
                    creator_id: row.get(5)?,
                })
            },
        )
    }

    pub fn content(&self) -> StoreResult<Vec<Content>> {
        self.collect(
            "SELECT content_id, creator_id, kind, title, url, published_at_ms FROM content ORDER BY content_id",
            [],
            |row| {
                Ok(Content {
                    content_id: row.get(0)?,
                    creator_id: row.get(1)?,
                    kind: row.get(2)?,
                    title: row.get(3)?,
                    url: row.get(4)?,
                    published_at_ms: row.get(5)?,
                })
            },
        )
    }

    /// Every ad spend row, by day then key.
    pub fn ad_spend(&self) -> StoreResult<Vec<AdSpend>> {
        self.collect(
            "SELECT platform, account_id, campaign_id, ad_id, day, account_timezone, channel, creator_id, spend_minor,
                    currency, impressions, clicks, source, raw_event_id, updated_at_ms
             FROM ad_spend ORDER BY day, platform, account_id, campaign_id, ad_id",
            [],
            |row| {
                Ok(AdSpend {
                    platform: row.get(0)?,
                    account_id: row.get(1)?,
                    campaign_id: row.get(2)?,
                    ad_id: row.get(3)?,
                    day: row.get(4)?,
                    account_timezone: row.get(5)?,
                    channel: row.get(6)?,
                    creator_id: row.get(7)?,
                    spend_minor: row.get(8)?,
                    currency: row.get(9)?,
                    impressions: row.get(10)?,
                    clicks: row.get(11)?,
                    source: row.get(12)?,
                    raw_event_id: row.get(13)?,
                    updated_at_ms: row.get(14)?,
                })
            },
        )
    }

    pub fn creator_costs(&self) -> StoreResult<Vec<CreatorCost>> {
        self.collect(
            "SELECT cost_id, creator_id, day, kind, amount_minor, currency, source, raw_event_id
             FROM creator_costs ORDER BY day, cost_id",
            [],
            |row| {
                Ok(CreatorCost {
                    cost_id: row.get(0)?,
                    creator_id: row.get(1)?,
                    day: row.get(2)?,
                    kind: row.get(3)?,
                    amount_minor: row.get(4)?,
                    currency: row.get(5)?,
                    source: row.get(6)?,
                    raw_event_id: row.get(7)?,
                })
            },
        )
    }
}
