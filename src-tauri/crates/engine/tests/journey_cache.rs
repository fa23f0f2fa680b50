//! The journey cache and the per-run report totals change speed, never numbers: a run from cached
//! journeys writes exactly the credits, orders and weights of a run that resolved them; reports
//! read from the totals equal the exact joins; and any change of the inputs (an order, a touch, an
//! identity link, an fx rate, a setting) makes the next run resolve again.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::NaiveDate;
use lookback_core::touch_filter::TouchFilter;
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
                load_journeys(
                    &mut store,
                    &watermark,
                    params.lookback_days,
                    params.touches,
                    NOW,
                    true
                )
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
            load_journeys(
                &mut store,
                &watermark,
                lookback,
                TouchFilter::default(),
                NOW,
                true
            )
            .unwrap()
            .2,
            "cached before {what}"
        );
        change(&mut store);
        let watermark = store.input_watermark().unwrap();
        let (journeys, _, hit) = load_journeys(
            &mut store,
            &watermark,
            lookback,
            TouchFilter::default(),
            NOW,
            true,
        )
        .unwrap();
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
        load_journeys(
            &mut store,
            &watermark,
            lookback,
            TouchFilter::default(),
            NOW,
            true
        )
        .unwrap()
        .2
    );
}

/// Touches sharing a click id (with each other and with an order), an empty click id, and a
/// key value that is also another type's value: what the interning loader must keep apart or
/// together exactly as the reference resolver does.
fn add_shared_clicks(store: &mut Store) {
    store
        .write(|tx| -> Result<(), lookback_store::StoreError> {
            for (n, (click, anonymous)) in [
                (Some("click7"), "late-visitor"),
                (Some("click7"), "second-device"),
                (Some(""), "anon3"),
                (Some("shared-click"), "anon8"),
                (Some("shared-click"), "anon9"),
                (None, "dev4"),
            ]
            .into_iter()
            .enumerate()
            {
                tx.insert_touch(&Touch {
                    touch_id: format!("x{n}"),
                    source: "test".into(),
                    occurred_at_ms: MAR1 + (20 + n as i64) * DAY,
                    channel: "podcast".into(),
                    touch_type: "click".into(),
                    creator_id: None,
                    campaign_id: None,
                    ad_id: None,
                    content_id: None,
                    click_id: click.map(str::to_owned),
                    identity: keys(Some(anonymous.to_owned()), None),
                    raw_event_id: None,
                })?;
            }
            tx.insert_order(&Order {
                order_id: "o-shared-click".into(),
                source: "test".into(),
                occurred_at_ms: MAR1 + 27 * DAY,
                gross_minor: 4_000,
                currency: "USD".into(),
                status: "paid".into(),
                click_id: Some("shared-click".into()),
                identity: IdentityKeys::default(),
                raw_event_id: None,
            })?;
            Ok(())
        })
        .unwrap();
}

/// What became of each order, by touch id, and the non-converting paths by channel name
/// (sorted): comparable across two resolvers that number touches and channels differently.
type Resolution = (Vec<Option<(Vec<String>, String, u32)>>, Vec<Vec<String>>);

fn resolution(
    journeys: &lookback_core::journey::JourneySet,
    touch_id: impl Fn(u32) -> String,
    channel: impl Fn(u32) -> String,
) -> Resolution {
    let outcomes = journeys
        .outcomes
        .iter()
        .map(|outcome| {
            outcome.journey().map(|journey| {
                (
                    journey.touches.iter().map(|&t| touch_id(t)).collect(),
                    format!("{:?}", journey.join_kind),
                    journey.confidence_ppm,
                )
            })
        })
        .collect();
    let mut paths: Vec<Vec<String>> = journeys
        .non_converting
        .iter()
        .map(|path| path.iter().map(|&c| channel(c)).collect())
        .collect();
    paths.sort();
    (outcomes, paths)
}

