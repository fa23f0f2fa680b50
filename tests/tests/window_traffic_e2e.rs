//! End-to-end test of bot and prefetch traffic in the window (issue 15): on Reconciliation and on
//! Sources, the table of touches per source and channel by class — people, suspicious, bots, the
//! share that is not a person's, the family most of it comes from, and the revenue the latest run
//! credited to each class — equals `lookback traffic summary` row for row.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const TOUCHES: &str = "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent\n\
    e1,2026-05-01T10:00:00Z,email,r1,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)\n\
    e2,2026-05-01T10:00:01Z,email,r2,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)\n\
    e3,2026-05-01T11:30:00Z,email,r3,news-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148\n\
    s1,2026-05-02T09:00:00Z,social,r5,post-1,facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)\n\
    s2,2026-05-02T09:30:00Z,social,r6,post-1,Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36\n";
const ORDERS: &str = "order_id,occurred_at,amount,currency,anonymous_id\n\
    o1,2026-05-01T13:00:00Z,50.00,USD,r1\n\
    o2,2026-05-01T14:00:00Z,20.00,USD,r3\n\
    o3,2026-05-02T10:00:00Z,35.50,USD,r5\n";

/// Each body row of the table `testid`: a cell's `data-count` or `data-amount` when it has one,
/// else its text.
fn rows(session: &Session, testid: &str) -> Vec<Vec<String>> {
    let value = session.eval(&format!(
        "return [...document.querySelectorAll('[data-testid={testid}] tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.getAttribute('data-count') ?? td.getAttribute('data-amount') ?? td.textContent))"
    ));
    serde_json::from_value(value).expect("rows of cells")
}

/// The CLI's CSV rows as the window shows them (the share as a percentage with one decimal).
fn cli_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split(',').collect();
            let share: f64 = c[6].parse().unwrap();
            let mut row: Vec<String> = c[..6].iter().map(|s| (*s).to_owned()).collect();
            row.push(format!("{:.1} %", share * 100.0));
            row.extend(c[7..11].iter().map(|s| (*s).to_owned()));
            row
        })
        .collect()
}

#[test]
fn the_traffic_tables_on_reconciliation_and_sources_equal_the_cli() {
    let home = TestHome::new();
    let db = home.path("traffic.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Traffic"]);
    let touches = home.path("touches.csv");
    std::fs::write(&touches, TOUCHES).unwrap();
    let orders = home.path("orders.csv");
    std::fs::write(&orders, ORDERS).unwrap();
    home.lookback_ok(&[
        "--db",
        db_arg,
        "import",
        "touches",
        touches.to_str().unwrap(),
    ]);
    home.lookback_ok(&["--db", db_arg, "import", "orders", orders.to_str().unwrap()]);
    home.lookback_ok(&["--db", db_arg, "report", "credits"]);
    let expected =
        cli_rows(&home.lookback_ok(&["--db", db_arg, "traffic", "summary", "--format", "csv"]));
    // The bot share is there to be seen; the bots are credited nothing, since views leave bot
    // touches out by default: o1 (whose only touch is a chat preview) and o3 (a Facebook
    // preview) are unattributed.
    assert_eq!(
        expected,
        vec![
            vec![
                "csv",
                "email",
                "3",
                "1",
                "0",
                "2",
                "66.7 %",
                "chat-preview",
                "20.00",
                "0.00",
                "0.00"
            ],
            vec![
                "csv",
                "social",
                "2",
                "1",
                "0",
                "1",
                "50.0 %",
                "facebook-preview",
                "0.00",
                "0.00",
                "0.00"
            ],
        ]
    );

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.wait_for("[data-testid=nav-overview]");

    let nav = session.wait_for("[data-testid=nav-reconcile]");
    session.click(&nav);
    session.wait_for("[data-testid=reconcile-traffic-table] tbody tr");
    assert_eq!(rows(&session, "reconcile-traffic-table"), expected);
    let provenance = session.text(&session.wait_for("[data-testid=reconcile-traffic-provenance]"));
    assert!(provenance.contains("rule set version 1"), "{provenance}");

    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    session.wait_for("[data-testid=sources-traffic-table] tbody tr");
    assert_eq!(rows(&session, "sources-traffic-table"), expected);
}
