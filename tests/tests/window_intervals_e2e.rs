//! End to end in the real window (tauri-driver under Xvfb): "Show intervals" on Compare models
//! shows each learned weight's interval, and on the ROAS screen under Markov each creator's
//! revenue interval (or the words when too few orders stand behind it) — exactly what
//! `lookback report weights --intervals` and `lookback view roas --intervals` print.

use std::collections::BTreeMap;
use std::path::Path;

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

/// Ticks the checkbox `testid` unless it is ticked already (the choice is remembered).
fn ensure_checked(session: &Session, testid: &str) {
    let css = format!("[data-testid={testid}]");
    let element = session.wait_for(&css);
    let checked = session.eval(&format!("return document.querySelector('{css}').checked"));
    if checked.as_bool() != Some(true) {
        session.click(&element);
    }
}

/// Channel → (low, high, too few) from `report weights --intervals --format csv`. The numbers
/// stay text: Rust and JavaScript both write a double as its shortest round-trip decimal, so
/// equal text is the equal number (parsing could be a last digit off).
fn weight_intervals_from_cli(
    home: &TestHome,
    db: &Path,
) -> BTreeMap<String, (String, String, bool)> {
    let csv = home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "report",
        "weights",
        "--model",
        "markov",
        "--intervals",
        "--format",
        "csv",
    ]);
    csv.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[0].to_owned(),
                (
                    cells[5].to_owned(),
                    cells[6].to_owned(),
                    cells[7] == "too few conversions to say",
                ),
            )
        })
        .collect()
}

/// Minor units of USD as the CLI prints them (`1234.50`).
fn usd(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[test]
fn show_intervals_on_compare_and_roas_matches_the_cli() {
    let home = TestHome::new();
    let db = home.path("intervals.lookback");
    home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "demo",
        "--orders",
        "1500",
        "--end",
        "2026-10-31",
    ]);

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);

    // Compare models (Markov is among the default comparison): the learned weights' intervals.
    let nav = session.wait_for("[data-testid=nav-compare]");
    session.click(&nav);
    session.wait_for("[data-testid=weights-panel-markov]");
    ensure_checked(&session, "intervals-toggle-markov");
    session.wait_for("[data-testid=weight-intervals-markov] tbody tr[data-key]");
    let shown = session.eval(
        "return [...document.querySelectorAll('[data-testid=weight-intervals-markov] tbody tr[data-key]')]\
           .map(tr => { const c = tr.querySelector('[data-col=interval]'); \
             return [tr.dataset.key, c.dataset.low, c.dataset.high, c.dataset.tooFew === 'true', c.textContent]; })",
    );
    let shown: BTreeMap<String, (String, String, bool)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = r[4].as_str().unwrap();
            let too_few = r[3].as_bool().unwrap();
            // Beside the weight: "18.3% – 18.8%", or a dash when the weight is said in words.
            assert_eq!(text.contains('–'), !too_few, "{text}");
            (
                r[0].as_str().unwrap().to_owned(),
                (
                    r[1].as_str().unwrap().to_owned(),
                    r[2].as_str().unwrap().to_owned(),
                    too_few,
                ),
            )
        })
        .collect();
    assert_eq!(shown, weight_intervals_from_cli(&home, &db));
    let caption = session.wait_for("[data-testid=intervals-caption]");
    assert!(
        session
            .text(&caption)
            .starts_with("90% intervals from 200 bootstrap resamples"),
        "{}",
        session.text(&caption)
    );

    // ROAS by creator under Markov: each row's revenue interval, as `view roas --intervals`.
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");
    session.eval(
        "const s = document.querySelector('[data-testid=model-select]'); s.value = 'markov'; s.dispatchEvent(new Event('change')); return true",
    );
    session.wait_until(
        "the ROAS table under markov",
        "const p = document.querySelector('[data-testid=provenance]'); return !!p && p.dataset.model === 'markov' && !!document.querySelector('[data-testid=roas-table]')",
    );
    ensure_checked(&session, "roas-intervals-toggle");
    session.wait_for("[data-testid=roas-table] tbody [data-col=interval][data-low-minor]");
    let rows = session.eval(
        "return [...document.querySelectorAll('[data-testid=roas-table] tbody tr[data-key]')]\
           .map(tr => { const c = tr.querySelector('[data-col=interval]'); \
             return [tr.querySelector('[data-col=label]').textContent, c.dataset.lowMinor ?? null, c.dataset.highMinor ?? null, c.dataset.tooFew === 'true']; })",
    );
    let cli = home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "view",
        "roas",
        "--model",
        "markov",
        "--by",
        "creator",
        "--intervals",
    ]);
    let mut compared = 0;
    for row in rows.as_array().unwrap() {
        let label = row[0].as_str().unwrap();
        let Some(low) = row[1].as_str() else {
            continue; // a row of costs only (creator fees) has no credited revenue
        };
        let high = row[2].as_str().unwrap();
        let expected = if row[3].as_bool().unwrap() {
            "too few conversions to say".to_owned()
        } else {
            format!(
                "{}–{}",
                usd(low.parse().unwrap()),
                usd(high.parse().unwrap())
            )
        };
        let line = cli
            .lines()
            .find(|l| l.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no row {label:?} in\n{cli}"));
        assert!(
            line.ends_with(&expected),
            "{label}: window {expected}, CLI {line}"
        );
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} rows compared");

    // Creator revenue under Markov: the creator's net credited revenue interval (intervals are
    // still asked for), as `view creator --intervals` prints it.
    let nav = session.wait_for("[data-testid=nav-creator]");
    session.click(&nav);
    session.wait_for("[data-testid=creator-interval] [data-low-minor]");
    let creator =
        session.eval("return document.querySelector('[data-testid=creator-select]').value");
    let creator = creator.as_str().unwrap();
    let shown = session.eval(
        "const p = document.querySelector('[data-testid=creator-interval] [data-low-minor]');          return [p.dataset.lowMinor, p.dataset.highMinor, p.dataset.tooFew === 'true']",
    );
    let expected = if shown[2].as_bool().unwrap() {
        "too few conversions to say".to_owned()
    } else {
        format!(
            "{}–{}",
            usd(shown[0].as_str().unwrap().parse().unwrap()),
            usd(shown[1].as_str().unwrap().parse().unwrap())
        )
    };
    let cli = home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "view",
        "creator",
        "--creator",
        creator,
        "--model",
        "markov",
        "--intervals",
    ]);
    assert!(
        cli.contains(&format!("credited revenue interval {expected}\n")),
        "window {expected}, CLI:\n{cli}"
    );

    // Off again (on the ROAS screen): the column goes.
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=roas-table] tbody [data-col=interval][data-low-minor]");
    let toggle = session.wait_for("[data-testid=roas-intervals-toggle]");
    session.click(&toggle);
    session.wait_until(
        "the ROAS table without intervals",
        "return !!document.querySelector('[data-testid=roas-table] tbody tr[data-key]') && !document.querySelector('[data-testid=roas-table] [data-col=interval]')",
    );
}
