//! End-to-end tests of the real window: the built `lookback` binary launched by tauri-driver
//! under Xvfb, read through WebKitWebDriver, and checked against the workspace file itself.

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

fn digits(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Checks the overview the window shows against the workspace file, number by number.
fn assert_overview_matches_store(session: &Session, db: &std::path::Path) {
    // The window shows the overview only once the workspace is fully written (the demo is
    // generated behind the welcome screen), so wait for it before reading the file.
    let kpi_orders = session.wait_for("[data-testid=kpi-orders] .kpi-value");
    let conn = open_sqlite(db);
    let orders_text = session.text(&kpi_orders);
    assert_eq!(
        digits(&orders_text),
        query_i64(&conn, "SELECT COUNT(*) FROM orders").to_string(),
        "orders shown: {orders_text}"
    );

    let touches = session
        .find("[data-testid=kpi-touches] .kpi-value")
        .expect("touches KPI");
    assert_eq!(
        digits(&session.text(&touches)),
        query_i64(&conn, "SELECT COUNT(*) FROM touches").to_string()
    );
    let creators = session
        .find("[data-testid=kpi-creators] .kpi-value")
        .expect("creators KPI");
    assert_eq!(
        digits(&session.text(&creators)),
        query_i64(&conn, "SELECT COUNT(*) FROM creators").to_string()
    );

    // Net revenue per currency: gross minus refunds minus chargebacks that were not won.
    let mut stmt = conn
        .prepare("SELECT DISTINCT currency FROM orders ORDER BY currency")
        .unwrap();
    let currencies: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        !currencies.is_empty(),
        "the demo has orders in some currency"
    );
    for currency in currencies {
        let gross = query_i64(
            &conn,
            &format!("SELECT COALESCE(SUM(gross_minor),0) FROM orders WHERE currency='{currency}'"),
        );
        let deducted = query_i64(
            &conn,
            &format!(
                "SELECT COALESCE(SUM(a.amount_minor),0) FROM order_adjustments a JOIN orders o ON o.order_id = a.order_id \
                 WHERE o.currency='{currency}' AND NOT (a.kind = 'chargeback' AND a.status IN ('won', 'prevented')) \
                 AND a.status NOT IN ('failed','canceled','cancelled')"
            ),
        );
        let cell = session
            .find(&format!(
                "[data-testid=revenue-table] tr[data-currency={currency}] td[data-col=net]"
            ))
            .unwrap_or_else(|| panic!("no net revenue cell for {currency}"));
        let shown_minor: i64 = session
            .attr(&cell, "data-minor")
            .expect("data-minor")
            .parse()
            .unwrap();
        assert_eq!(shown_minor, gross - deducted, "net revenue in {currency}");
        // What a person reads is the same number: the digits of the formatted amount.
        assert_eq!(
            digits(&session.text(&cell)),
            (gross - deducted).to_string(),
            "net revenue text in {currency}"
        );
    }

    let spend_total: i64 = query_i64(&conn, "SELECT COALESCE(SUM(spend_minor),0) FROM ad_spend");
    let shown_spend: i64 = session
        .eval(
            "const split = document.querySelector('[data-testid=kpi-spend] .kpi-split'); \
             const amounts = split ? [...split.querySelectorAll('[data-minor]')] \
                                   : [document.querySelector('[data-testid=kpi-spend-total]')]; \
             return amounts.reduce((s, e) => s + Number(e.dataset.minor), 0)",
        )
        .as_i64()
        .expect("spend sum");
    assert_eq!(shown_spend, spend_total, "ad spend across currencies");
}

/// The overview's headline (net revenue and ad spend in the reporting currency, converted at
/// each day's rate) is the number `lookback overview` prints, to the minor unit, in the same
/// currency, and what a person reads is that number.
fn assert_headline_matches_cli(session: &Session, home: &TestHome, db: &std::path::Path) {
    let printed: serde_json::Value = serde_json::from_str(&home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "overview",
        "--format",
        "json",
    ]))
    .expect("overview JSON");
    let table = home.lookback_ok(&["--db", db.to_str().unwrap(), "overview"]);
    for (testid, field, line) in [
        ("kpi-net-revenue-total", "net_revenue", "net revenue"),
        ("kpi-spend-total", "ad_spend", "ad spend"),
    ] {
        let cli = &printed["headline"][field];
        let cell = session.wait_for(&format!("[data-testid={testid}]"));
        assert_eq!(
            session.attr(&cell, "data-minor").as_deref(),
            Some(cli["minor"].to_string().as_str()),
            "{field}: window against `lookback overview --format json`"
        );
        assert_eq!(
            session.attr(&cell, "data-currency").as_deref(),
            cli["currency"].as_str(),
            "{field} currency"
        );
        assert_eq!(
            cli["currency"].as_str(),
            printed["workspace"]["reporting_currency"].as_str(),
            "the headline is in the reporting currency"
        );
        let minor = cli["minor"].as_i64().unwrap();
        assert!(minor > 0, "{field} of the demo is not zero");
        assert_eq!(
            digits(&session.text(&cell)),
            minor.to_string(),
            "{field} as read"
        );
        // The table form prints the same amount on its line.
        let expected = format!(
            "{line:<11} {} {}",
            cli["currency"].as_str().unwrap(),
            cli["amount"].as_str().unwrap()
        );
        assert!(
            table.lines().any(|l| l == expected),
            "no line {expected:?} in\n{table}"
        );
    }
}

