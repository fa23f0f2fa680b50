//! The whole-workspace totals of migration 0016 (issue 12): an existing workspace gets them
//! from its rows when it upgrades, the overview reads them instead of scanning, and what the
//! overview and the totals' triggers still read from the big tables is an index range, never
//! the whole table (checked with EXPLAIN QUERY PLAN). That the totals stay exact through every
//! write path is the randomized test in lookback-trust's `tests/totals.rs`.

use std::path::Path;

use lookback_store::*;
use rusqlite::{Connection, params};

const T0: i64 = 1_773_100_800_000;

fn raw(
    source: &'static str,
    id: &'static str,
    payload: &'static str,
    at: i64,
) -> NewRawEvent<'static> {
    NewRawEvent {
        source,
        stream: "orders",
        external_id: id,
        received_at_ms: at,
        payload,
        normalizer_version: 1,
    }
}

/// A workspace with a bit of everything the totals count.
fn filled(path: &Path) -> Store {
    let mut store = Store::create(path).unwrap();
    store
        .write(|tx| {
            for (id, gross, currency) in [
                ("o1", 10_000, "USD"),
                ("o2", 2_500, "EUR"),
                ("o3", 700, "USD"),
            ] {
                tx.insert_order(&Order {
                    order_id: id.into(),
                    source: "shop".into(),
                    occurred_at_ms: T0,
                    gross_minor: gross,
                    currency: currency.into(),
                    status: "paid".into(),
                    click_id: None,
                    identity: IdentityKeys::default(),
                    raw_event_id: None,
                })?;
            }
            for (id, kind, amount, status) in [
                ("r1", AdjustmentKind::Refund, 1_000, "succeeded"),
                ("r2", AdjustmentKind::Refund, 300, "failed"),
                ("c1", AdjustmentKind::Chargeback, 2_000, "open"),
                ("c2", AdjustmentKind::Chargeback, 400, "won"),
            ] {
                tx.insert_adjustment(&OrderAdjustment {
                    adjustment_id: id.into(),
                    order_id: "o1".into(),
                    source: "shop".into(),
                    kind,
                    occurred_at_ms: T0,
                    amount_minor: amount,
                    currency: "USD".into(),
                    status: status.into(),
                    raw_event_id: None,
                })?;
            }
            tx.insert_touch(&Touch {
                touch_id: "t1".into(),
                source: "dub".into(),
                occurred_at_ms: T0 - 1_000,
                channel: "creator".into(),
                touch_type: "click".into(),
                creator_id: None,
                campaign_id: None,
                ad_id: None,
                content_id: None,
                click_id: Some("clk".into()),
                identity: IdentityKeys::default(),
                raw_event_id: None,
            })?;
            tx.insert_creator_cost(&CreatorCost {
                cost_id: "cc1".into(),
                creator_id: "cr1".into(),
                day: "2026-03-01".into(),
                kind: CreatorCostKind::Fee,
                amount_minor: 5_000,
                currency: "EUR".into(),
                source: "dub".into(),
                raw_event_id: None,
            })?;
            for (campaign, day, spend, currency) in [
                ("cmp_1", "2026-03-01", 1_200, "EUR"),
                ("cmp_2", "2026-03-01", 300, "EUR"),
                ("cmp_1", "2026-03-02", 900, "EUR"),
            ] {
                tx.upsert_ad_spend(&AdSpend {
                    platform: "meta".into(),
                    account_id: "act_1".into(),
                    campaign_id: campaign.into(),
                    ad_id: String::new(),
                    day: day.into(),
                    account_timezone: "UTC".into(),
                    channel: "paid_social".into(),
                    creator_id: None,
                    spend_minor: spend,
                    currency: currency.into(),
                    impressions: None,
                    clicks: None,
                    source: "meta".into(),
                    raw_event_id: None,
                    updated_at_ms: T0,
                })?;
            }
            tx.upsert_creator(&Creator {
                creator_id: "cr1".into(),
                display_name: "Ann".into(),
                handle: None,
                platform: None,
                created_at_ms: None,
            })?;
            tx.insert_raw_event(&raw("shop", "o1", "{\"v\":1}", T0))?;
            tx.insert_raw_event(&raw("shop", "o1", "{\"v\":2}", T0 + 5))?;
            tx.insert_raw_event(&raw("shop", "o2", "{}", T0 + 2))?;
            tx.insert_raw_event(&raw("dub", "t1", "{}", T0 + 9))?;
            let letter = NewDeadLetter {
                source: "csv".into(),
                stream: "orders".into(),
                location: "orders.csv:3".into(),
                reason: "amount is not a number".into(),
                payload: "o9,abc".into(),
                created_at_ms: T0,
            };
            let first = tx.insert_dead_letter(&letter)?;
            tx.insert_dead_letter(&letter)?;
            tx.resolve_dead_letter(first, T0 + 1)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
}

#[test]
fn the_totals_hold_what_the_rows_say() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let store = filled(&path);
    let totals = store.totals().unwrap();
    assert_eq!(totals, store.recount_totals().unwrap());
    assert_arrivals_match_raw_events(&path);
    let money = |figure, currency: &str| {
        totals
            .money_of(figure)
            .find(|m| m.currency == currency)
            .map(|m| (m.rows, m.amount_minor))
    };
    assert_eq!(money(MoneyFigure::OrderGross, "USD"), Some((2, 10_700)));
    // The failed refund and the won chargeback take nothing off.
    assert_eq!(money(MoneyFigure::Refunds, "USD"), Some((1, 1_000)));
    assert_eq!(money(MoneyFigure::Chargebacks, "USD"), Some((1, 2_000)));
    assert_eq!(money(MoneyFigure::CreatorCosts, "EUR"), Some((1, 5_000)));
    assert_eq!(money(MoneyFigure::AdSpend, "USD"), None);
    assert_eq!(money(MoneyFigure::AdSpend, "EUR"), Some((3, 2_400)));
    // The same money per day (spend) and per quarter hour (revenue), for the overview's
    // conversion at each day's rate.
    let days: Vec<(&str, &str, u64, i64)> = totals
        .ad_spend_days
        .iter()
        .map(|d| (d.currency.as_str(), d.day.as_str(), d.rows, d.amount_minor))
        .collect();
    assert_eq!(
        days,
        vec![
            ("EUR", "2026-03-01", 2, 1_500),
            ("EUR", "2026-03-02", 1, 900)
        ]
    );
    let slot = slot_of(T0);
    let slots: Vec<(MoneyFigure, &str, i64, u64, i64)> = totals
        .revenue_slots
        .iter()
        .map(|r| {
            (
                r.figure,
                r.currency.as_str(),
                r.slot,
                r.rows,
                r.amount_minor,
            )
        })
        .collect();
    assert_eq!(
        slots,
        vec![
            (MoneyFigure::Chargebacks, "USD", slot, 1, 2_000),
            (MoneyFigure::OrderGross, "EUR", slot, 1, 2_500),
            (MoneyFigure::OrderGross, "USD", slot, 2, 10_700),
            (MoneyFigure::Refunds, "USD", slot, 1, 1_000),
        ]
    );
    assert_eq!((totals.touches, totals.creators), (1, 1));
    let shop = totals.sources.iter().find(|s| s.source == "shop").unwrap();
    assert_eq!(
        (shop.raw_events, shop.raw_records, shop.last_received_at_ms),
        (3, 2, Some(T0 + 5))
    );
    let csv = totals.sources.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!((csv.raw_events, csv.unresolved_dead_letters), (0, 1));
}

#[test]
fn an_existing_workspace_gets_its_totals_from_its_rows_when_it_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let expected = filled(&path).recount_totals().unwrap();
    // Take the file back to the schema before 0016: its tables and triggers gone.
    {
        let conn = Connection::open(&path).unwrap();
        let triggers: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'
                   AND (sql LIKE '%table_rows%' OR sql LIKE '%money_totals%' OR sql LIKE '%source_totals%'
                        OR sql LIKE '%revenue_slots%' OR sql LIKE '%ad_spend_days%'
                        OR sql LIKE '%traffic_totals%' OR name = 'raw_events_identity_fixed')",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(triggers.len() >= 15, "found {triggers:?}");
        for trigger in triggers {
            conn.execute(&format!("DROP TRIGGER {trigger}"), [])
                .unwrap();
        }
        // Back to schema 15: 0030's credit touch rows out, 0029's touch generations out and the
        // click-id index as it was,
        // 0026's traffic totals out (their triggers went above), 0025's
        // touch span out and the time index back; (0023 only dropped 0021's raw_hash, which the
        // rewind does not bring back) 0024's touch rows back to the `touches` table with names
        // and hex e-mail hashes, 0021's raw-event blocks out (the file has none), 0019's traffic
        // classes out, 0018's per-time money out, 0017's arrival counts out and 0012's index
        // back, then 0016's tables out (their triggers, 0017's delete trigger among them, went
        // above).
        conn.execute_batch(
            "ALTER TABLE credits DROP COLUMN touch_row;
             DROP INDEX touches_by_click; ALTER TABLE touch_rows DROP COLUMN generation;
             DROP TABLE touch_generations;
             CREATE INDEX touches_by_click ON touch_rows (click_id) WHERE click_id IS NOT NULL;
             DROP TABLE traffic_totals; DROP TABLE run_traffic_credits;
             DROP TRIGGER touch_time_span_edge_delete;
             DROP TABLE touch_time_span;
             CREATE INDEX touches_by_time ON touch_rows (occurred_at_ms);
             DROP VIEW touches;
             ALTER TABLE touch_rows RENAME TO touches;
             ALTER TABLE touches DROP COLUMN email_sha256;
             ALTER TABLE touches ADD COLUMN email_sha256 TEXT;
             ALTER TABLE touches ADD COLUMN source TEXT NOT NULL DEFAULT '';
             ALTER TABLE touches ADD COLUMN channel TEXT NOT NULL DEFAULT '';
             ALTER TABLE touches ADD COLUMN touch_type TEXT NOT NULL DEFAULT 'click';
             UPDATE touches SET
                 email_sha256 = CASE WHEN typeof(email_hash) = 'blob' THEN lower(hex(email_hash)) ELSE email_hash END,
                 source = (SELECT name FROM touch_sources s WHERE s.source_id = touches.source_id),
                 channel = (SELECT name FROM touch_channels c WHERE c.channel_id = touches.channel_id),
                 touch_type = (SELECT name FROM touch_types y WHERE y.touch_type_id = touches.touch_type_id);
             ALTER TABLE touches DROP COLUMN email_hash;
             ALTER TABLE touches DROP COLUMN source_id;
             ALTER TABLE touches DROP COLUMN channel_id;
             ALTER TABLE touches DROP COLUMN touch_type_id;
             DROP TABLE touch_channels; DROP TABLE touch_sources; DROP TABLE touch_types;
             DROP TABLE raw_event_blocks;
             ALTER TABLE touches DROP COLUMN raw_slot;
             DROP TRIGGER touch_traffic_follows_touch; DROP TABLE touch_traffic;
             DROP TABLE traffic_rule_sets; ALTER TABLE touches DROP COLUMN traffic_class;
             ALTER TABLE webhook_deliveries DROP COLUMN traffic_signals;
             DROP TABLE revenue_slots; DROP TABLE ad_spend_days;
             DROP TABLE raw_events_received;
             CREATE INDEX raw_events_by_received ON raw_events (received_at_ms, source);
             DROP TABLE table_rows; DROP TABLE money_totals; DROP TABLE source_totals;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 15).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.totals().unwrap(), expected);
    assert!(!expected.money.is_empty() && !expected.sources.is_empty());
    let traffic = store.traffic_totals().unwrap();
    assert_eq!(traffic, store.recount_traffic_totals().unwrap());
    assert_eq!(traffic.iter().map(|t| t.touches).sum::<u64>(), 1);
    assert_arrivals_match_raw_events(&path);
}

