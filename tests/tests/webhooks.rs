//! The webhook receiver end to end on loopback: signed deliveries of every scheme are stored and
//! normalized into the same canonical rows a poll writes; forged, stale, oversized and replayed
//! deliveries write nothing; concurrent duplicates are stored once; malformed but verified
//! payloads become dead letters.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lookback_store::Store;
use lookback_sync::Secret;
use lookback_sync::webhooks::{
    ReceiverConfig, RunningReceiver, sign_hex, start_receiver, stripe_signature_header,
};
use lookback_tests::{open_sqlite, query_i64, raw_payloads_containing};
use serde_json::json;

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn secrets() -> HashMap<String, Vec<Secret>> {
    let mut map = HashMap::new();
    // Two Stripe secrets: a rotation in progress.
    map.insert(
        "shop".to_owned(),
        vec![Secret::new("whsec_old"), Secret::new("whsec_new")],
    );
    map.insert("links".to_owned(), vec![Secret::new("dub_secret")]);
    map.insert("backend".to_owned(), vec![Secret::new("generic_secret")]);
    map.insert("network".to_owned(), vec![Secret::new("postback-token-1")]);
    map
}

async fn start(dir: &Path) -> (RunningReceiver, String) {
    let path = dir.join("w.lookback");
    drop(Store::create(&path).unwrap());
    let mut config = ReceiverConfig::new(secrets());
    config.bind = "127.0.0.1:0".parse().unwrap();
    let receiver = start_receiver(&path, config).await.unwrap();
    let base = format!("http://{}", receiver.local_addr());
    (receiver, base)
}

/// (raw_events, webhook_deliveries, dead_letters, orders)
fn counts(dir: &Path) -> (i64, i64, i64, i64) {
    let conn = open_sqlite(&dir.join("w.lookback"));
    (
        query_i64(&conn, "SELECT COUNT(*) FROM raw_events"),
        query_i64(&conn, "SELECT COUNT(*) FROM webhook_deliveries"),
        query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"),
        query_i64(&conn, "SELECT COUNT(*) FROM orders"),
    )
}

/// Waits until the background normalizer has handled every delivery.
async fn wait_normalized(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pending = query_i64(
            &open_sqlite(&dir.join("w.lookback")),
            "SELECT COUNT(*) FROM webhook_deliveries WHERE normalized_at_ms IS NULL",
        );
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries still not normalized"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stripe_charge_event(event_id: &str, charge_id: &str, amount: i64) -> String {
    json!({"id": event_id, "object": "event", "type": "charge.succeeded", "created": now_s(),
           "data": {"object": {"id": charge_id, "object": "charge", "amount": amount,
                               "amount_captured": amount, "captured": true, "currency": "usd",
                               "created": now_s() - 60, "status": "succeeded", "receipt_email": "ann@example.com",
                               "metadata": {"click_id": "clk_1"}}}})
    .to_string()
}

