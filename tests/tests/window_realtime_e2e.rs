//! End-to-end test of the Real time screen in the real window: the receiver is started from the
//! window, a signed delivery arrives from outside, and the open overview updates by itself —
//! no click, no refresh. An alert rule written in the window is stored.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use lookback_sync::webhooks::sign_hex;
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};
use serde_json::json;

const SECRET: &str = "window-webhook-secret-51c2";

#[test]
fn a_signed_delivery_updates_the_open_overview_and_alert_rules_are_kept() {
    let home = TestHome::new();
    let db = home.path("live.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Live"]);
    let mut add = Command::new(lookback_bin());
    add.args([
        "--db", db_arg, "webhook", "secret", "add", "--source", "backend",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    home.apply(&mut add);
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SECRET.as_bytes())
        .unwrap();
    assert!(
        child.wait_with_output().unwrap().status.success(),
        "webhook secret add"
    );

    // A free loopback port for the receiver.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);

    // Start receiving from the window.
    let nav = session.wait_for("[data-testid=nav-realtime]");
    session.click(&nav);
    let address = session.wait_for("[data-testid=listen-address]");
    session.eval(&format!("const a = document.querySelector('[data-testid=listen-address]'); a.value = '127.0.0.1:{port}'; return true"));
    let _ = address;
    let toggle = session.wait_for("[data-testid=listen-toggle]");
    session.click(&toggle);
    session.wait_until("the receiver to run", "const s = document.querySelector('[data-testid=listen-status]'); return !!s && s.textContent.includes('receiving')");

    // An alert rule written in the window is stored.
    let add_rule = session.wait_for("[data-testid=add-rule]");
    session.click(&add_rule);
    session.wait_for("[data-testid=alert-rules-table] tbody tr[data-key]");
    assert_eq!(
        query_i64(&open_sqlite(&db), "SELECT COUNT(*) FROM alert_rules"),
        1
    );

    // The overview is open and shows no orders yet.
    let nav = session.wait_for("[data-testid=nav-overview]");
    session.click(&nav);
    let orders = session.wait_for("[data-testid=kpi-orders] .kpi-value");
    assert_eq!(session.text(&orders), "0");

    // A signed conversion arrives from outside the window.
    let body = json!({"event_id": "live_1", "event_type": "conversion", "occurred_at": "2026-03-01T11:00:00Z",
        "order_id": "ord_live_1", "amount": "42.00", "currency": "USD", "customer_id": "cus_live"}).to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let signature = format!(
        "sha256={}",
        sign_hex(SECRET, &[ts.as_bytes(), b".", body.as_bytes()])
    );
    let status = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhooks/generic/backend"))
        .header("X-Timestamp", &ts)
        .header("X-Signature", signature)
        .body(body)
        .send()
        .expect("deliver")
        .status();
    assert!(status.is_success(), "delivery answered {status}");

    // The open overview updates by itself.
    session.wait_until(
        "the overview to show the new order without a refresh",
        "const v = document.querySelector('[data-testid=kpi-orders] .kpi-value'); return !!v && v.textContent === '1'",
    );
    assert_eq!(
        query_i64(
            &open_sqlite(&db),
            "SELECT COUNT(*) FROM orders WHERE order_id = 'ord_live_1'"
        ),
        1
    );
}