#[test]
fn the_overview_reads_the_big_tables_only_through_index_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = filled(&dir.path().join("w.lookback"));
    // The check itself: a count of every touch is a whole-table read.
    assert!(
        !store
            .whole_table_scans("SELECT COUNT(*) FROM touches")
            .unwrap()
            .is_empty()
    );
    let (overview, statements) = store.record_statements(|store| store.overview());
    let overview = overview.unwrap();
    assert_eq!(overview.order_count, 3);
    assert_eq!(overview.first_activity_at_ms, Some(T0 - 1_000));
    let statements: Vec<&String> = statements.iter().filter(|s| !s.starts_with("--")).collect();
    assert!(statements.len() >= 5, "recorded {statements:?}");
    for sql in statements {
        let scans = store.whole_table_scans(sql).unwrap();
        assert!(
            scans.is_empty(),
            "{sql}\nreads a big table whole: {scans:?}"
        );
    }
    // The orders' first and last instants are one step into each end of their time index; the
    // touches' are the span kept as they land (0025), one row.
    let plan = store
        .query_plan(
            "SELECT (SELECT MIN(occurred_at_ms) FROM orders), (SELECT MAX(occurred_at_ms) FROM orders)",
        )
        .unwrap();
    let searches = plan
        .iter()
        .filter(|line| line.starts_with("SEARCH orders USING COVERING INDEX orders_by_time"))
        .count();
    assert_eq!(searches, 2, "{plan:?}");
    assert!(
        statements_read(&mut store, "touch_time_span"),
        "the overview reads the kept touch span"
    );
}

