//! End-to-end test of the trust checks the window gained from the CLI (issue #13): on the
//! Reconciliation screen, the Runs section lists the complete runs; "Check conservation" of a
//! run says ok exactly when `lookback conservation --run N` does; "What moved" between two runs
//! shows the rows `lookback what-moved --before A --after B` prints, line for line; and the
//! duplicates per source equal `lookback duplicates`. On Real time, the alert notification
//! history equals the notifications `lookback alert list` prints.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

/// The cells' `data-*` attribute `attr` (or text when `attr` is empty) of each body row of the
/// table `testid`, row by row.
fn table_cells(session: &Session, testid: &str, attr: &str) -> Vec<Vec<String>> {
    let value = session.eval(&format!(
        "return [...document.querySelectorAll('[data-testid={testid}] tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => '{attr}' ? (td.getAttribute('{attr}') ?? td.textContent) : td.textContent))"
    ));
    serde_json::from_value(value).expect("rows of cells")
}

#[test]
fn runs_conservation_what_moved_and_duplicates_in_the_window_equal_the_cli() {
    let home = TestHome::new();
    let db = home.path("trust.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&[
        "--db",
        db_arg,
        "demo",
        "--seed",
        "7",
        "--orders",
        "400",
        "--end",
        "2026-10-31",
    ]);
    // The traffic table on Reconciliation splits the workspace model's run over all touches by
    // class, computing it when there is none: made first here, so it is reused, not the newest.
    home.lookback_ok(&["--db", db_arg, "traffic", "summary"]);
    // Two different complete runs: linear, then first-touch.
    home.lookback_ok(&["--db", db_arg, "report", "credits", "--model", "linear"]);
    home.lookback_ok(&[
        "--db",
        db_arg,
        "report",
        "credits",
        "--model",
        "first-touch",
    ]);
    // Some alert history: every demo source is stale long after its last sync.
    home.lookback_ok(&[
        "--db",
        db_arg,
        "alert",
        "add",
        "source-health",
        "--threshold",
        "1",
    ]);
    home.lookback_ok(&["--db", db_arg, "alert", "check"]);

    let display = Display::start();
    let _driver = TauriDriver::start_with_env(&display, &home, &[]);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.wait_for("[data-testid=nav-overview]");
    let nav = session.wait_for("[data-testid=nav-reconcile]");
    session.click(&nav);
    session.wait_for("[data-testid=runs-section]");

    // The two selects default to the newest run (after) and the one before it.
    let selected = |testid: &str| -> i64 {
        session
            .eval(&format!(
                "return document.querySelector('[data-testid={testid}]').value"
            ))
            .as_str()
            .expect("a selected run")
            .parse()
            .unwrap()
    };
    let (before, after) = (selected("moved-before"), selected("moved-after"));
    assert_ne!(before, after, "two different runs are offered");
    // Each run is named by its model and parameters in words.
    let chosen_label = |testid: &str| -> String {
        session
            .eval(&format!(
                "const s = document.querySelector('[data-testid={testid}]'); return s.options[s.selectedIndex].textContent"
            ))
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        chosen_label("moved-after").starts_with(&format!("#{after} · First touch · 30-day window")),
        "{}",
        chosen_label("moved-after")
    );
    assert!(
        chosen_label("moved-before").starts_with(&format!("#{before} · Linear · 30-day window")),
        "{}",
        chosen_label("moved-before")
    );

    // What moved: the window's rows are the CLI's lines.
    let button = session.wait_for("[data-testid=what-moved]");
    session.click(&button);
    session.wait_for("[data-testid=moved-table]");
    let window_lines: Vec<String> = table_cells(&session, "moved-table", "data-minor")
        .into_iter()
        .filter(|cells| cells.len() == 4)
        .map(|cells| {
            let minor = |i: usize| cells[i].parse::<i64>().unwrap();
            format!(
                "{:<24} {:>12} → {:>12}  ({:+})",
                cells[0],
                minor(1),
                minor(2),
                minor(3)
            )
        })
        .collect();
    let cli = home.lookback_ok(&[
        "--db",
        db_arg,
        "what-moved",
        "--before",
        &before.to_string(),
        "--after",
        &after.to_string(),
    ]);
    let cli_lines: Vec<String> = cli.lines().map(str::to_owned).collect();
    assert!(
        !window_lines.is_empty(),
        "linear and first-touch credit creators differently: {cli}"
    );
    assert_eq!(window_lines, cli_lines);

    // Conservation of the newest run: ok in the window as in the CLI.
    let check = session.wait_for("[data-testid=check-conservation]");
    session.click(&check);
    let verdict = session.text(&session.wait_for("[data-testid=run-conserves]"));
    assert!(
        verdict.starts_with(&format!("ok: run #{after} conserves credit")),
        "{verdict}"
    );
    let cli = home.lookback_ok(&["--db", db_arg, "conservation", "--run", &after.to_string()]);
    assert!(
        cli.starts_with(&format!("ok: run {after} conserves credit")),
        "{cli}"
    );

    // Duplicates per source: the CLI's counts, source by source.
    let window_duplicates: Vec<String> = table_cells(&session, "duplicates-table", "data-count")
        .into_iter()
        .map(|c| {
            format!(
                "{:<20} {} raw events · {} records · {} restated versions",
                c[0], c[1], c[2], c[3]
            )
        })
        .collect();
    let cli = home.lookback_ok(&["--db", db_arg, "duplicates"]);
    let mut cli_duplicates: Vec<String> = cli.lines().map(str::to_owned).collect();
    let mut window_sorted = window_duplicates.clone();
    cli_duplicates.sort();
    window_sorted.sort();
    assert!(!window_sorted.is_empty(), "the demo has sources");
    assert_eq!(window_sorted, cli_duplicates);

    // Real time → Alerts lists the notification history as `alert list` prints it.
    let nav = session.wait_for("[data-testid=nav-realtime]");
    session.click(&nav);
    session.wait_for("[data-testid=alert-notifications-table]");
    let window_notifications: Vec<String> = table_cells(&session, "alert-notifications-table", "")
        .into_iter()
        .filter(|c| c.len() == 7)
        .map(|c| {
            format!(
                "notification {}\trule {}\t{}\t{}\t{} attempt(s)\t{}",
                c[0], c[1], c[2], c[3], c[4], c[5]
            )
        })
        .collect();
    let cli = home.lookback_ok(&["--db", db_arg, "alert", "list"]);
    let cli_notifications: Vec<String> = cli
        .lines()
        .filter(|l| l.starts_with("notification "))
        .map(str::to_owned)
        .collect();
    assert!(
        !cli_notifications.is_empty(),
        "the stale sources fired: {cli}"
    );
    assert_eq!(window_notifications, cli_notifications);
}