#[test]
fn window_opens_on_a_demo_workspace_and_shows_the_stores_numbers() {
    let home = TestHome::new();
    let db = home.path("demo.lookback");
    home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "demo",
        "--seed",
        "7",
        "--end",
        "2026-10-31",
    ]);

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);

    assert_overview_matches_store(&session, &db);
    assert_headline_matches_cli(&session, &home, &db);
    assert!(
        session.title().contains("Lookback"),
        "window title: {}",
        session.title()
    );
}

#[test]
fn first_launch_offers_the_demo_and_opens_it() {
    let home = TestHome::new();
    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &[]);

    // No workspace yet: the welcome screen offers the demo and an empty workspace.
    let open_demo = session.wait_for("[data-testid=open-demo]");
    assert!(
        session.find("[data-testid=create-empty]").is_some(),
        "offers an empty workspace too"
    );
    session.click(&open_demo);

    let demo = home.data_home().join("lookback").join("demo.lookback");
    assert_overview_matches_store(&session, &demo);
    assert!(demo.exists(), "the demo was written to {}", demo.display());
}

#[test]
fn a_damaged_workspace_opens_read_only_with_the_reason_and_is_never_written() {
    let home = TestHome::new();
    let good = home.path("good.lookback");
    home.lookback_ok(&[
        "--db",
        good.to_str().unwrap(),
        "demo",
        "--orders",
        "300",
        "--end",
        "2026-06-30",
    ]);
    let bytes = std::fs::read(&good).unwrap();
    let damaged = home.path("damaged.lookback");
    std::fs::write(&damaged, &bytes[..bytes.len() * 2 / 3]).unwrap();

    {
        let display = Display::start();
        let _driver = TauriDriver::start(&display, &home);
        let session = Session::launch(&lookback_bin(), &["--db", damaged.to_str().unwrap()]);
        let banner = session.wait_for("[data-testid=read-only]");
        let text = session.text(&banner);
        assert!(
            text.contains("damaged") && text.contains("read-only"),
            "banner: {text}"
        );
    }
    assert_eq!(
        std::fs::read(&damaged).unwrap(),
        &bytes[..bytes.len() * 2 / 3],
        "the damaged file is never written"
    );
}

/// A workspace written by the previous version, named at start, is upgraded once the window
/// shows (with its progress there, not before the window exists) and then opens on the overview
/// with the store's numbers. Its raw events are still in the old layout, so the overview offers
/// to compact them; compacting from the window leaves nothing for `lookback compact` to do and
/// no number changed.
#[test]
fn a_workspace_of_the_previous_version_is_upgraded_and_compacted_in_the_window() {
    let home = TestHome::new();
    let db = home.previous_version_demo("demo14.lookback");
    let dbs = db.to_str().unwrap();
    {
        let display = Display::start();
        let _driver = TauriDriver::start(&display, &home);
        let session = Session::launch(&lookback_bin(), &["--db", dbs]);
        assert_overview_matches_store(&session, &db);

        let offer = session.wait_for("[data-testid=compact-offer]");
        let offered = session.text(&offer);
        assert!(
            offered.contains("raw events") && digits(&offered).starts_with("12257"),
            "offer: {offered}"
        );
        let compact = session.wait_for("[data-testid=compact-now]");
        session.click(&compact);
        session.wait_until(
            "compaction to finish",
            "const s = document.querySelector('[data-testid=compact-status]'); \
             return !!s && s.textContent.startsWith('Compacted ') \
             && s.textContent.split(':')[0].replace(/\\D/g, '') === '12257';",
        );
        assert_overview_matches_store(&session, &db);
    }
    let version: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, lookback_store::SCHEMA_VERSION);
    let again = home.lookback_ok(&["--db", dbs, "compact"]);
    assert!(again.contains("already compact"), "{again}");
}