/// Sends `total` bytes of padding as a chunked body over a raw connection and returns the
/// status code of the answer (reqwest always declares a length for in-memory bodies).
async fn post_chunked(base: &str, path: &str, total: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..total / chunk.len() {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        stream.write_all(&chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"))
}

async fn post_stripe(
    client: &reqwest::Client,
    base: &str,
    body: &str,
    secret: &str,
    t: i64,
) -> u16 {
    client
        .post(format!("{base}/webhooks/stripe/shop"))
        .header(
            "Stripe-Signature",
            stripe_signature_header(secret, t, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn generic_headers(secret: &str, t: i64, body: &[u8]) -> (String, String) {
    let ts = t.to_string();
    (
        ts.clone(),
        format!("sha256={}", sign_hex(secret, &[ts.as_bytes(), b".", body])),
    )
}

/// Posts `body` to the generic endpoint of source `backend`, signed with its secret now;
/// answers the status.
async fn post_generic(
    client: &reqwest::Client,
    base: &str,
    body: impl Into<reqwest::Body> + AsRef<[u8]>,
) -> reqwest::StatusCode {
    let (ts, sig) = generic_headers("generic_secret", now_s(), body.as_ref());
    client
        .post(format!("{base}/webhooks/generic/backend"))
        .header("X-Timestamp", ts)
        .header("X-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_of_every_scheme_are_stored_then_normalized() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let client = reqwest::Client::new();

    // Stripe, signed with the old and with the new secret of a rotation.
    assert_eq!(
        post_stripe(
            &client,
            &base,
            &stripe_charge_event("evt_1", "ch_1", 12_000),
            "whsec_old",
            now_s()
        )
        .await,
        200
    );
    assert_eq!(
        post_stripe(
            &client,
            &base,
            &stripe_charge_event("evt_2", "ch_2", 3_000),
            "whsec_new",
            now_s()
        )
        .await,
        200
    );

    // Dub sale.created, HMAC of the raw body.
    let dub = json!({"id": "evt_dub_1", "event": "sale.created", "createdAt": "2026-03-01T10:00:00.000Z",
                     "data": {"eventName": "Purchase", "customer": {"id": "cus_1", "email": "bob@example.com"},
                              "click": {"id": "dubclk_1", "timestamp": "2026-03-01T09:00:00.000Z"},
                              "link": {"id": "link_1", "domain": "dub.sh", "key": "ann", "partnerId": "ann"},
                              "sale": {"amount": 4_900, "currency": "usd", "invoiceId": "in_1", "paymentProcessor": "stripe"}}})
    .to_string();
    let status = client
        .post(format!("{base}/webhooks/dub/links"))
        .header("Dub-Signature", sign_hex("dub_secret", &[dub.as_bytes()]))
        .body(dub.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    // Generic, X-Timestamp + X-Signature.
    let generic = json!({"event_id": "g_1", "event_type": "conversion", "occurred_at": "2026-03-01T11:00:00Z",
                         "amount": "25.00", "currency": "USD", "click_id": "gclk"})
    .to_string();
    let status = post_generic(&client, &base, generic).await;
    assert_eq!(status, 200);

    // An S2S postback as GET with its token.
    let status = client
        .get(format!(
            "{base}/postback/network?token=postback-token-1&event_id=pb_1&event_type=conversion&occurred_at=2026-03-01T12:00:00Z&amount=10.50&currency=EUR"
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    // Acknowledged means committed: the deliveries are in the store at once.
    let (raw, deliveries, _, _) = counts(dir.path());
    assert_eq!((raw, deliveries), (5, 5));
    wait_normalized(dir.path()).await;
    let (_, _, dead, orders) = counts(dir.path());
    assert_eq!((dead, orders), (0, 5), "every delivery became an order");
    let conn = open_sqlite(&dir.path().join("w.lookback"));
    // The pushed charge is stored as the polled charge would be: stream, id, hashed e-mail.
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM raw_events WHERE stream = 'charges' AND external_id = 'ch_1'"
        ),
        1
    );
    assert_eq!(
        raw_payloads_containing(&dir.path().join("w.lookback"), "@example.com"),
        0,
        "no raw e-mail stored"
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT gross_minor FROM orders WHERE order_id = 'ch_1'"
        ),
        12_000
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT gross_minor FROM orders WHERE order_id = 'in_1'"
        ),
        4_900
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT gross_minor FROM orders WHERE order_id = 'pb_1'"
        ),
        1_050
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM touches WHERE touch_id = 'dubclk_1' AND creator_id = 'ann'"
        ),
        1
    );
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_oversized_unknown_and_replayed_deliveries_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let client = reqwest::Client::new();
    let body = stripe_charge_event("evt_9", "ch_9", 1_000);

    // Forged: signed with a secret the source does not have.
    assert_eq!(
        post_stripe(&client, &base, &body, "whsec_attacker", now_s()).await,
        401
    );
    // Stale: a correct signature over a timestamp older than the 5 min tolerance.
    assert_eq!(
        post_stripe(&client, &base, &body, "whsec_new", now_s() - 400).await,
        401
    );
    // Ahead of this computer's clock is not stale (Stripe's libraries accept it too), but a
    // forged signature with such a timestamp is still refused.
    assert_eq!(
        post_stripe(&client, &base, &body, "whsec_attacker", now_s() + 120).await,
        401
    );
    // A signature header that cannot be read.
    let status = client
        .post(format!("{base}/webhooks/stripe/shop"))
        .header("Stripe-Signature", "nonsense")
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
    // Unsigned.
    let status = client
        .post(format!("{base}/webhooks/stripe/shop"))
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    // A source with no secret answers exactly like a bad signature.
    let status = client
        .post(format!("{base}/webhooks/stripe/nobody"))
        .header(
            "Stripe-Signature",
            stripe_signature_header("whsec_new", now_s(), body.as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 401);
    assert!(
        status.bytes().await.unwrap().is_empty(),
        "a refusal says nothing"
    );
    // Oversized: 2 MiB against the 1 MiB cap, correctly signed.
    let big = format!(
        "{{\"id\":\"evt_big\",\"type\":\"charge.succeeded\",\"pad\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    assert_eq!(
        post_stripe(&client, &base, &big, "whsec_new", now_s()).await,
        413
    );
    // The same without a declared length (chunked), so the cap is found while reading.
    assert_eq!(
        post_chunked(&base, "/webhooks/stripe/shop", 2 * 1024 * 1024).await,
        413
    );
    // A postback with a wrong token, and one without.
    let status = client
        .get(format!("{base}/postback/network?token=guess&event_id=pb_x"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let status = client
        .get(format!("{base}/postback/network?event_id=pb_x"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    assert_eq!(
        counts(dir.path()),
        (0, 0, 0, 0),
        "nothing written by refused deliveries"
    );

    // A replay of a seen event id (a captured delivery sent again, or a platform retry) is
    // acknowledged and changes nothing.
    assert_eq!(
        post_stripe(&client, &base, &body, "whsec_new", now_s()).await,
        200
    );
    wait_normalized(dir.path()).await;
    let after_first = counts(dir.path());
    assert_eq!(after_first, (1, 1, 0, 1));
    assert_eq!(
        post_stripe(&client, &base, &body, "whsec_new", now_s()).await,
        200
    );
    let altered = body.replace("1000", "999999");
    assert_eq!(
        post_stripe(&client, &base, &altered, "whsec_new", now_s()).await,
        200
    );
    wait_normalized(dir.path()).await;
    assert_eq!(
        counts(dir.path()),
        after_first,
        "a replayed event id writes nothing"
    );
    let conn = open_sqlite(&dir.path().join("w.lookback"));
    assert_eq!(
        query_i64(
            &conn,
            "SELECT gross_minor FROM orders WHERE order_id = 'ch_9'"
        ),
        1_000
    );
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_delivery_stamped_ahead_of_this_clock_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let body = stripe_charge_event("evt_ahead", "ch_ahead", 2_500);
    // This computer's clock runs 7 minutes slow: the delivery is stamped further ahead than
    // the 5-minute tolerance, which Stripe's libraries apply to old timestamps only.
    assert_eq!(
        post_stripe(
            &reqwest::Client::new(),
            &base,
            &body,
            "whsec_new",
            now_s() + 420
        )
        .await,
        200
    );
    wait_normalized(dir.path()).await;
    assert_eq!(counts(dir.path()), (1, 1, 0, 1));
    receiver.shutdown().await;
}

/// Webhooks arrive in the endpoint's API version, not the pinned one. A charge, a refund and a
/// dispute rendered in a current version (no `Charge.invoice`; a `prevented` dispute; ISK in
/// Stripe's two-decimal units) land in exactly the rows a poll of the same objects writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_events_in_a_current_api_version_land_as_the_polled_objects() {
    use lookback_tests::mock::MockServer;
    use lookback_tests::mock::harness::{fast_options, run_sync_with, workspace_with_source};
    use lookback_tests::mock::stripe::{CURRENT_VERSION, StripeApi};

    const KEY: &str = "sk_test_versions_51Hx9vQ2eZ";
    let api = std::sync::Arc::new(StripeApi::new(KEY));
    let t = now_s() - 3_600;
    // 4,990.00 krónur in Stripe's units; refunded 100 krónur; one dispute stopped early, one
    // under appeal (still open), on a second charge in JPY.
    let charge = api.add_charge_in("isk", 499_000, t);
    api.set_charge_field(&charge, "invoice", json!("in_versions_1"));
    api.set_charge_field(&charge, "metadata", json!({"click_id": "clk_versions"}));
    let refund = api.add_refund(&charge, 10_000, t + 60);
    let prevented = api.add_dispute(&charge, 499_000, t + 120);
    api.set_dispute_status(&prevented, "prevented");
    let yen = api.add_charge_in("jpy", 5_000, t + 180);
    let appealed = api.add_dispute(&yen, 5_000, t + 240);
    api.set_dispute_status(&appealed, "appeal_under_review");

    // Polled, in the pinned version, into one workspace.
    let polled_dir = tempfile::tempdir().unwrap();
    let polled_path = polled_dir.path().join("w.lookback");
    let server = MockServer::start(api.clone());
    let base_url = server.base_url.clone();
    let sync_path = polled_path.clone();
    let now_ms = now_s() * 1000;
    // The sync helper runs its own runtime, so it gets a thread of its own.
    std::thread::spawn(move || {
        let (mut store, source) = workspace_with_source(&sync_path, "stripe", "shop", &base_url);
        run_sync_with(
            &mut store,
            &source,
            KEY,
            &fast_options(now_ms),
            &Default::default(),
            |_| {},
        )
        .expect("sync");
    })
    .join()
    .unwrap();

    // Pushed, in a current version, into another.
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let client = reqwest::Client::new();
    for (event_id, event_type, id) in [
        ("evt_v1", "charge.succeeded", charge.as_str()),
        ("evt_v2", "charge.succeeded", yen.as_str()),
        ("evt_v3", "refund.created", refund.as_str()),
        ("evt_v4", "charge.dispute.closed", prevented.as_str()),
        ("evt_v5", "charge.dispute.updated", appealed.as_str()),
    ] {
        let object = api.object_as_of(id, CURRENT_VERSION);
        if event_type.starts_with("charge.succeeded") {
            assert!(
                object.get("invoice").is_none(),
                "no Charge.invoice since basil"
            );
        }
        let event = json!({"id": event_id, "object": "event", "api_version": CURRENT_VERSION,
                           "type": event_type, "created": now_s(), "data": {"object": object}})
        .to_string();
        assert_eq!(
            post_stripe(&client, &base, &event, "whsec_new", now_s()).await,
            200
        );
    }
    wait_normalized(dir.path()).await;
    receiver.shutdown().await;

    let rows = |path: &Path| {
        let conn = open_sqlite(path);
        let mut lines = Vec::new();
        for sql in [
            "SELECT order_id || '|' || occurred_at_ms || '|' || gross_minor || '|' || currency || '|' || status || '|' || IFNULL(click_id, '') || '|' || IFNULL(customer_id, '') FROM orders ORDER BY order_id",
            "SELECT adjustment_id || '|' || order_id || '|' || kind || '|' || occurred_at_ms || '|' || amount_minor || '|' || currency || '|' || status FROM order_adjustments ORDER BY adjustment_id",
            "SELECT COUNT(*) || ' dead letters' FROM dead_letters",
        ] {
            let mut statement = conn.prepare(sql).unwrap();
            let found = statement
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap);
            lines.extend(found);
        }
        lines
    };
    let pushed = rows(&dir.path().join("w.lookback"));
    assert_eq!(pushed, rows(&polled_path), "pushed and polled land alike");
    assert_eq!(
        pushed,
        [
            format!("{charge}|{}|4990|ISK|paid|clk_versions|cus_42", t * 1000),
            format!("{yen}|{}|5000|JPY|paid||cus_42", (t + 180) * 1000),
            format!(
                "{prevented}|{charge}|chargeback|{}|4990|ISK|prevented",
                (t + 120) * 1000
            ),
            format!(
                "{appealed}|{yen}|chargeback|{}|5000|JPY|open",
                (t + 240) * 1000
            ),
            format!(
                "{refund}|{charge}|refund|{}|100|ISK|succeeded",
                (t + 60) * 1000
            ),
            "0 dead letters".to_owned(),
        ]
    );
    // Net revenue: the prevented dispute took nothing, the appeal is still held.
    let store = Store::open(dir.path().join("w.lookback")).unwrap();
    let revenue = store.overview().unwrap().revenue;
    let isk = revenue.iter().find(|r| r.currency == "ISK").unwrap();
    assert_eq!(
        (isk.gross_minor, isk.refunds_minor, isk.chargebacks_minor),
        (4_990, 100, 0)
    );
    let jpy = revenue.iter().find(|r| r.currency == "JPY").unwrap();
    assert_eq!(jpy.chargebacks_minor, 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_deliveries_of_one_event_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let body = stripe_charge_event("evt_dup", "ch_dup", 7_700);
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let base = base.clone();
        let body = body.clone();
        // Separate clients: five connections, as a platform's retries would arrive.
        tasks.push(tokio::spawn(async move {
            post_stripe(&reqwest::Client::new(), &base, &body, "whsec_new", now_s()).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200, "every duplicate is acknowledged");
    }
    wait_normalized(dir.path()).await;
    assert_eq!(counts(dir.path()), (1, 1, 0, 1));
    receiver.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_but_verified_payloads_become_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let client = reqwest::Client::new();

    // Not JSON at all, correctly signed: a dead letter at once, acknowledged.
    let junk = b"this is not json <ann@example.com>".to_vec();
    let status = post_generic(&client, &base, junk).await;
    assert_eq!(status, 200);
    assert_eq!(counts(dir.path()), (0, 0, 1, 0));

    // JSON with an id but no sale: stored, then dead-lettered by the normalizer.
    let dub = json!({"id": "evt_dub_bad", "event": "sale.created", "createdAt": "2026-03-01T10:00:00.000Z",
                     "data": {"customer": {"id": "cus_1"}}})
    .to_string();
    let status = client
        .post(format!("{base}/webhooks/dub/links"))
        .header("Dub-Signature", sign_hex("dub_secret", &[dub.as_bytes()]))
        .body(dub)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    wait_normalized(dir.path()).await;
    assert_eq!(counts(dir.path()), (1, 1, 2, 0));
    let conn = open_sqlite(&dir.path().join("w.lookback"));
    let reason: String = conn
        .query_row(
            "SELECT reason FROM dead_letters WHERE location LIKE '%evt_dub_bad%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        reason.contains("sale"),
        "the reason names what is missing: {reason}"
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM dead_letters WHERE payload LIKE '%ann@example.com%' OR reason LIKE '%ann@%'"
        ),
        0
    );
    receiver.shutdown().await;
}

/// Through the CLI and the OS keyring (needs a D-Bus session with an unlocked keyring, as the
/// README's test command provides): a secret added with `webhook secret add` verifies a
/// delivery to `lookback listen`, which stores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_secret_add_and_listen_accept_a_signed_delivery() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let home = lookback_tests::TestHome::new();
    let db = home.path("w.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init"]);
    // `webhook secret add` reads the secret from stdin, never from argv.
    let add_secret = |value: &str| {
        let mut add = Command::new(lookback_tests::lookback_bin());
        add.args([
            "--db", db_arg, "webhook", "secret", "add", "--source", "backend",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
        home.apply(&mut add);
        let mut child = add.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(value.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "secret add failed");
    };
    add_secret("cli_generic_secret\n");
    let listed = home.lookback_ok(&["--db", db_arg, "webhook", "secret", "list"]);
    assert!(
        listed.contains("backend") && !listed.contains("cli_generic_secret"),
        "{listed}"
    );

    let mut listen = Command::new(lookback_tests::lookback_bin());
    listen
        .args(["--db", db_arg, "listen", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    home.apply(&mut listen);
    let mut server = listen.spawn().unwrap();
    let mut first = String::new();
    // The reader stays open until the end: closing the pipe would make listen's next print fail.
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .expect("listen prints its address")
        .to_owned();

    let body = json!({"event_id": "cli_1", "event_type": "conversion", "occurred_at": "2026-03-01T11:00:00Z",
                      "amount": "5.00", "currency": "USD"})
    .to_string();
    let (ts, sig) = generic_headers("cli_generic_secret", now_s(), body.as_bytes());
    let client = reqwest::Client::new();
    let status = client
        .post(format!("{base}/webhooks/generic/backend"))
        .header("X-Timestamp", ts)
        .header("X-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    let forged = client
        .post(format!("{base}/webhooks/generic/backend"))
        .header("X-Timestamp", now_s().to_string())
        .header("X-Signature", "00")
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!((status.as_u16(), forged.as_u16()), (200, 401));

    // Rotation while listening: a secret added by another process verifies within seconds,
    // without a restart; removing the source's secrets stops them verifying just as fast.
    let post = |secret: &'static str, event_id: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let body = json!({"event_id": event_id, "event_type": "conversion", "occurred_at": "2026-03-01T11:00:00Z",
                              "amount": "5.00", "currency": "USD"})
            .to_string();
            let (ts, sig) = generic_headers(secret, now_s(), body.as_bytes());
            client
                .post(format!("{base}/webhooks/generic/backend"))
                .header("X-Timestamp", ts)
                .header("X-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post("cli_rotated_secret", "cli_2").await,
        401,
        "not added yet"
    );
    add_secret("cli_rotated_secret\n");
    let until = |wanted: u16, secret: &'static str, event_id: &'static str| {
        let post = &post;
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let got = post(secret, event_id).await;
                if got == wanted || Instant::now() > deadline {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    assert_eq!(
        until(200, "cli_rotated_secret", "cli_2").await,
        200,
        "the added secret verifies without a restart"
    );
    assert_eq!(
        post("cli_generic_secret", "cli_3").await,
        200,
        "the older secret still verifies during the rotation"
    );
    home.lookback_ok(&[
        "--db", db_arg, "webhook", "secret", "remove", "--source", "backend",
    ]);
    assert_eq!(
        until(401, "cli_rotated_secret", "cli_4").await,
        401,
        "removed secrets stop verifying"
    );
    let _ = server.kill();
    let _ = server.wait();
    drop(reader);
    let conn = open_sqlite(&db);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE event_id = 'cli_1'"
        ),
        1
    );
    // Every acknowledged delivery is in the file, although another process opened, wrote and
    // closed the workspace while the receiver was writing (see `check_workspace`).
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE event_id IN ('cli_2', 'cli_3')"
        ),
        2
    );
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM webhook_secrets"), 0);
    let stored_secret = query_i64(
        &conn,
        "SELECT COUNT(*) FROM webhook_secrets WHERE secret_ref LIKE '%cli_generic_secret%'",
    );
    assert_eq!(stored_secret, 0, "only the keyring reference is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_clicks_are_classified_from_their_request_before_it_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, base) = start(dir.path()).await;
    let client = reqwest::Client::new();
    let clicks = [
        json!({"event_id": "wclk_preview", "event_type": "click", "occurred_at": "2026-03-01T11:00:00Z",
               "creator_id": "cr1", "click_id": "wc-preview", "anonymous_id": "v1",
               "user_agent": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com) LbHookAgent"}),
        json!({"event_id": "wclk_scanner", "event_type": "click", "occurred_at": "2026-03-01T11:01:00Z",
               "creator_id": "cr1", "click_id": "wc-scanner", "anonymous_id": "v2",
               "headers": {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 LbHookAgent", "Accept": "*/*"}}),
        json!({"event_id": "wclk_person", "event_type": "click", "occurred_at": "2026-03-01T11:02:00Z",
               "creator_id": "cr1", "click_id": "wc-person", "anonymous_id": "v3",
               "headers": {"User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1 LbHookAgent", "Accept": "text/html", "Accept-Language": "fr-FR"}}),
    ];
    for click in &clicks {
        let body = click.to_string();
        let status = post_generic(&client, &base, body).await;
        assert_eq!(status, 200);
    }
    wait_normalized(dir.path()).await;
    let conn = open_sqlite(&dir.path().join("w.lookback"));
    let verdict = |click: &str| -> (i64, Option<String>) {
        conn.query_row(
            "SELECT t.traffic_class, f.rule FROM touches t
             LEFT JOIN touch_traffic f ON f.touch_id = t.touch_id WHERE t.click_id = ?1",
            [click],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(verdict("wc-preview"), (2, Some("linkedin-preview".into())));
    assert_eq!(
        verdict("wc-scanner"),
        (1, Some("missing-browser-headers".into()))
    );
    assert_eq!(verdict("wc-person"), (0, None));
    // Neither the raw events nor the deliveries keep a user agent.
    assert_eq!(
        raw_payloads_containing(&dir.path().join("w.lookback"), "LbHookAgent"),
        0
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE traffic_signals LIKE '%LbHookAgent%'"
        ),
        0
    );
    receiver.shutdown().await;
}
