//! Erasing a person removes every trace of them — checked in the file's bytes — recomputes
//! affected runs, and logs the erasure without the person. Retention purges old payloads.

mod common;

use common::{DAY_MS, T0, link, order, raw, touch};
use lookback_store::{
    Credit, IdentityKeyType, IdentityKeys, JoinKind, NewDeadLetter, NewRun, PURGED_PAYLOAD,
    RunOrder, RunOrderOutcome, RunStatus, Store, Table,
};
use lookback_trust::{ErasureKey, TrustError, erase, purge_raw_payloads};

const EMAIL: &str = "Ann.Person@Example.com";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every byte the workspace has on disk: the file and, if present, its -wal.
fn disk_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(std::path::PathBuf::from(wal)) {
        bytes.extend(more);
    }
    bytes
}

#[test]
fn erasing_by_email_removes_every_trace_from_the_file_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.lookback");
    let mut store = Store::create(&db).unwrap();
    let email = lookback_core::identity::normalize_email(EMAIL).unwrap();
    let hash = lookback_core::identity::email_sha256(EMAIL).unwrap();

    // Ann: email hash on a touch, the same touch's device id on another touch, a customer id
    // linked to her email, and an order carrying only the customer id. Her raw payloads quote
    // the plain email (an old import, before hashing) and the hash; a dead letter quotes her.
    let raw_touch = raw(
        &mut store,
        "dub",
        "clicks",
        "ann-click-1",
        &format!(r#"{{"id":"ann-click-1","email":"{email}"}}"#),
        T0,
    );
    let raw_order = raw(
        &mut store,
        "stripe",
        "charges",
        "ann-order",
        &format!(r#"{{"id":"ann-order","customer":"cus_ANN42","email_sha256":"{hash}"}}"#),
        T0,
    );
    let raw_bob = raw(
        &mut store,
        "stripe",
        "charges",
        "bob-order",
        r#"{"id":"bob-order","customer":"cus_BOB"}"#,
        T0,
    );
    let mut tx = store.begin().unwrap();
    let mut t1 = touch(
        "ann-click-1",
        T0 - DAY_MS,
        Some("c1"),
        IdentityKeys {
            email_sha256: Some(hash.clone()),
            device_id: Some("dev-ann-phone".into()),
            ..IdentityKeys::default()
        },
        Some("clk-ann"),
    );
    t1.raw_event_id = Some(raw_touch);
    tx.insert_touch(&t1).unwrap();
    tx.insert_touch(&touch(
        "ann-click-2",
        T0 - 2 * DAY_MS,
        Some("c2"),
        IdentityKeys {
            device_id: Some("dev-ann-phone".into()),
            anonymous_id: Some("anon-ann".into()),
            ..IdentityKeys::default()
        },
        None,
    ))
    .unwrap();
    tx.insert_touch(&touch(
        "bob-click",
        T0 - DAY_MS,
        Some("c1"),
        common::customer("cus_BOB"),
        None,
    ))
    .unwrap();
    tx.insert_identity_link(&link(
        (IdentityKeyType::EmailSha256, &hash),
        (IdentityKeyType::CustomerId, "cus_ANN42"),
    ))
    .unwrap();
    let mut ann_order = order(
        "ann-order",
        T0,
        5000,
        "USD",
        common::customer("cus_ANN42"),
        None,
    );
    ann_order.raw_event_id = Some(raw_order);
    tx.insert_order(&ann_order).unwrap();
    let mut bob_order = order(
        "bob-order",
        T0,
        3000,
        "USD",
        common::customer("cus_BOB"),
        None,
    );
    bob_order.raw_event_id = Some(raw_bob);
    tx.insert_order(&bob_order).unwrap();
    tx.insert_dead_letter(&NewDeadLetter {
        source: "import".into(),
        stream: "orders".into(),
        location: "orders.csv:7".into(),
        reason: "amount is not a number".into(),
        payload: format!("ann-order-2,abc,{email}"),
        created_at_ms: T0,
    })
    .unwrap();
    tx.commit().unwrap();
    // A run that credited Ann, and one of another model that did not see her orders.
    let watermark = store.input_watermark().unwrap();
    let run = store
        .insert_run(&NewRun {
            model: "last-touch".into(),
            parameters: "{}".into(),
            lookback_days: 30,
            settlement_days: 14,
            reporting_currency: "USD".into(),
            input_watermark: watermark.clone(),
            started_at_ms: T0,
        })
        .unwrap();
    store
        .insert_run_orders(
            run,
            [RunOrder {
                order_id: "ann-order".into(),
                outcome: RunOrderOutcome::Attributed,
                net_minor: 5000,
                provisional: false,
                join_kind: Some(JoinKind::IdentityGraph),
            }],
        )
        .unwrap();
    store
        .insert_credits(
            run,
            [Credit {
                order_id: "ann-order".into(),
                touch_id: "ann-click-1".into(),
                share_ppb: 1_000_000_000,
                revenue_minor: 5000,
                join_kind: JoinKind::IdentityGraph,
                confidence_ppm: 1_000_000,
            }],
        )
        .unwrap();
    store
        .finish_run(run, RunStatus::Complete, T0, None)
        .unwrap();
    drop(store);
    let before = disk_bytes(&db);
    assert!(
        contains(&before, &email) && contains(&before, &hash),
        "the fixture must hold Ann"
    );

    let mut store = Store::open(&db).unwrap();
    let receipt = erase(&mut store, &ErasureKey::Email(EMAIL.into()), T0 + DAY_MS).unwrap();
    assert_eq!(receipt.counts.touches_deleted, 2);
    assert_eq!(receipt.counts.orders_anonymized, 1);
    assert_eq!(receipt.counts.identity_links_deleted, 1);
    assert_eq!(receipt.counts.raw_events_deleted, 2);
    assert_eq!(receipt.counts.dead_letters_deleted, 1);
    assert_eq!(receipt.counts.runs_deleted, 1);
    assert_ne!(
        store.input_watermark().unwrap(),
        watermark,
        "views must recompute"
    );

    // Bob and the business record of Ann's order stay.
    let orders = store.orders().unwrap();
    assert_eq!(orders.len(), 2);
    let ann = orders.iter().find(|o| o.order_id == "ann-order").unwrap();
    assert_eq!(ann.gross_minor, 5000);
    assert_eq!(ann.identity, IdentityKeys::default());
    assert_eq!(store.touches().unwrap().len(), 1);
    assert_eq!(store.row_count(Table::RawEvents).unwrap(), 1);

    let log = store.erasures().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].requested_key_type, "email");
    assert_eq!(log[0].marker, receipt.marker);
    drop(store);

    let after = disk_bytes(&db);
    for trace in [
        email.as_str(),
        hash.as_str(),
        "cus_ANN42",
        "dev-ann-phone",
        "anon-ann",
        "clk-ann",
        "ann-click-1",
    ] {
        assert!(
            !contains(&after, trace),
            "{trace} is still in the workspace file"
        );
    }
    assert!(contains(&after, "cus_BOB"), "Bob was erased too");
}

