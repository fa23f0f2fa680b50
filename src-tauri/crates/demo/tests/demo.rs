//! The demo workspace a user sees on first launch: the same seed gives the same workspace, the
//! numbers are in realistic ranges, and the overview agrees with the raw tables.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use lookback_demo::{DEMO_DAYS, DemoConfig, DemoError, DemoSummary, generate};
use lookback_store::{COUNTED_ADJUSTMENT, Store, Table};
use rusqlite::Connection;

const DAY_MS: i64 = 86_400_000;

fn generate_into(path: &Path, cfg: &DemoConfig) -> DemoSummary {
    let mut store = Store::create(path).unwrap();
    generate(&mut store, cfg).unwrap()
}

/// Every row of every table, in rowid order, as text: two identical workspaces give identical dumps.
fn dump(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut lines = Vec::new();
    for table in Table::ALL {
        let mut statement = conn
            .prepare(&format!(
                "SELECT * FROM {} ORDER BY rowid",
                table.sql_name()
            ))
            .unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            lines.push(format!("{}|{}", table.sql_name(), values.join("|")));
        }
    }
    lines
}

#[test]
fn the_same_seed_gives_identical_tables_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DemoConfig {
        orders: 1500,
        ..DemoConfig::default()
    };
    let first = generate_into(&dir.path().join("a.lookback"), &cfg);
    let second = generate_into(&dir.path().join("b.lookback"), &cfg);
    let other = generate_into(
        &dir.path().join("c.lookback"),
        &DemoConfig { seed: 7, ..cfg },
    );
    assert_eq!(first, second);
    assert_ne!(first, other);
    let (a, b, c) = (
        dump(&dir.path().join("a.lookback")),
        dump(&dir.path().join("b.lookback")),
        dump(&dir.path().join("c.lookback")),
    );
    assert!(a.len() > 10_000);
    assert!(a == b, "same seed, different tables");
    assert_ne!(a, c, "a different seed must give different data");
}

