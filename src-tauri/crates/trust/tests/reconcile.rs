//! Reconciliation on a hand-built store where each gap cause is planted once and must be
//! found, with its order named; the conservation check, run diffs, duplicates and health.

mod common;

use chrono::NaiveDate;
use common::{DAY_MS, T0, customer, order, raw, touch};
use lookback_store::{
    AdjustmentKind, Creator, Credit, IdentityKeys, JoinKind, NewRun, OrderAdjustment, RunOrder,
    RunOrderOutcome, RunStatus, Source, Store,
};
use lookback_trust::{
    GapCause, HealthPolicy, HealthState, ReconcileOptions, check_conservation, diff_runs,
    duplicate_counts, reconcile, source_health_states,
};

fn run_order(id: &str, outcome: RunOrderOutcome, net: i64) -> RunOrder {
    RunOrder {
        order_id: id.into(),
        outcome,
        net_minor: net,
        provisional: false,
        join_kind: None,
    }
}

fn credit(order: &str, touch: &str, revenue: i64) -> Credit {
    Credit {
        order_id: order.into(),
        touch_id: touch.into(),
        share_ppb: 1_000_000_000,
        revenue_minor: revenue,
        join_kind: JoinKind::Deterministic,
        confidence_ppm: 1_000_000,
    }
}

fn new_run(store: &mut Store, orders: Vec<RunOrder>, credits: Vec<Credit>) -> i64 {
    let watermark = store.input_watermark().unwrap();
    let run = store
        .insert_run(&NewRun {
            model: "last-touch".into(),
            parameters: "{}".into(),
            lookback_days: 30,
            settlement_days: 14,
            reporting_currency: "USD".into(),
            input_watermark: watermark,
            started_at_ms: T0,
        })
        .unwrap();
    store.insert_run_orders(run, orders).unwrap();
    store.insert_credits(run, credits).unwrap();
    store
        .finish_run(run, RunStatus::Complete, T0, None)
        .unwrap();
    run
}

/// The planted store; returns it and the ids of the two runs.
fn planted(dir: &std::path::Path) -> (Store, i64, i64) {
    let mut store = Store::create(dir.join("w.lookback")).unwrap();
    let mut tx = store.begin().unwrap();
    tx.upsert_creator(&Creator {
        creator_id: "c1".into(),
        display_name: "Known".into(),
        handle: None,
        platform: None,
        created_at_ms: None,
    })
    .unwrap();
    // Attributed, known creator.
    tx.insert_touch(&touch(
        "t-ok",
        T0 - DAY_MS,
        Some("c1"),
        IdentityKeys::default(),
        Some("clk-ok"),
    ))
    .unwrap();
    tx.insert_order(&order(
        "o-ok",
        T0,
        3000,
        "USD",
        IdentityKeys::default(),
        Some("clk-ok"),
    ))
    .unwrap();
    // Attributed to a creator nobody registered.
    tx.insert_touch(&touch(
        "t-ghost",
        T0 - DAY_MS,
        Some("ghost"),
        IdentityKeys::default(),
        Some("clk-ghost"),
    ))
    .unwrap();
    tx.insert_order(&order(
        "o-ghost",
        T0,
        2000,
        "USD",
        IdentityKeys::default(),
        Some("clk-ghost"),
    ))
    .unwrap();
    // No keys at all: identity unresolved.
    tx.insert_order(&order(
        "o-anon",
        T0,
        1500,
        "USD",
        IdentityKeys::default(),
        None,
    ))
    .unwrap();
    // The person has a touch, but 60 days before the order: none in the window.
    tx.insert_touch(&touch(
        "t-old",
        T0 - 60 * DAY_MS,
        Some("c1"),
        customer("cus-old"),
        None,
    ))
    .unwrap();
    tx.insert_order(&order("o-old", T0, 1200, "USD", customer("cus-old"), None))
        .unwrap();
    // A currency the run had no rate for.
    tx.insert_order(&order(
        "o-eur",
        T0,
        900,
        "EUR",
        IdentityKeys::default(),
        None,
    ))
    .unwrap();
    // Marked refunded at the source, but no refund synced.
    let mut refunded = order("o-refunded", T0, 700, "USD", IdentityKeys::default(), None);
    refunded.status = "refunded".into();
    tx.insert_order(&refunded).unwrap();
    // A refund whose order never arrived.
    tx.insert_adjustment(&OrderAdjustment {
        adjustment_id: "re-1".into(),
        order_id: "o-missing".into(),
        source: "stripe".into(),
        kind: AdjustmentKind::Refund,
        occurred_at_ms: T0,
        amount_minor: 400,
        currency: "USD".into(),
        status: "succeeded".into(),
        raw_event_id: None,
    })
    .unwrap();
    tx.commit().unwrap();
    let first = new_run(
        &mut store,
        vec![
            run_order("o-ok", RunOrderOutcome::Attributed, 3000),
            run_order("o-ghost", RunOrderOutcome::Attributed, 2000),
            run_order("o-anon", RunOrderOutcome::Unattributed, 1500),
            run_order("o-old", RunOrderOutcome::Unattributed, 1200),
            run_order("o-eur", RunOrderOutcome::MissingFx, 0),
            run_order("o-refunded", RunOrderOutcome::Unattributed, 700),
        ],
        vec![
            credit("o-ok", "t-ok", 3000),
            credit("o-ghost", "t-ghost", 2000),
        ],
    );
    // A re-run after a restated sync that moved o-ghost to c1, with one cent lost.
    let second = new_run(
        &mut store,
        vec![
            run_order("o-ok", RunOrderOutcome::Attributed, 3000),
            run_order("o-ghost", RunOrderOutcome::Attributed, 2000),
        ],
        vec![
            credit("o-ok", "t-ok", 2999),
            credit("o-ghost", "t-ok", 2000),
        ],
    );
    (store, first, second)
}