fn statements_read(store: &mut Store, table: &str) -> bool {
    let (_, statements) = store.record_statements(|store| store.overview());
    statements.iter().any(|sql| sql.contains(table))
}

fn kept_touch_span(path: &Path) -> (Option<i64>, Option<i64>, i64) {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT first_at_ms, last_at_ms, exact FROM touch_time_span",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

fn touch_at(id: &str, at_ms: i64, anonymous_id: &str) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "web".into(),
        occurred_at_ms: at_ms,
        channel: "email".into(),
        touch_type: "click".into(),
        creator_id: None,
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: IdentityKeys {
            anonymous_id: Some(anonymous_id.into()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

/// The first and last touch instants are kept as touches land (migration 0025, which dropped
/// the time index over every touch): widened by each write, marked not exact by a delete of a
/// touch at either end (readers then count them from the rows, so they are never wrong), and
/// made exact again by erasure, the one writer that deletes touches.
#[test]
fn the_touch_span_is_kept_as_touches_land_and_stays_right_after_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = filled(&path);
    assert_eq!(
        kept_touch_span(&path),
        (Some(T0 - 1_000), Some(T0 - 1_000), 1)
    );
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch_at("early", T0 - 50_000, "early-visitor"))?;
            tx.insert_touch(&touch_at("late", T0 + 90_000, "late-visitor"))?;
            // A duplicate widens nothing.
            tx.insert_touch(&Touch {
                occurred_at_ms: T0 + 999_000,
                ..touch_at("late", T0 + 90_000, "late-visitor")
            })?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        kept_touch_span(&path),
        (Some(T0 - 50_000), Some(T0 + 90_000), 1)
    );
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());

    // A delete inside the span leaves it exact; one at an end marks it, and readers recount.
    let conn = Connection::open(&path).unwrap();
    conn.execute("DELETE FROM touch_rows WHERE touch_id = 't1'", [])
        .unwrap();
    assert_eq!(kept_touch_span(&path).2, 1);
    conn.execute("DELETE FROM touch_rows WHERE touch_id = 'late'", [])
        .unwrap();
    assert_eq!(kept_touch_span(&path).2, 0);
    assert_eq!(
        store.totals().unwrap().touch_span_ms,
        (Some(T0 - 50_000), Some(T0 - 50_000))
    );
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
    assert_eq!(
        store.activity_span_ms().unwrap(),
        (Some(T0 - 50_000), Some(T0))
    );

    // Erasing the person of the earliest touch settles the span from the rows that are left.
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch_at("middle", T0 + 10, "middle-visitor"))?;
            Ok(())
        })
        .unwrap();
    let component = store
        .identity_component(&IdentityKey {
            key_type: IdentityKeyType::AnonymousId,
            value: "early-visitor".into(),
        })
        .unwrap();
    store
        .erase_person(&ErasureRequest {
            component: &component,
            extra_terms: Vec::new(),
            requested_key_type: "anonymous_id".into(),
            marker: "m".repeat(64),
            suppression_salt: "5a".repeat(16),
            erased_at_ms: T0 + 100_000,
        })
        .unwrap();
    assert_eq!(kept_touch_span(&path), (Some(T0 + 10), Some(T0 + 10), 1));
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
}

