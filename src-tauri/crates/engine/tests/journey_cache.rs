//! The journey cache and the per-run report totals change speed, never numbers: a run from cached
//! journeys writes exactly the credits, orders and weights of a run that resolved them; reports
//! read from the totals equal the exact joins; and any change of the inputs (an order, a touch, an
//! identity link, an fx rate, a setting) makes the next run resolve again.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::NaiveDate;
use lookback_engine::{load_journeys, run_model};
use lookback_report::{CreditKey, CreditsReport, credits_by};
use lookback_store::{
    AdjustmentKind, FxRate, IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, Order,
    OrderAdjustment, Store, Touch,
};

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MAR1: i64 = 1_772_323_200_000;
const NOW: i64 = MAR1 + 40 * DAY;

/// xorshift64, so the workspace is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn keys(anonymous: Option<String>, email: Option<String>) -> IdentityKeys {
    IdentityKeys {
        anonymous_id: anonymous,
        email_sha256: email,
        ..IdentityKeys::default()
    }
}

/// A few hundred touches of 60 people over 8 channels (some direct), with creators, campaigns
/// and content; orders joined by click id, by anonymous id, through an email link, or not at all;
/// USD and EUR orders (one EUR day without a rate), a refund, an open chargeback, and young orders.
fn workspace(dir: &tempfile::TempDir, probabilistic: bool) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store.set_probabilistic_matching(probabilistic).unwrap();
    store.set_reporting_timezone("America/New_York").unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let channels = [
        "direct",
        "instagram",
        "tiktok",
        "youtube",
        "organic_search",
        "email",
        "affiliate",
        "podcast",
    ];
    store
        .write(|tx| -> Result<(), lookback_store::StoreError> {
            for day in 0..45 {
                if day != 7 {
                    let name = lookback_core::time::format_instant_ms(MAR1 + day * DAY).unwrap()
                        [..10]
                        .to_owned();
                    let rate = format!("1.{:02}", 10 + rng.below(30));
                    tx.upsert_fx_rate(&FxRate {
                        day: name,
                        from_currency: "EUR".into(),
                        to_currency: "USD".into(),
                        rate,
                        source: "test".into(),
                    })?;
                }
            }
            let mut touch_number = 0;
            for person in 0..60u64 {
                let mut at = MAR1 + rng.below(30 * DAY as u64) as i64;
                let touches = 1 + rng.below(6);
                let mut last_click = None;
                for _ in 0..touches {
                    touch_number += 1;
                    let click = (rng.below(4) == 0).then(|| format!("click{touch_number}"));
                    if click.is_some() {
                        last_click = click.clone();
                    }
                    // Every fifth person browses without an anonymous id, only as a device.
                    let identity = if person % 5 == 4 {
                        IdentityKeys {
                            device_id: Some(format!("dev{person}")),
                            ..IdentityKeys::default()
                        }
                    } else {
                        keys(Some(format!("anon{person}")), None)
                    };
                    tx.insert_touch(&Touch {
                        touch_id: format!("t{touch_number:04}"),
                        source: "test".into(),
                        occurred_at_ms: at,
                        channel: channels[rng.below(channels.len() as u64) as usize].into(),
                        touch_type: "click".into(),
                        creator_id: (rng.below(3) != 0).then(|| format!("creator{}", rng.below(5))),
                        campaign_id: (rng.below(2) == 0)
                            .then(|| format!("campaign{}", rng.below(4))),
                        ad_id: None,
                        content_id: (rng.below(4) == 0).then(|| format!("post{}", rng.below(6))),
                        click_id: click,
                        identity,
                        raw_event_id: None,
                    })?;
                    at += rng.below(3 * DAY as u64) as i64;
                }
                if person % 4 == 3 {
                    continue; // never buys: non-converting paths only
                }
                for n in 0..(1 + rng.below(2)) {
                    let order_at = at + (n as i64) * DAY + rng.below(DAY as u64) as i64;
                    let (click_id, identity) = match person % 5 {
                        0 => (last_click.clone(), IdentityKeys::default()),
                        4 => (None, keys(None, Some(format!("{person:064x}")))),
                        _ => (None, keys(Some(format!("anon{person}")), None)),
                    };
                    let order_id = format!("o{person}-{n}");
                    tx.insert_order(&Order {
                        order_id: order_id.clone(),
                        source: "test".into(),
                        occurred_at_ms: order_at,
                        gross_minor: 1_000 + rng.below(9_000) as i64,
                        currency: if person % 3 == 0 { "EUR" } else { "USD" }.into(),
                        status: "paid".into(),
                        click_id,
                        identity,
                        raw_event_id: None,
                    })?;
                    if person % 7 == 1 {
                        let chargeback = person % 2 == 0;
                        tx.insert_adjustment(&OrderAdjustment {
                            adjustment_id: format!("adj-{order_id}"),
                            order_id: order_id.clone(),
                            source: "test".into(),
                            kind: if chargeback {
                                AdjustmentKind::Chargeback
                            } else {
                                AdjustmentKind::Refund
                            },
                            occurred_at_ms: order_at + DAY,
                            amount_minor: 300,
                            currency: if person % 3 == 0 { "EUR" } else { "USD" }.into(),
                            status: if chargeback { "open" } else { "succeeded" }.into(),
                            raw_event_id: None,
                        })?;
                    }
                }
                if person % 5 == 4 {
                    tx.insert_identity_link(&IdentityLink {
                        a: IdentityKey {
                            key_type: IdentityKeyType::DeviceId,
                            value: format!("dev{person}"),
                        },
                        b: IdentityKey {
                            key_type: IdentityKeyType::EmailSha256,
                            value: format!("{person:064x}"),
                        },
                        source: "test".into(),
                        created_at_ms: MAR1,
                    })?;
                }
            }
            // An order nobody can be found for (probabilistic matching may still guess).
            tx.insert_order(&Order {
                order_id: "o-stranger".into(),
                source: "test".into(),
                occurred_at_ms: MAR1 + 10 * DAY,
                gross_minor: 2_500,
                currency: "USD".into(),
                status: "paid".into(),
                click_id: Some("no-such-click".into()),
                identity: IdentityKeys::default(),
                raw_event_id: None,
            })?;
            Ok(())
        })
        .unwrap();
    store
}

