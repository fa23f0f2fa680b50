//! The whole-workspace totals stay exact (issue 12): after a seeded random sequence of every kind
//! of write — touches, orders, refunds and chargebacks, spend and costs with their raw events,
//! restatements, status changes, spend upserts, folded orders, dead letters and their
//! resolution, erasures, purges and plain deletes — the totals the overview reads equal a
//! recount of the rows with the aggregate queries, after every commit.

mod common;

use common::{DAY_MS, T0};
use lookback_store::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, CreatorCostKind,
    IdentityKeys, MoneyFigure, NewDeadLetter, NewRawEvent, Order, OrderAdjustment, Store,
    StoreError, Touch, WriteTx,
};
use lookback_trust::{ErasureKey, TrustError, erase, purge_raw_payloads};
use rusqlite::{Connection, params};

/// SplitMix64: a few lines, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const CURRENCIES: [&str; 3] = ["USD", "EUR", "JPY"];
const ADJUSTMENT_STATUSES: [&str; 10] = [
    "succeeded",
    "pending",
    "failed",
    "canceled",
    "cancelled",
    "open",
    "won",
    "lost",
    "prevented",
    "needs_response",
];
const ORDER_STATUSES: [&str; 4] = ["paid", "refunded", "cancelled", "voided"];
const SOURCES: [&str; 3] = ["shop", "dub", "csv"];
/// People 0..ERASABLE are erased along the way (and suppressed from then on); the rest stay.
const PEOPLE: u64 = 10;
const ERASABLE: u64 = 4;

/// A random person's keys and one of their click ids (click ids are never shared between
/// people, so erasing one person leaves the others).
fn person_keys(rng: &mut Rng) -> (Option<String>, IdentityKeys) {
    let p = rng.below(PEOPLE);
    let keys = IdentityKeys {
        customer_id: Some(format!("cus_{p}")),
        anonymous_id: Some(format!("anon-{p}")),
        ..IdentityKeys::default()
    };
    (Some(format!("clk{p}-{}", rng.below(8))), keys)
}

/// Appends a raw event for a record; a payload drawn from a few variants makes some appends
/// duplicates and some restatements.
fn raw_event(tx: &mut WriteTx<'_>, rng: &mut Rng, source: &str, stream: &str, id: &str) -> i64 {
    let payload = format!(
        r#"{{"id":"{id}","customer":"cus_{}","v":{}}}"#,
        rng.below(PEOPLE),
        rng.below(3)
    );
    tx.insert_raw_event(&NewRawEvent {
        source,
        stream,
        external_id: id,
        received_at_ms: T0 + rng.below(40) as i64 * DAY_MS / 4,
        payload: &payload,
        normalizer_version: 1,
    })
    .unwrap()
    .raw_event_id()
}

fn order(rng: &mut Rng, raw_event_id: Option<i64>) -> Order {
    let (click_id, identity) = person_keys(rng);
    Order {
        order_id: format!("o{}", rng.below(40)),
        source: "shop".into(),
        occurred_at_ms: T0 + rng.below(30) as i64 * DAY_MS,
        gross_minor: rng.below(50_000) as i64,
        currency: rng.pick(&CURRENCIES).to_string(),
        status: rng.pick(&ORDER_STATUSES).to_string(),
        click_id,
        identity,
        raw_event_id,
    }
}