/// The statements inside the raw_events triggers of 0016 and 0017, as the migrations write
/// them with the trigger's OLD / NEW values in place: each insert probes one record's versions
/// through raw_events_by_external_id (migration 0015), and a delete takes its event out of its
/// arrival's count through that table's key.
#[test]
fn the_raw_event_triggers_reach_rows_through_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(&dir.path().join("w.lookback"));
    let probe = store
        .query_plan(
            "SELECT 1 FROM raw_events
              WHERE source = 'shop' AND stream = 'orders' AND external_id = 'o1' AND raw_event_id <> 7",
        )
        .unwrap();
    assert_eq!(
        probe,
        vec!["SEARCH raw_events USING INDEX raw_events_by_external_id (external_id=?)".to_string()]
    );
    let arrival = store
        .query_plan(
            "SELECT events FROM raw_events_received WHERE received_at_ms = 5 AND source = 'shop'",
        )
        .unwrap();
    assert_eq!(
        arrival,
        vec![
            "SEARCH raw_events_received USING PRIMARY KEY (received_at_ms=? AND source=?)"
                .to_string()
        ]
    );
}

/// The arrival counts kept as events land (0017) equal a count of the raw events themselves.
fn assert_arrivals_match_raw_events(path: &Path) {
    let conn = Connection::open(path).unwrap();
    let rows = |sql: &str| -> Vec<(String, i64, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        rows(
            "SELECT source, received_at_ms, events FROM raw_events_received WHERE events > 0 ORDER BY 1, 2"
        ),
        rows("SELECT source, received_at_ms, COUNT(*) FROM raw_events GROUP BY 1, 2 ORDER BY 1, 2"),
    );
}

