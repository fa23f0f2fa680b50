//! Data minimization at ingest: names, phones, IPs and user agents of buyers never reach
//! `raw_events` (nor the file's bytes) unless the workspace opts in with
//! `lookback privacy settings --store-raw-pii on`; e-mails are hashed either way. Checked on
//! the CSV import path and on an API sync (Shopify and Stripe mocks, whose records carry a
//! buyer's name).

use std::sync::Arc;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, file_contains, run_sync, workspace_with_source,
};
use lookback_tests::mock::shopify::ShopifyApi;
use lookback_tests::mock::stripe::StripeApi;
use lookback_tests::{TestHome, open_sqlite, query_i64, raw_events, raw_payloads_containing};

const ORDERS_CSV: &str = "order_id,occurred_at,amount,currency,customer_id,email,name,phone,ip,user_agent,gift_note\n\
o1,2026-03-01T10:00:00Z,12.50,USD,c1,ann@example.com,Annabel Leeward,+1 555 0199,203.0.113.77,Mozilla/5.0 (Zorblax),thanks\n\
o2,2026-03-02T10:00:00Z,8.00,USD,c2,bob@example.com,Bobby Tablesworth,,198.51.100.23,,\n";

fn payload(db: &str, order_id: &str) -> String {
    raw_events(std::path::Path::new(db))
        .into_iter()
        .find(|e| e.stream == "orders" && e.external_id == order_id)
        .expect("the order's raw event")
        .payload
}

#[test]
fn csv_import_redacts_personal_columns_unless_the_workspace_keeps_them() {
    let home = TestHome::new();
    let db = home.path("w.lookback").to_str().unwrap().to_owned();
    let csv = home.path("orders.csv");
    std::fs::write(&csv, ORDERS_CSV).unwrap();
    home.lookback_ok(&["--db", &db, "init"]);
    home.lookback_ok(&["--db", &db, "import", "orders", csv.to_str().unwrap()]);

    let first = payload(&db, "o1");
    for personal in [
        "Annabel",
        "555 0199",
        "203.0.113.77",
        "Zorblax",
        "ann@example.com",
    ] {
        assert!(!first.contains(personal), "{personal} stored in {first}");
    }
    assert!(first.contains("\"name\":\"[redacted]\""), "{first}");
    assert!(
        first.contains("\"gift_note\":\"thanks\""),
        "other extra columns are kept: {first}"
    );
    assert!(first.contains("\"phone\":\"[redacted]\""));
    // An empty personal field stays empty (nothing to hide).
    assert!(payload(&db, "o2").contains("\"phone\":\"\""));
    // The order itself is complete: amounts and identity keys do not depend on the redacted fields.
    let conn = open_sqlite(std::path::Path::new(&db));
    assert_eq!(
        query_i64(
            &conn,
            "SELECT gross_minor FROM orders WHERE order_id = 'o1'"
        ),
        1_250
    );
    drop(conn);
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(format!("{db}-wal")).unwrap_or_default();
    for haystack in [&bytes, &wal] {
        assert!(
            !haystack.windows(8).any(|w| w == b"Annabel "),
            "a name reached the file"
        );
    }

    // Opting in keeps the personal columns of rows imported afterwards (e-mails still hashed).
    home.lookback_ok(&["--db", &db, "privacy", "settings", "--store-raw-pii", "on"]);
    let later = home.path("later.csv");
    std::fs::write(
        &later,
        ORDERS_CSV.replace("o1,", "o3,").replace("o2,", "o4,"),
    )
    .unwrap();
    home.lookback_ok(&["--db", &db, "import", "orders", later.to_str().unwrap()]);
    let kept = payload(&db, "o3");
    assert!(
        kept.contains("Annabel Leeward") && kept.contains("203.0.113.77"),
        "{kept}"
    );
    assert!(
        !kept.contains("ann@example.com"),
        "e-mails are hashed even when PII is kept"
    );
}

#[test]
fn api_sync_redacts_buyer_names_and_ips_before_storing_and_normalizing() {
    let shopify = Arc::new(ShopifyApi::new("shpat_token", 30));
    let server = MockServer::start(shopify);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    run_sync(&mut store, &source, "shpat_token").expect("sync");
    assert_eq!(count(&path, "orders"), 30, "every order still lands");
    assert_eq!(
        raw_payloads_containing(&path, "\"first_name\":\"Buyer\""),
        0,
        "a buyer's first name is not stored"
    );
    assert_eq!(
        raw_payloads_containing(&path, "\"first_name\":\"[redacted]\""),
        30
    );
    assert_eq!(raw_payloads_containing(&path, "@example.com"), 0);
    drop(store);
    assert!(!file_contains(&path, "buyer1@example.com"));

    // A Stripe workspace that opted in keeps the billing name; one that did not, does not.
    for keep in [false, true] {
        let stripe = Arc::new(StripeApi::new("sk_test_token"));
        for n in 0..5 {
            stripe.add_charge(
                1_000 + n,
                TEST_NOW_MS / 1000 - 86_400 * (n + 1),
                "succeeded",
                Some("ann@example.com"),
                None,
            );
        }
        let server = MockServer::start(stripe);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.lookback");
        let (mut store, source) = workspace_with_source(&path, "stripe", "pay", &server.base_url);
        store.set_store_raw_pii(keep).unwrap();
        run_sync(&mut store, &source, "sk_test_token").expect("sync");
        let named = raw_payloads_containing(&path, "A Customer");
        let orders = count(&path, "orders");
        assert!(orders > 0);
        if keep {
            assert!(named > 0, "opted in: the billing name is kept");
        } else {
            assert_eq!(named, 0, "by default the billing name is redacted");
        }
    }
}

