//! End-to-end test of bot and prefetch traffic in the window (issue 15): on Reconciliation and on
//! Sources, the table of touches per source and channel by class — people, suspicious, bots, the
//! share that is not a person's, the family most of it comes from, and the revenue the latest run
//! credited to each class — equals `lookback traffic summary` row for row. Then the rule editor
//! under the Sources table: a rule's class changed, another disabled, a window widened, adopted
//! with a reason; the traffic table and the CLI show the touches moved, and the model log shows
//! the new version in words.
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
    // The bot share is there to be seen, with what the bots take when every touch counts
    // (views leave them out by default): o1's 50.00 (its only touch is a chat preview) and
    // o3's 35.50 (a Facebook preview).
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
                "50.00"
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
                "35.50"
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

    // The rule editor: chat previews become suspicious, Facebook previews are no longer a rule,
    // the after-send window widens; without a reason nothing is adopted.
    let version = session.text(&session.wait_for("[data-testid=rules-version]"));
    assert!(
        version.starts_with("Version 1, the built-in rules"),
        "{version}"
    );
    session.eval(
        "const set = (id, v) => { const e = document.querySelector(`[data-testid=${id}]`); e.value = v; e.dispatchEvent(new Event('change')); };\
         set('rule-class-chat-preview', 'suspicious'); set('rule-window-click-seconds-after-send', '20'); return true",
    );
    let facebook = session.wait_for("[data-testid=rule-enabled-facebook-preview]");
    session.click(&facebook);
    let adopt = session.wait_for("[data-testid=adopt-rules]");
    session.click(&adopt);
    let error = session.wait_for("[data-testid=rules-error]:not([hidden])");
    assert!(session.text(&error).contains("Say why"));
    let reason = session.wait_for("[data-testid=rules-reason]");
    session.type_text(&reason, "Previews come from readers' own apps");
    session.click(&adopt);
    let adopted = session.wait_for("[data-testid=rules-adopted]");
    let said = session.text(&adopted);
    assert!(
        said.contains("Traffic rules v1 → v2: rule facebook-preview disabled; rule chat-preview now suspicious instead of bot; rule click-seconds-after-send after-send window 10 s → 20 s"),
        "{said}"
    );
    let counts = session.text(&session.wait_for("[data-testid=rules-adopted-counts]"));
    assert_eq!(
        counts,
        "5 touches re-classified: People 2 → 3 · Suspicious 0 → 2 · Bots 3 → 0"
    );
    let version = session.text(&session.wait_for("[data-testid=rules-version]"));
    assert!(version.starts_with("Version 2, adopted by "), "{version}");

    // The traffic table follows, and equals the CLI again.
    let after =
        cli_rows(&home.lookback_ok(&["--db", db_arg, "traffic", "summary", "--format", "csv"]));
    assert_eq!(
        after,
        vec![
            vec![
                "csv",
                "email",
                "3",
                "1",
                "2",
                "0",
                "66.7 %",
                "chat-preview",
                "20.00",
                "50.00",
                "0.00"
            ],
            vec![
                "csv", "social", "2", "2", "0", "0", "0.0 %", "", "35.50", "0.00", "0.00"
            ],
        ]
    );
    session.wait_until(
        "the traffic table under the new rules",
        "const c = document.querySelector('[data-testid=sources-traffic-table] tbody tr td:nth-child(5)'); return !!c && c.getAttribute('data-count') === '2'",
    );
    assert_eq!(rows(&session, "sources-traffic-table"), after);

    // The model log shows the new version in words, with its reason.
    let nav = session.wait_for("[data-testid=nav-model-log]");
    session.click(&nav);
    let kind = session.wait_for("[data-testid=model-log-table] tbody tr td[data-col=kind]");
    assert_eq!(session.text(&kind), "Traffic rules");
    let words = session
        .find("[data-testid=model-log-table] tbody tr td[data-col=words]")
        .unwrap();
    assert!(
        session
            .text(&words)
            .starts_with("Traffic rules v1 → v2: rule facebook-preview disabled"),
        "{}",
        session.text(&words)
    );
    let reason = session
        .find("[data-testid=model-log-table] tbody tr td[data-col=reason]")
        .unwrap();
    assert_eq!(
        session.text(&reason),
        "Previews come from readers' own apps"
    );
}