#[test]
fn erasing_a_sources_latest_raw_event_moves_its_last_arrival_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let store = filled(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "DELETE FROM raw_events WHERE source = 'shop' AND received_at_ms = ?1",
        params![T0 + 5],
    )
    .unwrap();
    let totals = store.totals().unwrap();
    let shop = totals.sources.iter().find(|s| s.source == "shop").unwrap();
    assert_eq!(
        (shop.raw_events, shop.raw_records, shop.last_received_at_ms),
        (2, 2, Some(T0 + 2))
    );
    assert_arrivals_match_raw_events(&path);
    conn.execute("DELETE FROM raw_events WHERE source = 'dub'", [])
        .unwrap();
    let totals = store.totals().unwrap();
    assert!(totals.sources.iter().all(|s| s.source != "dub"));
    assert_eq!(totals, store.recount_totals().unwrap());
    assert_arrivals_match_raw_events(&path);
}

/// A sync page may bring a record and its later update together: the insert is counted when the
/// transaction commits, the update by a trigger at once, and the totals end exact either way —
/// also for a currency or a source the totals have never seen.
#[test]
fn rows_inserted_and_changed_in_one_transaction_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let spend = |spend_minor, currency: &str| AdSpend {
        platform: "meta".into(),
        account_id: "act_1".into(),
        campaign_id: "cmp_1".into(),
        ad_id: String::new(),
        day: "2026-03-01".into(),
        account_timezone: "UTC".into(),
        channel: "paid_social".into(),
        creator_id: None,
        spend_minor,
        currency: currency.into(),
        impressions: None,
        clicks: None,
        source: "meta".into(),
        raw_event_id: None,
        updated_at_ms: T0,
    };
    store
        .write(|tx| {
            let order = Order {
                order_id: "o1".into(),
                source: "shop".into(),
                occurred_at_ms: T0,
                gross_minor: 9_000,
                currency: "CHF".into(),
                status: "paid".into(),
                click_id: None,
                identity: IdentityKeys::default(),
                raw_event_id: None,
            };
            tx.insert_order(&order)?;
            tx.restate_order(&Order {
                gross_minor: 4_000,
                currency: "SEK".into(),
                ..order
            })?;
            tx.insert_adjustment(&OrderAdjustment {
                adjustment_id: "c1".into(),
                order_id: "o1".into(),
                source: "shop".into(),
                kind: AdjustmentKind::Chargeback,
                occurred_at_ms: T0,
                amount_minor: 4_000,
                currency: "SEK".into(),
                status: "open".into(),
                raw_event_id: None,
            })?;
            tx.update_adjustment_status("c1", "won")?;
            tx.upsert_ad_spend(&spend(100, "NOK"))?;
            tx.upsert_ad_spend(&spend(250, "DKK"))?;
            let letter = tx.insert_dead_letter(&NewDeadLetter {
                source: "new-source".into(),
                stream: "orders".into(),
                location: "page-1".into(),
                reason: "amount is not a number".into(),
                payload: "{}".into(),
                created_at_ms: T0,
            })?;
            tx.resolve_dead_letter(letter, T0 + 1)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let totals = store.totals().unwrap();
    assert_eq!(totals, store.recount_totals().unwrap());
    let figures: Vec<(MoneyFigure, &str, u64, i64)> = totals
        .money
        .iter()
        .map(|m| (m.figure, m.currency.as_str(), m.rows, m.amount_minor))
        .collect();
    assert_eq!(
        figures,
        vec![
            (MoneyFigure::AdSpend, "DKK", 1, 250),
            (MoneyFigure::OrderGross, "SEK", 1, 4_000),
        ]
    );
    assert!(totals.sources.is_empty(), "{:?}", totals.sources);
}

/// A refund counts at its order's instant (a run converts it on its order's day), also when it
/// arrives before its order; it goes back to its own instant when the order is deleted, and
/// follows the order when a person moves the order in time with SQL.
#[test]
fn a_refund_counts_at_its_orders_instant_whenever_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    const DAY: i64 = 86_400_000;
    let refund = |id: &str, order: &str, at: i64| OrderAdjustment {
        adjustment_id: id.into(),
        order_id: order.into(),
        source: "shop".into(),
        kind: AdjustmentKind::Refund,
        occurred_at_ms: at,
        amount_minor: 300,
        currency: "EUR".into(),
        status: "succeeded".into(),
        raw_event_id: None,
    };
    let order = |id: &str, at: i64| Order {
        order_id: id.into(),
        source: "shop".into(),
        occurred_at_ms: at,
        gross_minor: 1_000,
        currency: "EUR".into(),
        status: "paid".into(),
        click_id: None,
        identity: IdentityKeys::default(),
        raw_event_id: None,
    };
    // r1 after its order; r2 before its order, in another transaction.
    store
        .write(|tx| {
            tx.insert_order(&order("o1", T0))?;
            tx.insert_adjustment(&refund("r1", "o1", T0 + 3 * DAY))?;
            tx.insert_adjustment(&refund("r2", "o2", T0 + 5 * DAY))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
        .write(|tx| {
            tx.insert_order(&order("o2", T0 + DAY))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let refunds = |store: &Store| -> Vec<(i64, u64)> {
        let totals = store.totals().unwrap();
        assert_eq!(totals, store.recount_totals().unwrap());
        totals
            .revenue_slots
            .iter()
            .filter(|r| r.figure == MoneyFigure::Refunds)
            .map(|r| (r.slot, r.rows))
            .collect()
    };
    assert_eq!(
        refunds(&store),
        vec![(slot_of(T0), 1), (slot_of(T0 + DAY), 1)]
    );
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE orders SET occurred_at_ms = ?1 WHERE order_id = 'o1'",
        params![T0 + 2 * DAY],
    )
    .unwrap();
    assert_eq!(
        refunds(&store),
        vec![(slot_of(T0 + DAY), 1), (slot_of(T0 + 2 * DAY), 1)]
    );
    conn.execute("DELETE FROM orders WHERE order_id = 'o2'", [])
        .unwrap();
    assert_eq!(
        refunds(&store),
        vec![(slot_of(T0 + 2 * DAY), 1), (slot_of(T0 + 5 * DAY), 1)]
    );
    conn.execute(
        "UPDATE order_adjustments SET order_id = 'o1' WHERE adjustment_id = 'r2'",
        [],
    )
    .unwrap();
    assert_eq!(refunds(&store), vec![(slot_of(T0 + 2 * DAY), 2)]);
    conn.execute("DELETE FROM order_adjustments", []).unwrap();
    assert_eq!(refunds(&store), vec![]);
}
