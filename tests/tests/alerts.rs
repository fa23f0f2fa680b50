//! Alerts end to end against a loopback "Slack" that counts posts: a rule crossing its
//! threshold notifies exactly once across checks and a restart (the store dropped and opened
//! again); a failing Slack endpoint is retried with backoff and then lands in dead letters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use lookback_alerts::{
    AlertKind, Channel, DeliveryPolicy, Notifier, RuleRequest, SlackNotifier, check_and_deliver,
};
use lookback_store::{IdentityKeys, Order, Store, Touch};
use lookback_sync::Secret;
use lookback_tests::mock::{MockApi, MockRequest, MockResponse, MockServer};
use lookback_tests::{open_sqlite, query_i64};

/// 2026-03-01T12:00:00Z.
const NOW: i64 = 1_772_366_400_000;

/// A Slack incoming webhook that answers with a settable status.
struct SlackApi {
    status: AtomicU16,
}

impl MockApi for SlackApi {
    fn handle(&self, _: &MockRequest) -> MockResponse {
        let status = self.status.load(Ordering::SeqCst);
        MockResponse::text(
            status,
            if status == 200 {
                "ok"
            } else {
                "internal_error"
            },
        )
    }
}

fn slack(status: u16) -> (MockServer, String) {
    let server = MockServer::start(Arc::new(SlackApi {
        status: AtomicU16::new(status),
    }));
    let url = format!("{}/services/T000/B000/XXXX", server.base_url);
    (server, url)
}

/// A workspace with creator ann's link click and two orders through it: $150 paid (an hour
/// ago) and $80 pending.
fn workspace(path: &std::path::Path) -> Store {
    let mut store = Store::create(path).unwrap();
    store
        .write(|tx| {
            tx.insert_touch(&Touch {
                touch_id: "clk_ann".into(),
                source: "dub".into(),
                occurred_at_ms: NOW - 2 * 3_600_000,
                channel: "creator_link".into(),
                touch_type: "click".into(),
                creator_id: Some("ann".into()),
                campaign_id: None,
                ad_id: None,
                content_id: None,
                click_id: Some("clk_ann".into()),
                identity: IdentityKeys::default(),
                raw_event_id: None,
            })?;
            for (id, gross, status) in [("ord_1", 15_000, "paid"), ("ord_2", 8_000, "pending")] {
                tx.insert_order(&Order {
                    order_id: id.into(),
                    source: "stripe".into(),
                    occurred_at_ms: NOW - 3_600_000,
                    gross_minor: gross,
                    currency: "USD".into(),
                    status: status.into(),
                    click_id: Some("clk_ann".into()),
                    identity: IdentityKeys::default(),
                    raw_event_id: None,
                })?;
            }
            Ok::<_, lookback_store::StoreError>(())
        })
        .unwrap();
    store
}

fn rule(kind: AlertKind, threshold: i64) -> RuleRequest {
    RuleRequest {
        kind,
        subject: None,
        threshold,
        currency: Some("USD".into()),
        include_provisional: false,
        grace_minutes: 0,
        channel: Channel::Slack,
    }
}

