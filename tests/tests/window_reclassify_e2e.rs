//! End-to-end test of re-classifying touches from the window (issue 15). A scanner's sweep — a
//! visitor's only two clicks on one newsletter, two seconds apart, then nothing for a week —
//! cannot be told from a reader when the clicks arrive, so the import keeps both as a person's.
//! On Sources, "Re-classify every touch now" runs the rules in force again, as `lookback traffic
//! reclassify` does: the banner says what moved, the traffic table shows the two clicks as
//! suspicious as the CLI does, and no rule version is added, since no rule changed.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/// The e-mail channel's (people, suspicious) in `lookback traffic summary --format csv`.
fn email_classes(csv: &str) -> (String, String) {
    let line = csv
        .lines()
        .find(|l| l.starts_with("csv,email,"))
        .unwrap_or_else(|| panic!("no e-mail row in {csv}"));
    let cells: Vec<&str> = line.split(',').collect();
    (cells[3].to_owned(), cells[4].to_owned())
}

#[test]
fn re_classifying_from_sources_decides_a_scanner_sweep_the_import_could_not() {
    let home = TestHome::new();
    let db = home.path("sweep.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Sweep"]);
    let touches = home.path("touches.csv");
    std::fs::write(
        &touches,
        format!(
            "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent\n\
             w1,2026-05-01T10:00:00Z,email,scan-1,news-7,\"{BROWSER}\"\n\
             w2,2026-05-01T10:00:02Z,email,scan-1,news-7,\"{BROWSER}\"\n\
             p1,2026-05-01T12:00:00Z,email,reader-1,news-7,\"{BROWSER}\"\n\
             p2,2026-05-20T09:00:00Z,social,reader-2,post-3,\"{BROWSER}\"\n"
        ),
    )
    .unwrap();
    let imported = home.lookback_ok(&[
        "--db",
        db_arg,
        "import",
        "touches",
        touches.to_str().unwrap(),
    ]);
    assert!(imported.contains("4 imported"), "{imported}");
    let summary = ["--db", db_arg, "traffic", "summary", "--format", "csv"];
    assert_eq!(
        email_classes(&home.lookback_ok(&summary)),
        ("3".to_owned(), "0".to_owned()),
        "at ingest the sweep looks like a reader"
    );

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.wait_for("[data-testid=nav-overview]");
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    session.wait_for("[data-testid=sources-traffic-table] tbody tr");

    let rerun = session.wait_for("[data-testid=reclassify-touches]");
    session.click(&rerun);
    let banner = session.text(&session.wait_for("[data-testid=rules-adopted]"));
    assert!(
        banner.contains(
            "Every touch re-classified under the rules in force (version 1); no rule changed."
        ),
        "{banner}"
    );
    assert!(banner.contains("Moved: 2 human → suspicious."), "{banner}");
    let counts = session.text(&session.wait_for("[data-testid=rules-adopted-counts]"));
    assert_eq!(
        counts,
        "4 touches re-classified: People 4 → 2 · Suspicious 0 → 2 · Bots 0 → 0"
    );

    // The table follows, as the CLI reads the same file.
    assert_eq!(
        email_classes(&home.lookback_ok(&summary)),
        ("1".to_owned(), "2".to_owned())
    );
    session.wait_until(
        "the traffic table after re-classifying",
        "const r = [...document.querySelectorAll('[data-testid=sources-traffic-table] tbody tr')].find(tr => tr.querySelector('td:nth-child(2)')?.textContent === 'email');\
         return !!r && r.querySelector('td:nth-child(5)').getAttribute('data-count') === '2'",
    );
    // No rule changed: still version 1, and no new version in the rule history.
    let version = session.text(&session.wait_for("[data-testid=rules-version]"));
    assert!(
        version.starts_with("Version 1, the built-in rules"),
        "{version}"
    );
    let log = home.lookback_ok(&["--db", db_arg, "traffic", "log"]);
    assert_eq!(log.lines().count(), 1, "{log}");
}