const ERASE_TOUCHES: &str = "touch_id,occurred_at,channel,email,customer_id,creator_id\n\
t_ann,2026-03-01T09:00:00Z,creator_link,ann@example.com,cus_ann,cara\n\
t_bob,2026-03-01T09:30:00Z,creator_link,bob@example.com,cus_bob,cara\n";
const ERASE_ORDERS: &str = "order_id,occurred_at,amount,currency,email,customer_id\n\
o_ann,2026-03-01T10:00:00Z,20.00,USD,ann@example.com,cus_ann\n\
o_bob,2026-03-01T10:30:00Z,30.00,USD,bob@example.com,cus_bob\n";
const ERASE_LINKS: &str =
    "key_type_a,key_a,key_type_b,key_b\nemail,ann@example.com,device_id,dev_ann\n";

/// An erased person does not come back when a platform that still holds them is imported (or
/// synced) again: their touches and identity links are not stored, their orders are stored
/// without personal keys, and their raw payloads are replaced. Other people import as usual.
#[test]
fn an_erased_person_is_not_brought_back_by_a_later_import() {
    let home = TestHome::new();
    let db = home.path("w.lookback").to_str().unwrap().to_owned();
    home.lookback_ok(&["--db", &db, "init"]);
    let files = [
        ("touches", ERASE_TOUCHES),
        ("orders", ERASE_ORDERS),
        ("identities", ERASE_LINKS),
    ];
    let import_all = |name: &str| -> Vec<String> {
        files
            .iter()
            .map(|(kind, csv)| {
                let path = home.path(&format!("{name}-{kind}.csv"));
                std::fs::write(&path, csv).unwrap();
                home.lookback_ok(&["--db", &db, "import", kind, path.to_str().unwrap()])
            })
            .collect()
    };
    import_all("first");
    home.lookback_ok(&[
        "--db",
        &db,
        "privacy",
        "erase",
        "--email",
        "Ann@Example.com",
    ]);
    let ann_hash = lookback_core::identity::email_sha256("ann@example.com").unwrap();
    // The same rows again, under new file names (a platform export of the same records) and
    // with new touch and order ids for ann, as a re-sync of a platform would bring.
    let outputs = import_all("again");
    let renamed = |csv: &str| csv.replace("t_ann", "t_ann_2").replace("o_ann", "o_ann_2");
    for (kind, csv) in &files[..2] {
        let path = home.path(&format!("renamed-{kind}.csv"));
        std::fs::write(&path, renamed(csv)).unwrap();
        let out = home.lookback_ok(&["--db", &db, "import", kind, path.to_str().unwrap()]);
        if *kind == "touches" {
            assert!(out.contains("1 of erased people not stored"), "{out}");
        }
    }
    assert!(
        outputs.iter().all(|o| o.contains("/ 0 rejected")),
        "{outputs:?}"
    );

    let conn = open_sqlite(std::path::Path::new(&db));
    let count = |sql: &str| query_i64(&conn, sql);
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) FROM touches WHERE email_sha256 = '{ann_hash}' OR customer_id = 'cus_ann'"
        )),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM touches WHERE touch_id LIKE 't_ann%'"),
        0,
        "ann's touches stay erased"
    );
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) FROM orders WHERE email_sha256 = '{ann_hash}' OR customer_id = 'cus_ann'"
        )),
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM orders WHERE order_id = 'o_ann_2' AND customer_id IS NULL AND email_sha256 IS NULL AND gross_minor = 2000"
        ),
        1,
        "a new order of ann's is kept for its revenue, without her keys"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM identity_links WHERE key_b = 'dev_ann' OR key_a = 'dev_ann'"),
        0
    );
    assert_eq!(
        raw_events(std::path::Path::new(&db))
            .iter()
            .filter(|e| e.payload.contains(&ann_hash) || e.payload.contains("cus_ann"))
            .count(),
        0
    );
    // Bob is untouched.
    assert_eq!(
        count("SELECT COUNT(*) FROM touches WHERE customer_id = 'cus_bob'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM orders WHERE customer_id = 'cus_bob'"),
        1
    );
    // The list holds salted hashes only: ann's plain e-mail hash is nowhere in the file.
    assert!(count("SELECT COUNT(*) FROM erased_keys") >= 3);
}