/// Everything a run wrote, as comparable values.
fn snapshot(
    store: &Store,
    run_id: i64,
) -> (
    Vec<lookback_store::Credit>,
    Vec<lookback_store::RunOrder>,
    String,
) {
    let weights = format!("{:?}", store.run_channel_weights(run_id).unwrap());
    (
        store.credits_for_run(run_id).unwrap(),
        store.run_orders(run_id).unwrap(),
        weights,
    )
}

/// Every report of a run: each key, whole and over a day range, all orders and settled only.
fn reports(store: &Store, run_id: i64) -> Vec<CreditsReport> {
    let range = Some((
        NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
    ));
    let mut all = Vec::new();
    for key in CreditKey::ALL {
        for range in [None, range] {
            for settled_only in [false, true] {
                all.push(credits_by(store, run_id, key, range, settled_only).unwrap());
            }
        }
    }
    all
}

/// Changes the input watermark without changing anything a run or report reads: a rate for a
/// currency pair no order uses.
fn touch_watermark(store: &mut Store) {
    store
        .write(|tx| {
            tx.upsert_fx_rate(&FxRate {
                day: "2020-01-01".into(),
                from_currency: "JPY".into(),
                to_currency: "CHF".into(),
                rate: "0.01".into(),
                source: "test".into(),
            })
        })
        .unwrap();
}

#[test]
fn cached_journeys_give_byte_identical_runs_for_every_model() {
    for probabilistic in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir, probabilistic);
        let params = ModelParams::default();
        let mut attributed = 0;
        for model in Model::ALL {
            // Resolved: no cache at all.
            store.clear_journey_cache().unwrap();
            let resolved = run_model(&mut store, model, &params, NOW).unwrap();
            assert!(!resolved.reused);
            let expected = snapshot(&store, resolved.run_id);
            let expected_reports = reports(&store, resolved.run_id);

            // Cached: the same run again, from the journeys the first one stored.
            let watermark = store.input_watermark().unwrap();
            assert!(
                load_journeys(&mut store, &watermark, params.lookback_days, NOW, true)
                    .unwrap()
                    .2,
                "cache written"
            );
            store.delete_run(resolved.run_id).unwrap();
            let cached = run_model(&mut store, model, &params, NOW).unwrap();
            assert!(!cached.reused);
            assert_eq!(
                snapshot(&store, cached.run_id),
                expected,
                "{model}, probabilistic {probabilistic}"
            );
            assert_eq!(
                (
                    cached.attributed_revenue_minor,
                    cached.unattributed_orders,
                    cached.missing_fx.clone()
                ),
                (
                    resolved.attributed_revenue_minor,
                    resolved.unattributed_orders,
                    resolved.missing_fx.clone()
                )
            );
            let cached_reports = reports(&store, cached.run_id);
            for (a, b) in cached_reports.iter().zip(&expected_reports) {
                assert_eq!(a.rows, b.rows, "{model} by {:?}", a.by);
                assert_eq!(
                    (a.attributed, a.unattributed, &a.missing_fx),
                    (b.attributed, b.unattributed, &b.missing_fx)
                );
            }
            attributed = cached.attributed_orders;
            assert!(
                cached.missing_fx_orders() > 0,
                "the workspace has an unconvertible order"
            );
        }
        assert!(
            attributed > 20,
            "the workspace attributes most orders ({attributed})"
        );
    }
}

#[test]
fn report_totals_equal_the_exact_joins() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir, false);
    for model in [Model::Linear, Model::Markov, Model::TimeDecay] {
        let run = run_model(&mut store, model, &ModelParams::default(), NOW).unwrap();
        let from_totals = reports(&store, run.run_id);
        assert!(from_totals.iter().any(|r| r.rows.len() > 3));
        // With the watermark moved on, the run's totals may no longer describe the live tables,
        // so reports take the exact joins — over tables that did not change in any way that
        // matters here, so they must agree row for row.
        touch_watermark(&mut store);
        let exact = reports(&store, run.run_id);
        assert_eq!(from_totals, exact, "{model}");
    }
}