#[test]
fn every_planted_gap_cause_is_found_with_its_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, first, _second) = planted(dir.path());
    // Report against the first run: make it the latest by deleting the second.
    store.delete_run(first + 1).unwrap();
    // An order synced after the run.
    let mut tx = store.begin().unwrap();
    tx.insert_order(&order(
        "o-late",
        T0 + 1000,
        800,
        "USD",
        IdentityKeys::default(),
        None,
    ))
    .unwrap();
    tx.commit().unwrap();

    let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let report = reconcile(
        &store,
        &ReconcileOptions {
            from_day: day,
            to_day: day,
            top: 5,
        },
    )
    .unwrap();
    assert_eq!(report.run.as_ref().unwrap().run_id, first);
    assert!(!report.run_is_current, "an order arrived after the run");
    let gap = |cause: GapCause| {
        report
            .gaps
            .iter()
            .find(|g| g.cause == cause)
            .unwrap_or_else(|| panic!("{cause:?} not found"))
    };
    let top_ids = |cause: GapCause| {
        gap(cause)
            .top
            .iter()
            .map(|c| c.order_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        top_ids(GapCause::IdentityUnresolved),
        ["o-anon", "o-refunded"]
    );
    assert_eq!(top_ids(GapCause::NoTouchInWindow), ["o-old"]);
    assert_eq!(top_ids(GapCause::UnknownCreatorOrCampaign), ["o-ghost"]);
    assert_eq!(gap(GapCause::UnknownCreatorOrCampaign).amounts["USD"], 2000);
    assert_eq!(top_ids(GapCause::MissingFx), ["o-eur"]);
    assert_eq!(gap(GapCause::MissingFx).amounts["EUR"], 900);
    assert_eq!(top_ids(GapCause::NotInRun), ["o-late"]);
    assert_eq!(
        top_ids(GapCause::RefundNotSynced),
        ["o-refunded", "o-missing"]
    );
    assert_eq!(gap(GapCause::RefundNotSynced).amounts["USD"], 700 + 400);

    // Per source and day, the USD orders of stripe add up exactly.
    let usd = report
        .rows
        .iter()
        .find(|r| r.source == "stripe" && r.currency == "USD")
        .unwrap();
    assert_eq!(usd.orders, 6);
    assert_eq!(usd.net_minor, 3000 + 2000 + 1500 + 1200 + 700 + 800);
    assert_eq!(usd.attributed_minor, 5000);
    assert_eq!(usd.unattributed_minor, 1500 + 1200 + 700);
    assert_eq!(
        usd.known_to_attribution_minor,
        usd.attributed_minor + usd.unattributed_minor
    );
    assert!(report.conservation.as_ref().unwrap().holds());
}