#[test]
fn erasing_an_unknown_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.lookback");
    let mut store = Store::create(&db).unwrap();
    let err = erase(&mut store, &ErasureKey::CustomerId("nobody".into()), T0).unwrap_err();
    assert!(matches!(err, TrustError::PersonNotFound { .. }));
    assert!(store.erasures().unwrap().is_empty());
    assert!(matches!(
        erase(&mut store, &ErasureKey::Email("not-an-email".into()), T0),
        Err(TrustError::InvalidKey { .. })
    ));
}

#[test]
fn purge_blanks_only_payloads_older_than_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.lookback");
    let mut store = Store::create(&db).unwrap();
    let now = T0 + 200 * DAY_MS;
    raw(
        &mut store,
        "stripe",
        "charges",
        "old",
        r#"{"id":"old","secret_note":"OLD-PAYLOAD"}"#,
        now - 181 * DAY_MS,
    );
    raw(
        &mut store,
        "stripe",
        "charges",
        "new",
        r#"{"id":"new","note":"NEW-PAYLOAD"}"#,
        now - 179 * DAY_MS,
    );
    let mut tx = store.begin().unwrap();
    tx.insert_order(&order(
        "old",
        now - 181 * DAY_MS,
        100,
        "USD",
        IdentityKeys::default(),
        None,
    ))
    .unwrap();
    tx.commit().unwrap();
    assert!(matches!(
        purge_raw_payloads(&mut store, now),
        Err(TrustError::NoRetention)
    ));
    store.set_raw_payload_retention_days(Some(180)).unwrap();
    let summary = purge_raw_payloads(&mut store, now).unwrap();
    assert_eq!(summary.purged, 1);
    assert_eq!(
        purge_raw_payloads(&mut store, now).unwrap().purged,
        0,
        "a second purge has nothing to do"
    );
    let mut payloads = Vec::new();
    store
        .for_each_raw_event(|e| payloads.push((e.external_id, e.payload)))
        .unwrap();
    assert_eq!(payloads[0], ("old".to_string(), PURGED_PAYLOAD.to_string()));
    assert!(payloads[1].1.contains("NEW-PAYLOAD"));
    assert_eq!(store.orders().unwrap().len(), 1, "canonical rows are kept");
    drop(store);
    assert!(!contains(&disk_bytes(&db), "OLD-PAYLOAD"));
}

#[test]
fn privacy_settings_default_to_minimization() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    assert!(!store.store_raw_pii().unwrap());
    assert_eq!(store.raw_payload_retention_days().unwrap(), None);
    store.set_store_raw_pii(true).unwrap();
    assert!(store.store_raw_pii().unwrap());
    assert!(store.set_raw_payload_retention_days(Some(0)).is_err());
}
