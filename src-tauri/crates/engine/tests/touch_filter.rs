//! The touch filter (issue 15) against a hand-built workspace: which touches a run reads under
//! `no-bots`, `human` and `all`, with every credit computed by hand; and runs and cached journeys
//! of one filter never served for another, nor a run stored before the filter existed.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::touch_filter::TouchFilter;
use lookback_core::traffic::{TrafficClass, TrafficSignals};
use lookback_engine::{load_journeys, run_model};
use lookback_report::{CreditKey, credits_by};
use lookback_store::{IdentityKeys, Order, RunOrderOutcome, Store, Touch, TouchClassifier};

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MAR1: i64 = 1_772_323_200_000;
const NOW: i64 = MAR1 + 60 * DAY;

fn anon(id: &str) -> IdentityKeys {
    IdentityKeys {
        anonymous_id: Some(id.into()),
        ..IdentityKeys::default()
    }
}

fn touch(id: &str, person: &str, day: i64, channel: &str, click: Option<&str>) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "test".into(),
        occurred_at_ms: MAR1 + day * DAY,
        channel: channel.into(),
        touch_type: "click".into(),
        creator_id: None,
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: click.map(Into::into),
        identity: anon(person),
        raw_event_id: None,
    }
}

fn order(id: &str, person: &str, day: i64, gross: i64, click: Option<&str>) -> Order {
    Order {
        order_id: id.into(),
        source: "test".into(),
        occurred_at_ms: MAR1 + day * DAY,
        gross_minor: gross,
        currency: "USD".into(),
        status: "paid".into(),
        click_id: click.map(Into::into),
        identity: anon(person),
        raw_event_id: None,
    }
}

/// What a platform said about a click: nothing (a browser's click), "review" (its fraud check
/// doubts it: suspicious) or "bot".
fn signals(verdict: Option<&str>) -> TrafficSignals {
    TrafficSignals {
        agent_present: true,
        platform_verdict: verdict.map(Into::into),
        ..TrafficSignals::default()
    }
}

/// - alice: email (human, Mar 2), tiktok (suspicious, Mar 3), instagram (bot, Mar 4), then
///   order a (USD 90.00, Mar 5).
/// - bob: instagram (bot, Mar 2), then order b (USD 50.00, Mar 5): his only touch is a bot's.
/// - carol: instagram (bot, Mar 2) then email (human, Mar 3), both with click id k1; order c
///   (USD 40.00, Mar 5) carries k1 and no identity of hers: only the click joins it, and the
///   first touch with k1 is the bot's.
fn workspace(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    let mut tx = store.begin().unwrap();
    let mut classifier = TouchClassifier::load(&tx).unwrap();
    for (touch, verdict, class) in [
        (
            touch("a-h", "alice", 1, "email", None),
            None,
            TrafficClass::Human,
        ),
        (
            touch("a-s", "alice", 2, "tiktok", None),
            Some("review"),
            TrafficClass::Suspicious,
        ),
        (
            touch("a-b", "alice", 3, "instagram", None),
            Some("bot"),
            TrafficClass::Bot,
        ),
        (
            touch("b-b", "bob", 1, "instagram", None),
            Some("bot"),
            TrafficClass::Bot,
        ),
        (
            touch("c-b", "carol", 1, "instagram", Some("k1")),
            Some("bot"),
            TrafficClass::Bot,
        ),
        (
            touch("c-h", "carol", 2, "email", Some("k1")),
            None,
            TrafficClass::Human,
        ),
    ] {
        tx.insert_touch(&touch).unwrap();
        let recorded = classifier
            .record(&mut tx, &touch, signals(verdict))
            .unwrap();
        assert_eq!(recorded, class, "{}", touch.touch_id);
    }
    tx.insert_order(&order("a", "alice", 4, 9_000, None))
        .unwrap();
    tx.insert_order(&order("b", "bob", 4, 5_000, None)).unwrap();
    tx.insert_order(&order("c", "nobody", 4, 4_000, Some("k1")))
        .unwrap();
    tx.commit().unwrap();
    store
}

fn params(touches: TouchFilter) -> ModelParams {
    ModelParams {
        touches,
        ..ModelParams::default()
    }
}

/// Revenue credited per channel (channels credited nothing left out), and the unattributed
/// revenue, of `model` under `touches`.
fn credited(store: &mut Store, model: Model, touches: TouchFilter) -> (Vec<(String, i64)>, i64) {
    let run = run_model(store, model, &params(touches), NOW).unwrap();
    let report = credits_by(store, run.run_id, CreditKey::Channel, None, false).unwrap();
    let mut rows: Vec<(String, i64)> = report
        .rows
        .iter()
        .filter(|r| r.revenue_minor != 0)
        .map(|r| (r.key.clone(), r.revenue_minor))
        .collect();
    rows.sort();
    // Conservation: every order's net revenue is credited or unattributed, under every filter.
    assert_eq!(
        report.total_revenue_minor + run.unattributed_revenue_minor,
        18_000
    );
    (rows, run.unattributed_revenue_minor)
}

