//! Creator statements on a hand-built workspace, every figure computed by hand, read back from
//! the CSV and from the PDF's text (extracted as a viewer would).
//!
//! USD, zone UTC, settlement 14 days, now = 2026-04-30T00:00Z; the model is changed from
//! last-touch to linear on Apr 12, so the run is linear. Creator c1 (Ana), creator c2 (Ben).
//! - oA alice 100.00 Mar 5; touches t1 (c1, Mar 4) and t2 (c2, Mar 4 12:00) → c1 50 %.
//!   Refund 40.00 on Apr 10: net 60.00, c1 credited 30.00, c1's refunds 20.00, gross 50.00.
//! - oB bob 60.00 Apr 3; touch t3 (c1) → 100 %. Refund 15.00 on Apr 20: credited 45.00.
//! - oC carol 30.00 Apr 28; touch t4 (c1) → 100 %, provisional (2 days old).
//! - oD dave 70.00 Apr 5; touch t5 (c2 only): not c1's.
//! - Costs: c1 fee 25.00 USD Apr 1, c1 commission 10.00 EUR Apr 15 (rate 1.2 → 12.00 USD),
//!   c2 fee 99.00 USD Apr 1 (not c1's).
//!
//! c1's April statement: orders oB 60.00 − 15.00 = 45.00 settled, oC 30.00 provisional;
//! clawback of oA −20.00 booked Apr 10; net 45 + 30 − 20 = 55.00; costs 37.00; ROAS 55/37 = 1.49.
//! c1's March statement: oA 50.00 (its refund is April's), net 50.00. March + April = 105.00 =
//! c1's credited revenue 30 + 45 + 30.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::NaiveDate;
use lookback_report::export::ExportOptions;
use lookback_report::statement::{csv::statement_csv, pdf::statement_pdf};
use lookback_report::{CreatorStatement, creator_statement};
use lookback_store::{
    AdjustmentKind, Creator, CreatorCost, CreatorCostKind, FxRate, IdentityKeys, Order,
    OrderAdjustment, Store, StoreError, Touch,
};

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MAR1: i64 = 1_772_323_200_000;
/// 2026-04-01T00:00:00Z.
const APR1: i64 = MAR1 + 31 * DAY;
const NOW: i64 = APR1 + 29 * DAY;

fn keys(person: &str) -> IdentityKeys {
    IdentityKeys {
        anonymous_id: Some(format!("anon-{person}")),
        ..IdentityKeys::default()
    }
}

fn touch(id: &str, person: &str, at: i64, channel: &str, creator: &str) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        channel: channel.into(),
        touch_type: "click".into(),
        creator_id: Some(creator.into()),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: keys(person),
        raw_event_id: None,
    }
}

fn order(id: &str, person: &str, at: i64, gross: i64) -> Order {
    Order {
        order_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        gross_minor: gross,
        currency: "USD".into(),
        status: "paid".into(),
        click_id: None,
        identity: keys(person),
        raw_event_id: None,
    }
}

fn refund(id: &str, order_id: &str, at: i64, amount: i64) -> OrderAdjustment {
    OrderAdjustment {
        adjustment_id: id.into(),
        order_id: order_id.into(),
        source: "test".into(),
        kind: AdjustmentKind::Refund,
        occurred_at_ms: at,
        amount_minor: amount,
        currency: "USD".into(),
        status: "succeeded".into(),
        raw_event_id: None,
    }
}

fn cost(
    id: &str,
    creator: &str,
    day: &str,
    kind: CreatorCostKind,
    minor: i64,
    cur: &str,
) -> CreatorCost {
    CreatorCost {
        cost_id: id.into(),
        creator_id: creator.into(),
        day: day.into(),
        kind,
        amount_minor: minor,
        currency: cur.into(),
        source: "test".into(),
        raw_event_id: None,
    }
}