#[test]
fn default_demo_is_realistic_and_agrees_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.lookback");
    let cfg = DemoConfig::default();
    let mut store = Store::create(&path).unwrap();
    let started = std::time::Instant::now();
    let summary = generate(&mut store, &cfg).unwrap();
    eprintln!("generated {summary:?} in {:?}", started.elapsed());

    // The summary counts what is in the tables.
    assert_eq!(summary.orders, store.row_count(Table::Orders).unwrap());
    assert_eq!(summary.orders, 12_000);
    assert_eq!(summary.touches, store.row_count(Table::Touches).unwrap());
    assert_eq!(summary.creators, store.row_count(Table::Creators).unwrap());
    assert_eq!(
        summary.content_items,
        store.row_count(Table::Content).unwrap()
    );
    assert_eq!(
        summary.campaigns,
        store.row_count(Table::Campaigns).unwrap()
    );
    assert_eq!(
        summary.ad_spend_rows,
        store.row_count(Table::AdSpend).unwrap()
    );
    assert_eq!(
        summary.refunds + summary.chargebacks,
        store.row_count(Table::OrderAdjustments).unwrap()
    );
    assert_eq!(
        summary.creator_costs,
        store.row_count(Table::CreatorCosts).unwrap()
    );
    assert_eq!(
        summary.identity_links,
        store.row_count(Table::IdentityLinks).unwrap()
    );
    assert_eq!(summary.fx_rates, store.row_count(Table::FxRates).unwrap());
    assert_eq!(summary.sources, store.row_count(Table::Sources).unwrap());
    assert_eq!(
        summary.raw_events,
        store.row_count(Table::RawEvents).unwrap()
    );

    // Realistic ranges.
    assert!(
        (40_000..=65_000).contains(&summary.touches),
        "touches {}",
        summary.touches
    );
    assert_eq!(summary.creators, 12);
    // Creators' links, stories and posts, and about 60 newsletters.
    assert!(
        (120..=180).contains(&summary.content_items),
        "content {}",
        summary.content_items
    );
    assert!((8..=14).contains(&summary.campaigns));
    assert!(
        (4_000..=8_000).contains(&summary.ad_spend_rows),
        "spend rows {}",
        summary.ad_spend_rows
    );
    assert!(
        (550..=950).contains(&summary.refunds),
        "refunds {}",
        summary.refunds
    );
    assert_eq!(summary.chargebacks, 3);
    assert!(
        summary.persons > summary.converting_persons + 1_000,
        "there are browsers who never buy"
    );
    assert!(
        (500..=2_400).contains(&summary.unresolvable_orders),
        "unresolvable {}",
        summary.unresolvable_orders
    );
    assert_eq!(summary.fx_rates, 2 * (DEMO_DAYS as u64 + 2));

    let conn = Connection::open(&path).unwrap();
    let int = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };

    // Everything happens in the DEMO_DAYS (about thirteen months) before the end.
    let start = cfg.end_at_ms - DEMO_DAYS * DAY_MS;
    assert!(int("SELECT MIN(occurred_at_ms) FROM touches") >= start);
    assert!(int("SELECT MIN(occurred_at_ms) FROM orders") >= start);
    assert!(int("SELECT MAX(occurred_at_ms) FROM touches") < cfg.end_at_ms);
    assert!(int("SELECT MAX(occurred_at_ms) FROM orders") < cfg.end_at_ms);
    assert!(int("SELECT MAX(occurred_at_ms) FROM order_adjustments") < cfg.end_at_ms);
    assert_eq!(
        summary.first_at_ms,
        Some(int(
            "SELECT MIN(m) FROM (SELECT MIN(occurred_at_ms) m FROM touches UNION ALL SELECT MIN(occurred_at_ms) FROM orders)"
        ))
    );

    // Amounts are in the shop's range, currencies are mixed with USD first.
    assert!(int("SELECT MIN(gross_minor) FROM orders") >= 1_900);
    assert!(int("SELECT MAX(gross_minor) FROM orders") <= 25_000);
    let usd = int("SELECT COUNT(*) FROM orders WHERE currency = 'USD'");
    let eur = int("SELECT COUNT(*) FROM orders WHERE currency = 'EUR'");
    let gbp = int("SELECT COUNT(*) FROM orders WHERE currency = 'GBP'");
    assert!(usd > eur && eur > gbp && gbp > 0);
    assert_eq!(
        int("SELECT COUNT(*) FROM order_adjustments WHERE kind = 'chargeback' AND status = 'open'"),
        1
    );
    assert!(
        int(
            "SELECT COUNT(*) FROM order_adjustments WHERE kind = 'refund' AND amount_minor < (SELECT gross_minor FROM orders o WHERE o.order_id = order_adjustments.order_id)"
        ) > 0,
        "some refunds are partial"
    );

    // No order is refunded or charged back beyond its gross.
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM orders o WHERE (SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments a WHERE a.order_id = o.order_id) > o.gross_minor"
        ),
        0
    );
    // Every adjustment belongs to an order, in the order's currency.
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM order_adjustments a LEFT JOIN orders o USING (order_id) WHERE o.order_id IS NULL OR o.currency <> a.currency"
        ),
        0
    );
    // Every non-USD order has an fx rate for its day.
    assert_eq!(
        int("SELECT COUNT(*) FROM orders o WHERE o.currency <> 'USD' AND NOT EXISTS (
                 SELECT 1 FROM fx_rates f WHERE f.from_currency = o.currency AND f.to_currency = 'USD'
                 AND f.day = date(o.occurred_at_ms / 1000, 'unixepoch'))"),
        0
    );
    // Every touch carries an identity key; emails are only hashes.
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM touches WHERE anonymous_id IS NULL AND email_sha256 IS NULL AND customer_id IS NULL"
        ),
        0
    );
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM orders WHERE length(email_sha256) <> 64 OR email_sha256 GLOB '*[^0-9a-f]*'"
        ),
        0
    );
    // Some orders carry a click id; creator touches point at the creator's own content.
    assert!(int("SELECT COUNT(*) FROM orders WHERE click_id IS NOT NULL") > 500);
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM touches t JOIN content c USING (content_id) WHERE c.creator_id <> t.creator_id"
        ),
        0
    );
    assert!(int("SELECT COUNT(DISTINCT channel) FROM touches") >= 8);
    // Every canonical row points at a raw event of the same source.
    for table in [
        "touches",
        "orders",
        "order_adjustments",
        "ad_spend",
        "creator_costs",
    ] {
        assert_eq!(
            int(&format!(
                "SELECT COUNT(*) FROM {table} t LEFT JOIN raw_events r USING (raw_event_id) WHERE r.raw_event_id IS NULL OR r.source <> t.source"
            )),
            0,
            "{table}"
        );
    }

    // The totals the overview reads, kept by triggers while the demo was written, equal a
    // recount of the rows.
    let totals = store.totals().unwrap();
    assert_eq!(totals, store.recount_totals().unwrap());
    assert!(totals.sources.iter().all(|s| s.raw_events > 0));

    // The overview equals direct sums, and net = gross − refunds − chargebacks per currency.
    let overview = store.overview().unwrap();
    assert_eq!(overview.order_count, 12_000);
    assert_eq!(overview.touch_count, summary.touches);
    assert_eq!(overview.creator_count, 12);
    assert_eq!(overview.first_activity_at_ms, summary.first_at_ms);
    assert_eq!(overview.last_activity_at_ms, summary.last_at_ms);
    assert_eq!(overview.revenue.len(), 3);
    for row in &overview.revenue {
        let currency = &row.currency;
        let gross = int(&format!(
            "SELECT SUM(gross_minor) FROM orders WHERE currency = '{currency}'"
        ));
        let refunds = int(&format!(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments WHERE currency = '{currency}' AND kind = 'refund' AND {COUNTED_ADJUSTMENT}"
        ));
        let chargebacks = int(&format!(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments WHERE currency = '{currency}' AND kind = 'chargeback' AND {COUNTED_ADJUSTMENT}"
        ));
        assert_eq!(
            (row.gross_minor, row.refunds_minor, row.chargebacks_minor),
            (gross, refunds, chargebacks),
            "{currency}"
        );
        assert_eq!(row.net_minor, gross - refunds - chargebacks, "{currency}");
    }
    let spend: BTreeMap<String, i64> = overview
        .ad_spend
        .iter()
        .map(|a| (a.currency.clone(), a.amount_minor))
        .collect();
    assert_eq!(
        spend["USD"],
        int("SELECT SUM(spend_minor) FROM ad_spend WHERE currency = 'USD'")
    );
    assert_eq!(
        spend["EUR"],
        int("SELECT SUM(spend_minor) FROM ad_spend WHERE currency = 'EUR'")
    );
    // Every source is fresh and has raw events.
    let sources: HashSet<&str> = overview
        .sources
        .iter()
        .map(|s| s.source_id.as_str())
        .collect();
    assert!(sources.contains("demo-shopify") && sources.contains("demo-meta"));
    for source in &overview.sources {
        assert!(
            source.kind.is_some(),
            "{} has raw events but no sources row",
            source.source_id
        );
        assert!(source.raw_event_count > 0, "{}", source.source_id);
        assert!(cfg.end_at_ms - source.last_success_at_ms.unwrap() < 3_600_000);
    }
}

