//! Bootstrap intervals of a data-driven run against a hand-built workspace: the weights
//! learned from the bootstrap's table are the run's own, and a workspace where every converting
//! journey passes both channels gives hand-computed intervals (every resample splits the same).

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::bootstrap::BootstrapSettings;
use lookback_engine::{IntervalKey, revenue_intervals, run_bootstrap, run_model};
use lookback_report::weights;
use lookback_store::{IdentityKeys, Order, RunOrderFilter, Store, Touch};

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MAR1: i64 = 1_772_323_200_000;
const NOW: i64 = MAR1 + 60 * DAY;

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
        identity: IdentityKeys {
            anonymous_id: Some(person.into()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

/// 40 buyers: Instagram (creator c1) then TikTok (creator c2), then an order of USD 10.00 —
/// 20 on Mar 3 and 20 on Mar 12. 10 browsers: Instagram only, no order.
fn workspace(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| -> Result<(), lookback_store::StoreError> {
            for i in 0..40 {
                let person = format!("buyer{i}");
                let day = if i < 20 { 2 } else { 11 };
                let at = MAR1 + day * DAY;
                tx.insert_touch(&touch(
                    &format!("a{i}"),
                    &person,
                    at - 7_200_000,
                    "instagram",
                    "c1",
                ))?;
                tx.insert_touch(&touch(
                    &format!("b{i}"),
                    &person,
                    at - 3_600_000,
                    "tiktok",
                    "c2",
                ))?;
                tx.insert_order(&Order {
                    order_id: format!("o{i}"),
                    source: "test".into(),
                    occurred_at_ms: at,
                    gross_minor: 1_000,
                    currency: "USD".into(),
                    status: "paid".into(),
                    click_id: None,
                    identity: IdentityKeys {
                        anonymous_id: Some(person),
                        ..IdentityKeys::default()
                    },
                    raw_event_id: None,
                })?;
            }
            for i in 0..10 {
                tx.insert_touch(&touch(
                    &format!("n{i}"),
                    &format!("browser{i}"),
                    MAR1 + DAY,
                    "instagram",
                    "c1",
                ))?;
            }
            Ok(())
        })
        .unwrap();
    store
}

#[test]
fn the_bootstrap_learns_the_runs_weights_and_hand_computed_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let params = ModelParams::default();
    for model in [Model::Markov, Model::Shapley] {
        let run = run_model(&mut store, model, &params, NOW).unwrap();
        let report = weights(&store, run.run_id).unwrap();
        let boot = run_bootstrap(
            &mut store,
            model,
            &params,
            &BootstrapSettings::default(),
            NOW,
        )
        .unwrap();
        assert_eq!(boot.boot.learned.channels.len(), report.rows.len());
        for (learned, interval) in boot.boot.learned.channels.iter().zip(&boot.boot.intervals) {
            let name = boot.channel_name(learned.channel);
            let row = report.rows.iter().find(|r| r.channel == name).unwrap();
            assert_eq!(
                (learned.weight, learned.value),
                (row.weight, row.value),
                "{model} {name}"
            );
            // Every conversion passes both channels: 1/2 each in every resample.
            assert!((interval.low - 0.5).abs() < 1e-12 && (interval.high - 0.5).abs() < 1e-12);
        }
        // Each order of 1000 splits 500 / 500 between c1 and c2: 40 orders, 20 000 each.
        let mut all = revenue_intervals(&boot, IntervalKey::Creator, &RunOrderFilter::default());
        all.sort_by(|a, b| a.key.cmp(&b.key));
        let got: Vec<(Option<&str>, i64, i64, u64)> = all
            .iter()
            .map(|r| (r.key.as_deref(), r.low_minor, r.high_minor, r.orders))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("c1"), 20_000, 20_000, 40),
                (Some("c2"), 20_000, 20_000, 40)
            ]
        );
        // From Mar 10 on: the later 20 orders only.
        let later = RunOrderFilter {
            from_at_ms: Some(MAR1 + 9 * DAY),
            ..RunOrderFilter::default()
        };
        for r in revenue_intervals(&boot, IntervalKey::Channel, &later) {
            assert_eq!(
                (r.low_minor, r.high_minor, r.orders),
                (10_000, 10_000, 20),
                "{r:?}"
            );
        }
    }
}