fn fast_policy(max_attempts: i64) -> DeliveryPolicy {
    DeliveryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

fn clock() -> i64 {
    NOW
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crossed_threshold_notifies_exactly_once_across_checks_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (server, url) = slack(200);
    let notifier = SlackNotifier::new(Secret::new(url));
    let notifiers: [&dyn Notifier; 1] = [&notifier];
    let policy = fast_policy(3);
    {
        let mut store = workspace(&path);
        // $100 settled-only: the paid $150 crosses it; $300 is not reached even with provisional.
        lookback_alerts::add_rule(&mut store, &rule(AlertKind::CreatorRevenue, 10_000), NOW)
            .unwrap();
        let mut high = rule(AlertKind::CreatorRevenue, 30_000);
        high.include_provisional = true;
        lookback_alerts::add_rule(&mut store, &high, NOW).unwrap();
        let first = check_and_deliver(&mut store, &notifiers, &policy, NOW, &clock)
            .await
            .unwrap();
        assert_eq!((first.findings, first.claimed, first.sent), (1, 1, 1));
        // A second check a minute later finds the same fact and sends nothing.
        let second = check_and_deliver(&mut store, &notifiers, &policy, NOW + 60_000, &clock)
            .await
            .unwrap();
        assert_eq!((second.findings, second.claimed, second.sent), (1, 0, 0));
    }
    // Restart: drop the store (above) and open the file again.
    let mut store = Store::open(&path).unwrap();
    let third = check_and_deliver(&mut store, &notifiers, &policy, NOW + 120_000, &clock)
        .await
        .unwrap();
    assert_eq!((third.claimed, third.sent), (0, 0));

    let posts = server.requests();
    assert_eq!(posts.len(), 1, "exactly one Slack post");
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body["lookback"]["creator"], "ann");
    assert_eq!(body["lookback"]["amount_minor"], 15_000);
    assert_eq!(body["lookback"]["settled_only"], true);
    // Credited by the workspace's current model (the run the views show), not a fixed rule.
    assert_eq!(
        body["lookback"]["model"].as_str(),
        Some(store.model().unwrap().as_str())
    );
    assert!(body["lookback"]["input_watermark"].as_str().is_some());
    assert!(body["text"].as_str().unwrap().contains("ann"));
    let conn = open_sqlite(&path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM alert_notifications WHERE state = 'sent'"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_slack_endpoint_is_retried_then_dead_lettered_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (server, url) = slack(500);
    let notifier = SlackNotifier::new(Secret::new(url.clone()));
    let notifiers: [&dyn Notifier; 1] = [&notifier];
    let mut store = workspace(&path);
    lookback_alerts::add_rule(&mut store, &rule(AlertKind::LargeOrder, 10_000), NOW).unwrap();
    let summary = check_and_deliver(&mut store, &notifiers, &fast_policy(3), NOW, &clock)
        .await
        .unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.failed), (1, 0, 1));
    assert_eq!(
        server.requests().len(),
        3,
        "three attempts, then it gives up"
    );

    let conn = open_sqlite(&path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM alert_notifications WHERE state = 'failed' AND attempts = 3"
        ),
        1
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM dead_letters WHERE source = 'alerts' AND stream = 'slack'"
        ),
        1
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM dead_letters WHERE payload LIKE '%ord_1%'"
        ),
        1,
        "the dead letter says which order"
    );
    assert_eq!(
        query_i64(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM dead_letters WHERE reason LIKE '%{}%'",
                "services/T000"
            )
        ),
        0,
        "the URL is a secret"
    );

    // Checking again neither re-sends nor adds a second dead letter.
    drop(store);
    let mut store = Store::open(&path).unwrap();
    let again = check_and_deliver(
        &mut store,
        &notifiers,
        &fast_policy(3),
        NOW + 60_000,
        &clock,
    )
    .await
    .unwrap();
    assert_eq!((again.claimed, again.sent, again.failed), (0, 0, 0));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 1);
}