/// One random write through the store's own write paths, in `tx`.
fn write_one(tx: &mut WriteTx<'_>, rng: &mut Rng) -> Result<(), StoreError> {
    match rng.below(16) {
        0..=2 => {
            let id = format!("t{}", rng.below(120));
            let source = rng.pick(&SOURCES);
            let raw = raw_event(tx, rng, source, "touches", &id);
            let (click_id, identity) = person_keys(rng);
            tx.insert_touch(&Touch {
                touch_id: id,
                source: source.into(),
                occurred_at_ms: T0 + rng.below(30) as i64 * DAY_MS,
                channel: "creator".into(),
                touch_type: "click".into(),
                creator_id: Some(format!("cr{}", rng.below(5))),
                campaign_id: Some(format!("cmp{}", rng.below(4))),
                ad_id: None,
                content_id: None,
                click_id,
                identity,
                raw_event_id: Some(raw),
            })?;
        }
        3 | 4 => {
            let probe = order(rng, None);
            let raw = raw_event(tx, rng, "shop", "orders", &probe.order_id);
            tx.insert_order(&Order {
                raw_event_id: Some(raw),
                ..probe
            })?;
        }
        // A later report of an order: new gross, currency or status.
        5 => {
            tx.restate_order(&order(rng, None))?;
        }
        6 => {
            tx.update_order_status(&format!("o{}", rng.below(40)), rng.pick(&ORDER_STATUSES))?;
        }
        7 | 8 => {
            let id = format!("a{}", rng.below(50));
            let raw = raw_event(tx, rng, "shop", "adjustments", &id);
            tx.insert_adjustment(&OrderAdjustment {
                adjustment_id: id,
                order_id: format!("o{}", rng.below(40)),
                source: "shop".into(),
                kind: rng.pick(AdjustmentKind::ALL),
                occurred_at_ms: T0 + rng.below(30) as i64 * DAY_MS,
                amount_minor: rng.below(20_000) as i64,
                currency: rng.pick(&CURRENCIES).to_string(),
                status: rng.pick(&ADJUSTMENT_STATUSES).to_string(),
                raw_event_id: Some(raw),
            })?;
        }
        // A refund fails, a dispute is won or lost: in and out of the totals.
        9 => {
            tx.update_adjustment_status(
                &format!("a{}", rng.below(50)),
                rng.pick(&ADJUSTMENT_STATUSES),
            )?;
        }
        // Spend of a few campaign-days, restated in amount and currency.
        10 => {
            tx.upsert_ad_spend(&AdSpend {
                platform: "meta".into(),
                account_id: "act_1".into(),
                campaign_id: format!("cmp{}", rng.below(4)),
                ad_id: String::new(),
                day: format!("2026-03-{:02}", 1 + rng.below(5)),
                account_timezone: "UTC".into(),
                channel: "paid_social".into(),
                creator_id: None,
                spend_minor: rng.below(30_000) as i64,
                currency: rng.pick(&CURRENCIES).to_string(),
                impressions: None,
                clicks: None,
                source: "meta".into(),
                raw_event_id: None,
                updated_at_ms: T0,
            })?;
        }
        11 => {
            let cost_id = format!("cc{}", rng.below(15));
            if rng.below(4) == 0 {
                tx.remove_creator_cost(&cost_id, "dub")?;
            } else {
                tx.insert_creator_cost(&CreatorCost {
                    cost_id,
                    creator_id: format!("cr{}", rng.below(5)),
                    day: "2026-03-02".into(),
                    kind: rng.pick(CreatorCostKind::ALL),
                    amount_minor: rng.below(9_000) as i64,
                    currency: rng.pick(&CURRENCIES).to_string(),
                    source: "dub".into(),
                    raw_event_id: None,
                })?;
            }
        }
        12 => {
            let n = rng.below(6);
            tx.upsert_creator(&Creator {
                creator_id: format!("cr{n}"),
                display_name: format!("Creator {}", rng.below(3)),
                handle: None,
                platform: None,
                created_at_ms: None,
            })?;
            tx.upsert_campaign(&Campaign {
                campaign_id: format!("cmp{}", rng.below(5)),
                platform: "meta".into(),
                account_id: None,
                name: "Spring".into(),
                channel: "paid_social".into(),
                creator_id: Some(format!("cr{n}")),
            })?;
            tx.upsert_content(&Content {
                content_id: format!("ct{}", rng.below(8)),
                creator_id: Some(format!("cr{n}")),
                kind: "post".into(),
                title: format!("Post {}", rng.below(3)),
                url: None,
                published_at_ms: None,
            })?;
        }
        13 => {
            let source = rng.pick(&SOURCES);
            tx.insert_dead_letter(&NewDeadLetter {
                source: source.into(),
                stream: "orders".into(),
                location: format!("page-{}:{}", rng.below(3), rng.below(9)),
                reason: "amount is not a number".into(),
                payload: format!(r#"{{"customer":"cus_{}"}}"#, rng.below(PEOPLE)),
                created_at_ms: T0,
            })?;
        }
        14 => {
            if rng.below(2) == 0 {
                tx.resolve_dead_letter(1 + rng.below(20) as i64, T0 + DAY_MS)?;
            } else {
                tx.resolve_dead_letters_with_prefix(
                    rng.pick(&SOURCES),
                    "orders",
                    &format!("page-{}", rng.below(3)),
                    T0 + DAY_MS,
                )?;
            }
        }
        // Two ids of one sale: folding deletes the later order and moves its refunds.
        _ => {
            tx.add_order_alias(
                &format!("o{}", rng.below(40)),
                &format!("o{}", rng.below(40)),
                "dub",
                T0,
            )?;
        }
    }
    Ok(())
}

/// Deletes and rewrites no write path of the store makes today, through a second connection:
/// the triggers must keep the totals exact whoever writes.
fn plain_sql_change(conn: &Connection, rng: &mut Rng) {
    let offset = rng.below(6) as i64;
    let pick =
        |table: &str| format!("SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET {offset}");
    match rng.below(6) {
        0 => {
            let table = rng.pick(&[
                "touch_rows",
                "orders",
                "order_adjustments",
                "ad_spend",
                "creator_costs",
                "creators",
                "campaigns",
                "content",
                "dead_letters",
            ]);
            conn.execute(
                &format!("DELETE FROM {table} WHERE rowid = ({})", pick(table)),
                [],
            )
            .unwrap();
        }
        1 => {
            // A raw event goes once nothing points at it, as erasure does it.
            let Ok(id) = conn.query_row(&pick("raw_events"), [], |row| row.get::<_, i64>(0)) else {
                return;
            };
            for table in [
                "touch_rows",
                "orders",
                "order_adjustments",
                "ad_spend",
                "creator_costs",
            ] {
                conn.execute(
                    &format!("UPDATE {table} SET raw_event_id = NULL WHERE raw_event_id = ?1"),
                    params![id],
                )
                .unwrap();
            }
            conn.execute(
                "DELETE FROM raw_events WHERE raw_event_id = ?1",
                params![id],
            )
            .unwrap();
        }
        2 => {
            conn.execute(
                &format!(
                    "UPDATE order_adjustments SET kind = ?1, amount_minor = ?2, currency = ?3
                     WHERE rowid = ({})",
                    pick("order_adjustments")
                ),
                params![
                    rng.pick(AdjustmentKind::ALL).as_str(),
                    rng.below(7_000) as i64,
                    rng.pick(&CURRENCIES)
                ],
            )
            .unwrap();
        }
        3 => {
            conn.execute(
                &format!(
                    "UPDATE dead_letters SET source = ?1, resolved_at_ms = ?2 WHERE rowid = ({})",
                    pick("dead_letters")
                ),
                params![
                    rng.pick(&SOURCES),
                    if rng.below(2) == 0 { None } else { Some(T0) }
                ],
            )
            .unwrap();
        }
        4 => {
            conn.execute(
                &format!(
                    "UPDATE creator_costs SET amount_minor = ?1, currency = ?2 WHERE rowid = ({})",
                    pick("creator_costs")
                ),
                params![rng.below(5_000) as i64, rng.pick(&CURRENCIES)],
            )
            .unwrap();
        }
        _ => {
            conn.execute(
                &format!(
                    "UPDATE orders SET gross_minor = ?1 WHERE rowid = ({})",
                    pick("orders")
                ),
                params![rng.below(9_000) as i64],
            )
            .unwrap();
        }
    }
}

fn assert_exact(store: &Store, after: &str) {
    let kept = store.totals().unwrap();
    let recounted = store.recount_totals().unwrap();
    assert!(
        kept.differences(&recounted).is_empty(),
        "after {after}: {:#?}",
        kept.differences(&recounted)
    );
    assert_eq!(kept, recounted, "after {after}");
}

#[test]
fn totals_equal_a_recount_after_a_random_sequence_of_every_kind_of_write() {
    for seed in [1_u64, 7, 2026] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.lookback");
        let mut store = Store::create(&db).unwrap();
        store.set_raw_payload_retention_days(Some(3)).unwrap();
        let plain = Connection::open(&db).unwrap();
        plain.pragma_update(None, "foreign_keys", true).unwrap();
        let mut rng = Rng(seed);
        for step in 0..400 {
            match rng.below(20) {
                0 => {
                    let key = ErasureKey::CustomerId(format!("cus_{}", rng.below(ERASABLE)));
                    match erase(&mut store, &key, T0 + 40 * DAY_MS) {
                        Ok(_) | Err(TrustError::PersonNotFound { .. }) => {}
                        Err(other) => panic!("erase: {other}"),
                    }
                }
                1 => {
                    purge_raw_payloads(&mut store, T0 + rng.below(12) as i64 * DAY_MS).unwrap();
                }
                2 | 3 => plain_sql_change(&plain, &mut rng),
                _ => {
                    let mut tx = store.begin().unwrap();
                    for _ in 0..1 + rng.below(8) {
                        write_one(&mut tx, &mut rng).unwrap();
                    }
                    tx.commit().unwrap();
                }
            }
            assert_exact(&store, &format!("step {step} of seed {seed}"));
        }
        // The sequence reached every figure, so the comparison above compared something.
        let totals = store.totals().unwrap();
        for figure in MoneyFigure::ALL {
            assert!(
                totals.money_of(*figure).any(|m| m.rows > 0),
                "seed {seed} never produced a {figure} row"
            );
        }
        assert!(
            totals.touches > 0 && totals.creators > 0 && totals.content > 0,
            "seed {seed}: {totals:?}"
        );
        assert!(totals.sources.iter().any(|s| s.raw_events > s.raw_records));
        assert!(totals.sources.iter().any(|s| s.unresolved_dead_letters > 0));
    }
}

#[test]
fn a_raw_events_source_stream_id_and_arrival_cannot_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.lookback");
    let mut store = Store::create(&db).unwrap();
    let id = common::raw(&mut store, "shop", "orders", "o1", "{}", T0);
    let plain = Connection::open(&db).unwrap();
    for column in ["source", "stream", "external_id"] {
        let refused = plain.execute(
            &format!("UPDATE raw_events SET {column} = 'other' WHERE raw_event_id = ?1"),
            params![id],
        );
        assert!(refused.is_err(), "{column} changed");
    }
    let refused = plain.execute(
        "UPDATE raw_events SET received_at_ms = received_at_ms + 1 WHERE raw_event_id = ?1",
        params![id],
    );
    assert!(refused.is_err(), "the arrival changed");
    // The payload may be rewritten (purge, erasure of a suppressed record).
    plain
        .execute(
            "UPDATE raw_events SET payload = '{\"_purged\":true}' WHERE raw_event_id = ?1",
            params![id],
        )
        .unwrap();
    assert_exact(&store, "a payload rewrite");
}