/// The workspace of the module docs and its linear run.
fn workspace(dir: &tempfile::TempDir) -> (Store, i64) {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| -> Result<(), StoreError> {
            for (id, name) in [("c1", "Ana"), ("c2", "Ben")] {
                tx.upsert_creator(&Creator {
                    creator_id: id.into(),
                    display_name: name.into(),
                    handle: None,
                    platform: Some("instagram".into()),
                    created_at_ms: None,
                })?;
            }
            tx.insert_touch(&touch("t1", "alice", MAR1 + 3 * DAY, "instagram", "c1"))?;
            tx.insert_touch(&touch(
                "t2",
                "alice",
                MAR1 + 3 * DAY + DAY / 2,
                "tiktok",
                "c2",
            ))?;
            tx.insert_touch(&touch("t3", "bob", APR1 + DAY, "instagram", "c1"))?;
            tx.insert_touch(&touch("t4", "carol", APR1 + 26 * DAY, "instagram", "c1"))?;
            tx.insert_touch(&touch("t5", "dave", APR1 + 3 * DAY, "tiktok", "c2"))?;
            tx.insert_order(&order("oA", "alice", MAR1 + 4 * DAY, 10_000))?;
            tx.insert_order(&order("oB", "bob", APR1 + 2 * DAY, 6_000))?;
            tx.insert_order(&order("oC", "carol", APR1 + 27 * DAY, 3_000))?;
            tx.insert_order(&order("oD", "dave", APR1 + 4 * DAY, 7_000))?;
            tx.insert_adjustment(&refund("rA", "oA", APR1 + 9 * DAY, 4_000))?;
            tx.insert_adjustment(&refund("rB", "oB", APR1 + 19 * DAY, 1_500))?;
            tx.upsert_fx_rate(&FxRate {
                day: "2026-04-15".into(),
                from_currency: "EUR".into(),
                to_currency: "USD".into(),
                rate: "1.2".into(),
                source: "test".into(),
            })?;
            tx.insert_creator_cost(&cost(
                "fee-c1",
                "c1",
                "2026-04-01",
                CreatorCostKind::Fee,
                2_500,
                "USD",
            ))?;
            tx.insert_creator_cost(&cost(
                "com-c1",
                "c1",
                "2026-04-15",
                CreatorCostKind::Commission,
                1_000,
                "EUR",
            ))?;
            tx.insert_creator_cost(&cost(
                "fee-c2",
                "c2",
                "2026-04-01",
                CreatorCostKind::Fee,
                9_900,
                "USD",
            ))?;
            Ok(())
        })
        .unwrap();
    lookback_engine::set_model(
        &mut store,
        Model::Linear,
        &ModelParams::default(),
        "test",
        "Share credit between creators",
        APR1 + 11 * DAY,
    )
    .unwrap();
    let run = lookback_engine::run_model(&mut store, Model::Linear, &ModelParams::default(), NOW)
        .unwrap()
        .run_id;
    (store, run)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn april(store: &Store, run: i64) -> CreatorStatement {
    creator_statement(store, run, "c1", day("2026-04-01"), day("2026-04-30")).unwrap()
}

#[test]
fn a_refund_of_an_earlier_periods_order_is_a_clawback_and_the_periods_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = workspace(&dir);
    let s = april(&store, run);
    let orders: Vec<(&str, i64, i64, i64, bool)> = s
        .orders
        .iter()
        .map(|o| {
            (
                o.order_id.as_str(),
                o.credited_gross_minor,
                o.refunds_minor,
                o.amount_minor,
                o.provisional,
            )
        })
        .collect();
    assert_eq!(
        orders,
        vec![
            ("oB", 6_000, 1_500, 4_500, false),
            ("oC", 3_000, 0, 3_000, true)
        ]
    );
    assert_eq!(s.clawbacks.len(), 1);
    let c = &s.clawbacks[0];
    assert_eq!(
        (
            c.order_id.as_str(),
            c.order_day,
            c.booked_day,
            c.share_ppb,
            c.amount_minor
        ),
        (
            "oA",
            day("2026-03-05"),
            day("2026-04-10"),
            500_000_000,
            -2_000
        )
    );
    assert_eq!(
        (
            s.settled_minor,
            s.provisional_minor,
            s.clawbacks_minor,
            s.net_minor
        ),
        (4_500, 3_000, -2_000, 5_500)
    );
    assert_eq!(
        (s.creator_costs_minor, s.ad_spend_minor, s.cost_minor),
        (3_700, 0, 3_700)
    );
    assert_eq!(s.roas.as_ref().unwrap().to_decimal_string(2), "1.49");
    assert_eq!(s.model_changes.len(), 1);
    assert_eq!(s.model_changes[0].to_model, "linear");
    assert_eq!(s.run.model, "linear");
    // Only c1's costs, in their own currencies.
    let costs: Vec<(&str, i64, &str)> = s
        .costs
        .iter()
        .map(|c| (c.cost_id.as_str(), c.amount_minor, c.currency.as_str()))
        .collect();
    assert_eq!(
        costs,
        vec![("fee-c1", 2_500, "USD"), ("com-c1", 1_000, "EUR")]
    );

    let march = creator_statement(&store, run, "c1", day("2026-03-01"), day("2026-03-31")).unwrap();
    assert_eq!(march.orders.len(), 1);
    assert_eq!(
        (
            march.orders[0].credited_gross_minor,
            march.orders[0].refunds_minor,
            march.net_minor
        ),
        (5_000, 0, 5_000)
    );
    assert!(march.clawbacks.is_empty());
    assert!(march.model_changes.is_empty());
    // March + April = everything the run credits c1 with.
    assert_eq!(march.net_minor + s.net_minor, 3_000 + 4_500 + 3_000);
}