#[test]
fn the_interning_loader_resolves_as_the_reference_resolver() {
    use lookback_core::identity::KeyType;
    use lookback_core::journey::{
        IdentityLink as CoreLink, JourneyConfig, OrderRecord, TouchRecord, resolve_journeys,
    };
    for probabilistic in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir, probabilistic);
        add_shared_clicks(&mut store);

        let inputs = lookback_engine::load_inputs(&store, 30, TouchFilter::default(), NOW).unwrap();
        let resolved = lookback_engine::resolve(&inputs).unwrap();
        let mut ids_by_rowid = std::collections::HashMap::new();
        let mut rowids = inputs.touch_rowids.clone();
        rowids.sort_unstable();
        store
            .for_each_touch_report_keys(&rowids, |k| {
                ids_by_rowid.insert(k.rowid, k.touch_id.to_owned());
            })
            .unwrap();
        let loaded = resolution(
            &resolved,
            |t| ids_by_rowid[&inputs.touch_rowids[t as usize]].clone(),
            |c| inputs.channel_names[c as usize].clone(),
        );

        let key_list = |keys: &IdentityKeys| -> Vec<(KeyType, String)> {
            [
                (KeyType::PersonId, &keys.person_id),
                (KeyType::AnonymousId, &keys.anonymous_id),
                (KeyType::EmailSha256, &keys.email_sha256),
                (KeyType::CustomerId, &keys.customer_id),
                (KeyType::DeviceId, &keys.device_id),
            ]
            .into_iter()
            .filter_map(|(kind, value)| value.clone().map(|v| (kind, v)))
            .collect()
        };
        let touches = store.touches().unwrap();
        let mut channels: Vec<String> = Vec::new();
        let records: Vec<TouchRecord> = touches
            .iter()
            .map(|t| TouchRecord {
                at_ms: t.occurred_at_ms,
                channel: match channels.iter().position(|c| *c == t.channel) {
                    Some(index) => index as u32,
                    None => {
                        channels.push(t.channel.clone());
                        channels.len() as u32 - 1
                    }
                },
                click_id: t.click_id.clone(),
                keys: key_list(&t.identity),
            })
            .collect();
        let orders: Vec<OrderRecord> = store
            .orders_with_adjustments()
            .unwrap()
            .iter()
            .map(|o| OrderRecord {
                at_ms: o.order.occurred_at_ms,
                click_id: o.order.click_id.clone(),
                keys: key_list(&o.order.identity),
                net_minor: 0,
            })
            .collect();
        let core_type = |kind: IdentityKeyType| match kind {
            IdentityKeyType::PersonId => KeyType::PersonId,
            IdentityKeyType::AnonymousId => KeyType::AnonymousId,
            IdentityKeyType::EmailSha256 => KeyType::EmailSha256,
            IdentityKeyType::CustomerId => KeyType::CustomerId,
            IdentityKeyType::DeviceId => KeyType::DeviceId,
        };
        let links: Vec<CoreLink> = store
            .identity_links()
            .unwrap()
            .into_iter()
            .map(|l| CoreLink {
                a: (core_type(l.a.key_type), l.a.value),
                b: (core_type(l.b.key_type), l.b.value),
            })
            .collect();
        let reference = resolve_journeys(
            &records,
            &orders,
            &links,
            &JourneyConfig::from_days(30, probabilistic),
        )
        .unwrap();
        let expected = resolution(
            &reference,
            |t| touches[t as usize].touch_id.clone(),
            |c| channels[c as usize].clone(),
        );
        assert_eq!(loaded, expected, "probabilistic: {probabilistic}");
        // The shared click ties the order to both touches that carry it.
        let shared = loaded.0[inputs
            .order_facts
            .iter()
            .position(|o| o.order_id == "o-shared-click")
            .unwrap()]
        .clone()
        .unwrap();
        assert!(shared.0.contains(&"x3".to_owned()) && shared.0.contains(&"x4".to_owned()));
        assert_eq!(shared.1, "Deterministic");
    }
}