fn rows(items: &[(&str, i64)]) -> Vec<(String, i64)> {
    items.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

#[test]
fn each_filter_credits_only_the_touches_it_admits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);

    // Linear, every touch: a 3 × 30.00; b 50.00 to its bot touch; c 2 × 20.00.
    assert_eq!(
        credited(&mut store, Model::Linear, TouchFilter::All),
        (
            rows(&[
                ("email", 3_000 + 2_000),
                ("instagram", 3_000 + 5_000 + 2_000),
                ("tiktok", 3_000)
            ]),
            0
        )
    );
    // No bots (the default): a 2 × 45.00; b has no touch left and is unattributed; c joins
    // its human touch through the click id, though the first touch with k1 is the bot's.
    assert_eq!(
        credited(&mut store, Model::Linear, TouchFilter::NoBots),
        (rows(&[("email", 4_500 + 4_000), ("tiktok", 4_500)]), 5_000)
    );
    // Human only: a all to email; b unattributed; c to email.
    assert_eq!(
        credited(&mut store, Model::Linear, TouchFilter::Human),
        (rows(&[("email", 9_000 + 4_000)]), 5_000)
    );

    // Last touch: a's last touch is the bot's, then the suspicious one, then the human one.
    assert_eq!(
        credited(&mut store, Model::LastTouch, TouchFilter::All),
        (rows(&[("email", 4_000), ("instagram", 9_000 + 5_000)]), 0)
    );
    assert_eq!(
        credited(&mut store, Model::LastTouch, TouchFilter::NoBots),
        (rows(&[("email", 4_000), ("tiktok", 9_000)]), 5_000)
    );
    assert_eq!(
        credited(&mut store, Model::LastTouch, TouchFilter::Human),
        (rows(&[("email", 9_000 + 4_000)]), 5_000)
    );

    // The order whose only touch is a bot's is unattributed, not dropped.
    let run = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    let b = store
        .run_orders(run.run_id)
        .unwrap()
        .into_iter()
        .find(|o| o.order_id == "b")
        .unwrap();
    assert_eq!(b.outcome, RunOrderOutcome::Unattributed);
    assert_eq!(b.net_minor, 5_000);
    assert_eq!((run.attributed_orders, run.unattributed_orders), (2, 1));
}

#[test]
fn runs_and_cached_journeys_of_one_filter_are_never_served_for_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);

    // Runs: one per filter, each reused only by its own filter.
    let mut runs = Vec::new();
    for filter in TouchFilter::ALL {
        let run = run_model(&mut store, Model::Linear, &params(filter), NOW).unwrap();
        assert!(!run.reused, "{filter}: a new run");
        runs.push(run.run_id);
    }
    for (filter, &run_id) in TouchFilter::ALL.iter().zip(&runs) {
        let again = run_model(&mut store, Model::Linear, &params(*filter), NOW).unwrap();
        assert!(again.reused, "{filter}");
        assert_eq!(again.run_id, run_id, "{filter}: its own run");
    }

    // Journeys: the cache holds each filter's own, and a hit returns what a resolve gave.
    let watermark = store.input_watermark().unwrap();
    let journey_touches = |store: &mut Store, filter: TouchFilter| {
        let (journeys, _, hit) = load_journeys(store, &watermark, 30, filter, NOW, false).unwrap();
        let mut ids: Vec<String> = journeys
            .touches
            .iter()
            .map(|t| journeys.strings.get(t.touch_id).to_owned())
            .collect();
        ids.sort();
        (ids, hit)
    };
    let all = journey_touches(&mut store, TouchFilter::All);
    let no_bots = journey_touches(&mut store, TouchFilter::NoBots);
    let human = journey_touches(&mut store, TouchFilter::Human);
    assert_eq!(all.0, ["a-b", "a-h", "a-s", "b-b", "c-b", "c-h"]);
    assert_eq!(no_bots.0, ["a-h", "a-s", "c-h"]);
    assert_eq!(human.0, ["a-h", "c-h"]);
    // The runs above filled the cache, one row per filter.
    assert!(all.1 && no_bots.1 && human.1);

    // With the cache emptied, the first filter to resolve does not fill it for the others.
    store.clear_journey_cache().unwrap();
    assert!(!journey_touches(&mut store, TouchFilter::All).1);
    let human_again = journey_touches(&mut store, TouchFilter::Human);
    assert!(!human_again.1, "all's journeys are not human's");
    assert_eq!(human_again.0, human.0);
    assert!(journey_touches(&mut store, TouchFilter::Human).1);
    assert!(journey_touches(&mut store, TouchFilter::All).1);
    let no_bots_again = journey_touches(&mut store, TouchFilter::NoBots);
    assert!(!no_bots_again.1);
    assert_eq!(no_bots_again.0, no_bots.0);
}

#[test]
fn a_run_stored_before_the_filter_existed_is_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = workspace(&dir);
    let run = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    drop(store);
    // As a run written before `touches` was a parameter: its string lacks the key (and it read
    // every touch, bots included).
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE attribution_runs SET parameters = ?1 WHERE run_id = ?2",
            rusqlite::params![
                r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40]}"#,
                run.run_id
            ],
        )
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    let again = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    assert!(!again.reused);
    assert_ne!(again.run_id, run.run_id);
}