#[test]
fn the_pdf_reads_as_the_statement_and_holds_only_that_creators_data() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = workspace(&dir);
    let s = april(&store, run);
    let pdf = statement_pdf(&s, NOW + 3_600_000).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    for expected in [
        "Creator statement",
        "Ana (c1)",
        "Period 2026-04-01 to 2026-04-30",
        "Model linear",
        &format!("Attribution run #{run} · bot touches excluded"),
        "Created 2026-04-30 01:00:00 UTC",
        "Net credited revenue",
        "55.00 USD",
        "45.00 USD",
        "30.00 USD",
        "-20.00 USD",
        "oB",
        "oC",
        "oA",
        "2026-04-10",
        "fee-c1",
        "10.00 EUR",
        "37.00 USD",
        "1.49",
        "linear",
        "Share credit between creators",
        "page 1 of 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in the PDF's text:\n{text}"
        );
    }
    for foreign in ["Ben", "c2", "oD", "99.00", "fee-c2"] {
        assert!(
            !text.contains(foreign),
            "{foreign:?} of another creator is in the PDF:\n{text}"
        );
    }

    let out = dir.path().join("april.csv");
    statement_csv(&s, &out, &ExportOptions::default(), NOW).unwrap();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        vec![
            "section,reference,day,order_day,share,credited_gross,refunds,amount,status,currency",
            "order,oB,2026-04-03,2026-04-03,1.000000000,60.00,15.00,45.00,settled,USD",
            "order,oC,2026-04-28,2026-04-28,1.000000000,30.00,0.00,30.00,provisional,USD",
            "clawback,oA,2026-04-10,2026-03-05,0.500000000,,20.00,-20.00,clawback,USD",
            "fee,fee-c1,2026-04-01,,,,,25.00,,USD",
            "commission,com-c1,2026-04-15,,,,,10.00,,EUR",
        ]
    );
    let sidecar = std::fs::read_to_string(dir.path().join("april.csv.json")).unwrap();
    assert!(sidecar.contains("\"net\": \"55.00\""), "{sidecar}");
    assert!(
        !sidecar.contains("c2") && !sidecar.contains("Ben"),
        "{sidecar}"
    );
}

#[test]
fn the_same_run_gives_the_same_bytes_apart_from_the_creation_date() {
    let dir = tempfile::tempdir().unwrap();
    let (store, run) = workspace(&dir);
    let first = statement_pdf(&april(&store, run), NOW).unwrap();
    let again = statement_pdf(&april(&store, run), NOW).unwrap();
    assert_eq!(
        first, again,
        "two statements of one run at one instant differ"
    );

    // 2027-11-14T13:14:15Z: nearly every digit of the date differs from 2026-04-30T00:00:00Z's.
    let later = statement_pdf(&april(&store, run), 1_826_198_055_000).unwrap();
    assert_eq!(first.len(), later.len());
    let differing: Vec<usize> = (0..first.len()).filter(|&i| first[i] != later[i]).collect();
    assert!(!differing.is_empty());
    // The differences form two short runs: the document information's CreationDate and the
    // "Created" line's own content stream.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in differing {
        match runs.last_mut() {
            Some((_, end)) if i - *end <= 100 => *end = i,
            _ => runs.push((i, i)),
        }
    }
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (start, end) in &runs {
        assert!(
            end - start < 160,
            "a difference of {} bytes: {runs:?}",
            end - start
        );
    }
    let info = String::from_utf8_lossy(&first[runs[1].0 - 20..=runs[1].1 + 2]).into_owned();
    assert!(info.contains("D:2026"), "{info}");
    let text = |pdf: &[u8]| {
        pdf_extract::extract_text_from_mem(pdf)
            .unwrap()
            .replace("2026-04-30 00:00:00 UTC", "DATE")
            .replace("2027-11-14 13:14:15 UTC", "DATE")
    };
    assert_eq!(text(&first), text(&later));
}