#[test]
fn a_workspace_with_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.lookback");
    let mut store = Store::create(&path).unwrap();
    let cfg = DemoConfig {
        orders: 50,
        ..DemoConfig::default()
    };
    generate(&mut store, &cfg).unwrap();
    assert!(matches!(
        generate(&mut store, &cfg),
        Err(DemoError::WorkspaceNotEmpty { orders: 50, .. })
    ));
    assert!(matches!(
        DemoConfig::ending_on(2025, 2, 30),
        Err(DemoError::InvalidConfig { .. })
    ));
    assert_eq!(
        DemoConfig::ending_on(2025, 6, 1).unwrap(),
        DemoConfig::default()
    );
}

/// Orders per calendar month of the default demo (which ends on 2025-06-01).
fn orders_by_month(conn: &Connection) -> BTreeMap<String, i64> {
    let mut stmt = conn
        .prepare(
            "SELECT strftime('%Y-%m', occurred_at_ms / 1000, 'unixepoch'), COUNT(*) FROM orders GROUP BY 1",
        )
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_demo_spans_thirteen_months_with_a_fourth_quarter_peak_and_bot_traffic_on_email_and_social() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.lookback");
    let cfg = DemoConfig::default();
    let mut store = Store::create(&path).unwrap();
    generate(&mut store, &cfg).unwrap();
    let conn = Connection::open(&path).unwrap();
    let int = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };

    // Thirteen months of orders, so cohorts of the first seven have closed 180-day horizons;
    // November and December are the busiest, February the quietest.
    let months = orders_by_month(&conn);
    assert_eq!(months.len(), 13, "{months:?}");
    assert_eq!(months.keys().next().unwrap(), "2024-05");
    assert!(months["2024-11"] > months["2025-02"] * 3 / 2, "{months:?}");
    assert!(months["2024-12"] > months["2025-04"] * 5 / 4, "{months:?}");

    // Share of each channel's touches that the classifier did not take for a person.
    let share = |channel: &str| -> f64 {
        let total = int(&format!(
            "SELECT COUNT(*) FROM touches WHERE channel = '{channel}'"
        ));
        let automated = int(&format!(
            "SELECT COUNT(*) FROM touches WHERE channel = '{channel}' AND traffic_class <> 0"
        ));
        automated as f64 / total as f64
    };
    let email = share("email");
    assert!((0.20..=0.35).contains(&email), "email {email}");
    let links = share("creator_link");
    assert!((0.05..=0.12).contains(&links), "creator links {links}");
    let paid_social = share("paid_social");
    assert!(
        (0.02..=0.08).contains(&paid_social),
        "paid social {paid_social}"
    );
    assert_eq!(share("direct"), 0.0);

    // Each kind of automated traffic is there, decided by its rule.
    let by_rule = |rule: &str| -> i64 {
        int(&format!(
            "SELECT COUNT(*) FROM touch_traffic WHERE rule = '{rule}'"
        ))
    };
    for rule in [
        "email-security-scanner",
        "click-burst",
        "click-seconds-after-send",
        "slack-preview",
        "facebook-preview",
        "x-preview",
        "linkedin-preview",
        "chat-preview",
        "search-crawler",
        "seo-crawler",
        "platform-bot-flag",
        "platform-fraud-flag",
    ] {
        assert!(by_rule(rule) > 0, "no touch decided by {rule}");
    }
    // Scanner clicks arrive seconds after the newsletter is sent, and the scans of one message
    // come from the recipient's address, not a browser's cookie.
    assert_eq!(
        int(
            "SELECT COUNT(*) FROM touches t JOIN touch_traffic f USING (touch_id)
             WHERE f.rule IN ('email-security-scanner', 'click-burst', 'click-seconds-after-send')
               AND (t.email_sha256 IS NULL OR t.channel <> 'email')"
        ),
        0
    );
    // Scanner clicks sit on buyers' journeys: before orders of the same address within the
    // 30-day window, where first-touch models would credit e-mail for them.
    let scanned_orders = int(
        "SELECT COUNT(DISTINCT o.order_id) FROM orders o JOIN touches t
           ON t.email_sha256 = o.email_sha256 AND t.channel = 'email' AND t.traffic_class = 2
          AND t.occurred_at_ms < o.occurred_at_ms
          AND t.occurred_at_ms >= o.occurred_at_ms - 30 * 86400000",
    );
    assert!(
        (100..=600).contains(&scanned_orders),
        "orders behind a scanned mailbox {scanned_orders}"
    );

    // Re-classifying every touch under the same rules changes nothing that ingest decided.
    let (_, rules) = store.traffic_rules().unwrap();
    let moved = store
        .adopt_traffic_rules(&rules, "test", "same rules", cfg.end_at_ms, &mut |_, _| {})
        .unwrap();
    assert!(
        moved.moved.keys().all(|(before, after)| before == after),
        "{:?}",
        moved.moved
    );
    assert!(moved.moved.values().sum::<u64>() > 40_000);
}