#[test]
fn settling_a_reused_run_moves_its_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir, false);
    let run = run_model(
        &mut store,
        Model::PositionBased,
        &ModelParams::default(),
        NOW,
    )
    .unwrap();
    assert!(run.provisional_orders > 0);
    // A month later the young orders have settled (the open chargebacks keep theirs provisional).
    let later = run_model(
        &mut store,
        Model::PositionBased,
        &ModelParams::default(),
        NOW + 30 * DAY,
    )
    .unwrap();
    assert!(later.reused);
    assert!(later.provisional_orders < run.provisional_orders);
    let from_totals = reports(&store, run.run_id);
    touch_watermark(&mut store);
    assert_eq!(from_totals, reports(&store, run.run_id));
}

#[test]
fn any_change_of_the_inputs_invalidates_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir, false);
    let params = ModelParams::default();
    let lookback = params.lookback_days;
    let first = run_model(&mut store, Model::Linear, &params, NOW).unwrap();

    type Change = (&'static str, Box<dyn Fn(&mut Store)>);
    let changes: Vec<Change> = vec![
        (
            "a new order",
            Box::new(|store: &mut Store| {
                store
                    .write(|tx| {
                        tx.insert_order(&Order {
                            order_id: "o-new".into(),
                            source: "test".into(),
                            occurred_at_ms: MAR1 + 35 * DAY,
                            gross_minor: 777,
                            currency: "USD".into(),
                            status: "paid".into(),
                            click_id: None,
                            identity: keys(Some("anon-new".into()), None),
                            raw_event_id: None,
                        })
                        .map(|_| ())
                    })
                    .unwrap()
            }),
        ),
        (
            "a new touch",
            Box::new(|store: &mut Store| {
                store
                    .write(|tx| {
                        tx.insert_touch(&Touch {
                            touch_id: "t-new".into(),
                            source: "test".into(),
                            occurred_at_ms: MAR1 + 34 * DAY,
                            channel: "newsletter".into(),
                            touch_type: "click".into(),
                            creator_id: None,
                            campaign_id: None,
                            ad_id: None,
                            content_id: None,
                            click_id: None,
                            identity: keys(Some("anon-new".into()), None),
                            raw_event_id: None,
                        })
                        .map(|_| ())
                    })
                    .unwrap()
            }),
        ),
        (
            "a new identity link",
            Box::new(|store: &mut Store| {
                store
                    .write(|tx| {
                        tx.insert_identity_link(&IdentityLink {
                            a: IdentityKey {
                                key_type: IdentityKeyType::AnonymousId,
                                value: "anon2".into(),
                            },
                            b: IdentityKey {
                                key_type: IdentityKeyType::AnonymousId,
                                value: "anon3".into(),
                            },
                            source: "test".into(),
                            created_at_ms: MAR1,
                        })
                        .map(|_| ())
                    })
                    .unwrap()
            }),
        ),
        ("a new fx rate", Box::new(touch_watermark)),
        (
            "a setting",
            Box::new(|store: &mut Store| store.set_probabilistic_matching(true).unwrap()),
        ),
    ];
    let mut previous = first;
    for (what, change) in changes {
        let watermark = store.input_watermark().unwrap();
        assert!(
            load_journeys(&mut store, &watermark, lookback, NOW, true)
                .unwrap()
                .2,
            "cached before {what}"
        );
        change(&mut store);
        let watermark = store.input_watermark().unwrap();
        let (journeys, _, hit) =
            load_journeys(&mut store, &watermark, lookback, NOW, true).unwrap();
        assert!(!hit, "{what} must invalidate the cached journeys");
        let run = run_model(&mut store, Model::Linear, &params, NOW).unwrap();
        assert!(!run.reused, "{what}");
        assert_eq!(run.orders as usize, journeys.outcomes.len());
        match what {
            "a new order" => {
                // A buyer never seen before: one more order, unattributed.
                assert_eq!(run.orders, previous.orders + 1);
                assert_eq!(run.unattributed_orders, previous.unattributed_orders + 1);
            }
            "a new touch" => {
                // The buyer's touch arrives: the order is attributed to it, wholly.
                let credits = store.credits_for_run(run.run_id).unwrap();
                let new: Vec<_> = credits.iter().filter(|c| c.order_id == "o-new").collect();
                assert_eq!(new.len(), 1);
                assert_eq!(
                    (new[0].touch_id.as_str(), new[0].revenue_minor),
                    ("t-new", 777)
                );
            }
            _ => {}
        }
        previous = run;
    }
    // The cache only ever holds the current watermark.
    let watermark = store.input_watermark().unwrap();
    assert!(
        load_journeys(&mut store, &watermark, lookback, NOW, true)
            .unwrap()
            .2
    );
}