/// Ann's creator link is the first touch of a customer who then clicks a Meta ad and buys for
/// $150: ann is credited $150 under first touch, $75 under linear and nothing under last touch.
/// A $100 creator-revenue rule follows the workspace's model: silent under last touch, and
/// crossing (once) after a manager switches the default to first touch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_revenue_follows_the_workspaces_current_model() {
    use lookback_core::attribution::{Model, ModelParams};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let customer = IdentityKeys {
        customer_id: Some("cus_1".into()),
        ..IdentityKeys::default()
    };
    store
        .write(|tx| {
            for (id, at, channel, creator) in [
                ("t_ann", NOW - 3 * 3_600_000, "creator_link", Some("ann")),
                ("t_meta", NOW - 2 * 3_600_000, "meta", None),
            ] {
                tx.insert_touch(&Touch {
                    touch_id: id.into(),
                    source: "csv".into(),
                    occurred_at_ms: at,
                    channel: channel.into(),
                    touch_type: "click".into(),
                    creator_id: creator.map(Into::into),
                    campaign_id: None,
                    ad_id: None,
                    content_id: None,
                    click_id: None,
                    identity: customer.clone(),
                    raw_event_id: None,
                })?;
            }
            tx.insert_order(&Order {
                order_id: "ord_1".into(),
                source: "csv".into(),
                occurred_at_ms: NOW - 3_600_000,
                gross_minor: 15_000,
                currency: "USD".into(),
                status: "paid".into(),
                click_id: None,
                identity: customer.clone(),
                raw_event_id: None,
            })
        })
        .unwrap();
    let set = |store: &mut Store, model: &str| {
        let model = Model::parse(model).unwrap();
        lookback_engine::set_model(
            store,
            model,
            &ModelParams::default(),
            "manager",
            "test",
            NOW,
        )
        .unwrap();
    };
    set(&mut store, "last_touch");
    let mut request = rule(AlertKind::CreatorRevenue, 10_000);
    request.channel = Channel::Desktop;
    lookback_alerts::add_rule(&mut store, &request, NOW).unwrap();
    let (findings, _) = lookback_alerts::claim_findings(&mut store, NOW).unwrap();
    assert_eq!(findings, 0, "last touch credits the Meta ad, not ann");
    set(&mut store, "linear");
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW).unwrap(),
        (0, 0),
        "$75 is under $100"
    );
    set(&mut store, "first_touch");
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW).unwrap(),
        (1, 1)
    );
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW + 60_000).unwrap(),
        (1, 0),
        "claimed once"
    );
    let conn = open_sqlite(&path);
    let context: String = conn
        .query_row("SELECT context FROM alert_notifications", [], |r| r.get(0))
        .unwrap();
    let context: serde_json::Value = serde_json::from_str(&context).unwrap();
    assert_eq!(
        (context["model"].as_str(), context["amount_minor"].as_i64()),
        (Some("first-touch"), Some(15_000))
    );

    // A creator-revenue threshold in another currency than the reporting currency is refused.
    let mut euros = rule(AlertKind::CreatorRevenue, 10_000);
    euros.currency = Some("EUR".into());
    let error = lookback_alerts::add_rule(&mut store, &euros, NOW)
        .unwrap_err()
        .to_string();
    assert!(error.contains("reporting currency"), "{error}");
}

/// A source whose last sync failed three hours after its last success is `failing` in the data
/// health the Sources screen shows; a source-health rule announces it once per episode, and
/// not when the rule asks for a longer outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_raises_one_source_health_alert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            tx.upsert_source(&lookback_store::Source {
                source_id: "meta_main".into(),
                kind: "meta".into(),
                name: "Meta main".into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: NOW - 10 * 86_400_000,
                last_attempt_at_ms: Some(NOW - 3_600_000),
                last_success_at_ms: Some(NOW - 3 * 3_600_000),
                last_error: Some("HTTP 500 from graph.facebook.com".into()),
            })
        })
        .unwrap();
    let state =
        lookback_trust::source_health_states(&store, NOW, lookback_trust::HealthPolicy::default())
            .unwrap();
    assert_eq!(
        state[0].state,
        lookback_trust::HealthState::Failing,
        "the premise: the source is failing"
    );

    let mut longer = rule(AlertKind::SourceHealth, 240);
    longer.currency = None;
    longer.channel = Channel::Desktop;
    lookback_alerts::add_rule(&mut store, &longer, NOW).unwrap();
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW).unwrap(),
        (0, 0),
        "3 h is under the 4 h asked for"
    );
    let mut hour = longer.clone();
    hour.threshold = 60;
    lookback_alerts::add_rule(&mut store, &hour, NOW).unwrap();
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW).unwrap(),
        (1, 1)
    );
    assert_eq!(
        lookback_alerts::claim_findings(&mut store, NOW + 600_000).unwrap(),
        (1, 0),
        "one notification per episode"
    );
    let conn = open_sqlite(&path);
    let (title, context): (String, String) = conn
        .query_row("SELECT title, context FROM alert_notifications", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(title, "Meta main is failing");
    assert!(context.contains("HTTP 500"), "{context}");
}