#[test]
fn conservation_violations_are_reported_to_the_minor_unit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, first, second) = planted(dir.path());
    assert!(check_conservation(&store, first).unwrap().holds());
    let report = check_conservation(&store, second).unwrap();
    assert_eq!(report.violations.len(), 1);
    let v = &report.violations[0];
    assert_eq!(
        (v.order_id.as_str(), v.net_minor, v.credited_minor),
        ("o-ok", 3000, 2999)
    );
    assert!(check_conservation(&store, 999).is_err());
}

#[test]
fn what_moved_between_two_runs_per_creator() {
    let dir = tempfile::tempdir().unwrap();
    let (store, first, second) = planted(dir.path());
    let moves = diff_runs(&store, first, second).unwrap();
    let of = |c: &str| {
        moves
            .iter()
            .find(|m| m.creator_id.as_deref() == Some(c))
            .unwrap()
            .delta_minor
    };
    assert_eq!(of("ghost"), -2000);
    assert_eq!(of("c1"), 1999);
    assert_eq!(moves.len(), 2);
}

#[test]
fn duplicates_and_health_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    raw(
        &mut store,
        "stripe",
        "charges",
        "ch_1",
        r#"{"amount":1}"#,
        T0,
    );
    raw(
        &mut store,
        "stripe",
        "charges",
        "ch_1",
        r#"{"amount":1}"#,
        T0,
    ); // absorbed, not stored
    raw(
        &mut store,
        "stripe",
        "charges",
        "ch_1",
        r#"{"amount":2}"#,
        T0,
    ); // restated
    raw(
        &mut store,
        "stripe",
        "charges",
        "ch_2",
        r#"{"amount":3}"#,
        T0,
    );
    let counts = duplicate_counts(&store).unwrap();
    assert_eq!(
        (
            counts[0].raw_events,
            counts[0].distinct_records,
            counts[0].restated_versions
        ),
        (3, 2, 1)
    );

    let now = T0 + DAY_MS;
    let mut tx = store.begin().unwrap();
    for (id, name) in [
        ("a-ok", "OK"),
        ("b-stale", "Stale"),
        ("c-failing", "Failing"),
        ("d-never", "Never"),
    ] {
        tx.upsert_source(&Source {
            source_id: id.into(),
            kind: "stripe".into(),
            name: name.into(),
            base_url: None,
            account: None,
            credential_ref: None,
            created_at_ms: T0,
            last_attempt_at_ms: None,
            last_success_at_ms: None,
            last_error: None,
        })
        .unwrap();
    }
    tx.record_sync_success("a-ok", now - 60_000).unwrap();
    tx.record_sync_success("b-stale", now - 7 * 3_600_000)
        .unwrap();
    tx.record_sync_success("c-failing", now - 60_000).unwrap();
    tx.record_sync_failure("c-failing", now - 1_000, "HTTP 401")
        .unwrap();
    tx.commit().unwrap();
    let states = source_health_states(&store, now, HealthPolicy::default()).unwrap();
    let state = |id: &str| states.iter().find(|s| s.source_id == id).unwrap().state;
    assert_eq!(state("a-ok"), HealthState::Ok);
    assert_eq!(state("b-stale"), HealthState::Stale);
    assert_eq!(state("c-failing"), HealthState::Failing);
    assert_eq!(state("d-never"), HealthState::Stale);
}

/// Without dates, the window and `lookback reconcile` cover the 30 days ending on the last day
/// with data (today in an empty workspace), in the reporting zone; given days are kept.
#[test]
fn the_default_days_end_on_the_last_day_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    let now = T0 + 100 * DAY_MS;
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .date_naive()
    };
    let empty = ReconcileOptions::days_or_default(&store, None, None, 5, now).unwrap();
    assert_eq!(
        (empty.from_day, empty.to_day),
        (day(now) - chrono::Duration::days(29), day(now))
    );
    store
        .write(|tx| {
            tx.insert_order(&order(
                "o1",
                T0 + 3 * DAY_MS,
                1_000,
                "USD",
                customer("c1"),
                None,
            ))
        })
        .unwrap();
    let data = ReconcileOptions::days_or_default(&store, None, None, 5, now).unwrap();
    assert_eq!(
        data.to_day,
        day(T0 + 3 * DAY_MS),
        "the last day with data, not today"
    );
    assert_eq!(
        data.to_day - data.from_day,
        chrono::Duration::days(29),
        "30 days inclusive"
    );
    let given = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let kept = ReconcileOptions::days_or_default(&store, Some(given), Some(given), 5, now).unwrap();
    assert_eq!((kept.from_day, kept.to_day), (given, given));
}
