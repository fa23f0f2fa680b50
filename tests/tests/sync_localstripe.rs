//! The Stripe connector against `localstripe`, a stateful Stripe emulator from PyPI that nobody
//! here wrote: a charge with metadata and a partial refund created through its API arrive as an
//! order (with its click id) and a refund. localstripe has no `/v1/disputes`, which the
//! connector reports as an unavailable stream rather than a failure.
//!
//! Needs `localstripe` on PATH (`.ci/setup` installs it); the test fails with that advice if not.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lookback_sync::StreamOutcome;
use lookback_tests::free_loopback_port;
use lookback_tests::mock::harness::{count, fast_options, run_sync_with, workspace_with_source};

/// Any key works with localstripe; this one must still never reach the store.
const KEY: &str = "sk_test_localstripe_4eC39HqLyjWDarjtT1zdp7dc";

/// The localstripe process; killed (by its own handle) when the test ends.
struct Localstripe {
    child: Child,
    base_url: String,
}

impl Drop for Localstripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_localstripe() -> Localstripe {
    let port = free_loopback_port();
    let child = Command::new("localstripe")
        .args(["--port", &port.to_string(), "--from-scratch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start localstripe ({e}): install it with `python3 -m pip install localstripe==1.15.10` (.ci/setup does)")
        });
    let base_url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let client = reqwest::blocking::Client::new();
    while client
        .get(format!("{base_url}/v1/charges"))
        .bearer_auth(KEY)
        .send()
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "localstripe did not start listening on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Localstripe { child, base_url }
}

fn post(base_url: &str, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
    let response = reqwest::blocking::Client::new()
        .post(format!("{base_url}{path}"))
        .basic_auth(KEY, Some(""))
        .form(form)
        .send()
        .expect("localstripe answers");
    let status = response.status();
    let body: serde_json::Value = response.json().expect("JSON");
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

#[test]
fn a_charge_and_its_refund_made_in_localstripe_arrive_as_an_order_and_a_refund() {
    let localstripe = start_localstripe();
    let base = &localstripe.base_url;
    let method = post(
        base,
        "/v1/payment_methods",
        &[
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ],
    );
    let charge = post(
        base,
        "/v1/charges",
        &[
            ("amount", "4990"),
            ("currency", "eur"),
            ("source", method["id"].as_str().unwrap()),
            ("metadata[click_id]", "clk-localstripe-1"),
            ("metadata[order_id]", "shop-1001"),
        ],
    );
    let charge_id = charge["id"].as_str().unwrap().to_owned();
    let refund = post(
        base,
        "/v1/refunds",
        &[("charge", &charge_id), ("amount", "1000")],
    );
    let refund_id = refund["id"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "localstripe", base);
    // localstripe stamps objects with the real clock, so the sync runs on it too.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let options = fast_options(now_ms);
    let summary = run_sync_with(
        &mut store,
        &source,
        KEY,
        &options,
        &Default::default(),
        |_| {},
    )
    .expect("sync");
    let outcomes: Vec<_> = summary
        .streams
        .iter()
        .map(|s| (s.stream.as_str(), &s.outcome))
        .collect();
    assert_eq!(outcomes[0], ("charges", &StreamOutcome::Complete));
    assert_eq!(outcomes[1], ("refunds", &StreamOutcome::Complete));
    assert!(
        matches!(outcomes[2], ("disputes", StreamOutcome::Unavailable(_))),
        "{outcomes:?}"
    );

    let orders = store.orders().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].order_id, charge_id);
    assert_eq!(
        (orders[0].gross_minor, orders[0].currency.as_str()),
        (4990, "EUR")
    );
    assert_eq!(orders[0].click_id.as_deref(), Some("clk-localstripe-1"));
    let adjustments = store.adjustments().unwrap();
    assert_eq!(adjustments.len(), 1);
    assert_eq!(adjustments[0].adjustment_id, refund_id);
    assert_eq!(adjustments[0].order_id, charge_id);
    assert_eq!(
        (adjustments[0].amount_minor, adjustments[0].status.as_str()),
        (1000, "succeeded")
    );
    assert_eq!(count(&path, "dead_letters"), 0);

    // A second sync (an incremental one: created[gt], which localstripe supports) writes nothing.
    let (orders_before, adjustments_before) =
        (store.orders().unwrap(), store.adjustments().unwrap());
    let again = run_sync_with(
        &mut store,
        &source,
        KEY,
        &fast_options(now_ms + 60_000),
        &Default::default(),
        |_| {},
    )
    .expect("second sync");
    assert!(
        again
            .streams
            .iter()
            .all(|s| s.counters.inserted == 0 && s.counters.new_versions == 0),
        "{again:?}"
    );
    assert_eq!(store.orders().unwrap(), orders_before);
    assert_eq!(store.adjustments().unwrap(), adjustments_before);
    drop(store);
    assert!(!lookback_tests::mock::harness::file_contains(&path, KEY));
}
