//! End-to-end test of the touch filter in the window (issue 15): the switch beside Cash/Accrual
//! shows, on the ROAS screen, the figures of `lookback export roas --touches …` for the same
//! selection under each of no bots (the default), all touches and human touches only; the
//! provenance says which touches were read, the table's Export CSV writes the CLI's file for the
//! same filter, and the choice is remembered across screens. The native save dialog is answered
//! through the debug-build seam `LOOKBACK_TEST_SAVE_DIR`.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use std::collections::BTreeMap;
use std::path::Path;

use lookback_tests::traffic_workspace::traffic_workspace;
use lookback_tests::webdriver::{Display, Session, TauriDriver, roas_revenue_by_key};
use lookback_tests::{TestHome, export_roas, lookback_bin};

/// Waits until the ROAS table shows a run that read `touches`.
fn wait_for_touches(session: &Session, touches: &str) {
    session.wait_until(
        &format!("the ROAS table of {touches}"),
        &format!(
            "const p = document.querySelector('[data-testid=provenance-touches]'); const s = document.querySelector('[data-testid=touches]'); \
             return !!p && p.dataset.touches === '{touches}' && !!s && s.dataset.touches === '{touches}' \
             && !!document.querySelector('[data-testid=roas-table] tbody tr[data-key]')"
        ),
    );
}

fn provenance_words(session: &Session) -> String {
    session
        .eval("return document.querySelector('[data-testid=provenance-touches]').textContent")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn map(items: &[(&str, i64)]) -> BTreeMap<String, i64> {
    items.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

#[test]
fn the_touch_switch_shows_the_clis_figures_for_each_filter_and_is_remembered() {
    let home = TestHome::new();
    let db = std::path::PathBuf::from(traffic_workspace(&home));
    let db_arg = db.to_str().unwrap();

    let chosen = home.path("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.click(&session.wait_for("[data-testid=nav-roas]"));
    session.click(&session.wait_for("[data-testid=by-channel]"));
    session.wait_until(
        "the ROAS table by channel",
        "return !!document.querySelector('[data-testid=roas-table] tbody tr[data-key^=email]')",
    );

    // The default leaves the bots out: o1 and o3, whose only touches are previews, are
    // unattributed.
    wait_for_touches(&session, "no-bots");
    assert_eq!(provenance_words(&session), " · bot touches excluded");
    let default = export_roas(&home, &db, "channel", &[]).0;
    assert_eq!(default, map(&[("email", 3_000)]));
    assert_eq!(roas_revenue_by_key(&session), default);

    session.click(&session.wait_for("[data-testid=touches-all]"));
    wait_for_touches(&session, "all");
    assert_eq!(provenance_words(&session), " · all touches");
    let all = export_roas(&home, &db, "channel", &["--touches", "all"]).0;
    assert_eq!(all, map(&[("email", 8_000), ("social", 3_550)]));
    assert_eq!(roas_revenue_by_key(&session), all);

    session.click(&session.wait_for("[data-testid=touches-human]"));
    wait_for_touches(&session, "human");
    assert_eq!(provenance_words(&session), " · only human touches");
    let human = export_roas(&home, &db, "channel", &["--touches", "human"]).0;
    assert_eq!(human, map(&[("email", 2_000)]));
    assert_eq!(roas_revenue_by_key(&session), human);

    // Export CSV writes what `lookback export roas --touches human` writes, sidecar included
    // (but for the moment it was generated).
    session.click(&session.wait_for("[data-testid=roas-table-export]"));
    session.wait_until(
        "roas.csv to be written",
        "const s = document.querySelector('[data-testid=export-done]'); return !!s && s.textContent.includes('roas.csv')",
    );
    let cli_dir = home.path("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let cli_csv = cli_dir.join("roas.csv");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "export",
        "roas",
        "--by",
        "channel",
        "--touches",
        "human",
        "--out",
        cli_csv.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(chosen.join("roas.csv")).unwrap(),
        std::fs::read_to_string(&cli_csv).unwrap()
    );
    let sidecar = |path: &Path| {
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        value.as_object_mut().unwrap().remove("generated_at");
        value
    };
    let window_sidecar = sidecar(&chosen.join("roas.csv.json"));
    assert_eq!(window_sidecar, sidecar(&cli_dir.join("roas.csv.json")));
    assert_eq!(window_sidecar["touches"], "only human touches");

    // Remembered like the other view settings: CAC, Compare and Cohorts read human touches
    // too, and back on ROAS the table is still the human one.
    session.click(&session.wait_for("[data-testid=nav-cac]"));
    session.wait_until(
        "the CAC screen on human touches",
        "const s = document.querySelector('[data-testid=touches]'); const p = document.querySelector('[data-testid=provenance-touches]'); \
         return !!s && s.dataset.touches === 'human' && !!p && p.dataset.touches === 'human'",
    );
    session.click(&session.wait_for("[data-testid=nav-compare]"));
    session.wait_until(
        "the compared runs on human touches",
        "const c = document.querySelector('[data-testid=compare-touches]'); \
         return !!c && c.dataset.touches === 'human' && c.textContent.endsWith('only human touches')",
    );
    session.click(&session.wait_for("[data-testid=nav-cohorts]"));
    session.wait_until(
        "the Cohorts screen on human touches",
        "const p = document.querySelector('[data-testid=provenance-touches]'); return !!p && p.dataset.touches === 'human'",
    );
    session.click(&session.wait_for("[data-testid=nav-roas]"));
    wait_for_touches(&session, "human");
    assert_eq!(roas_revenue_by_key(&session), human);

    // Back to the workspace's own filter.
    session.click(&session.wait_for("[data-testid=touches-no-bots]"));
    wait_for_touches(&session, "no-bots");
    assert_eq!(roas_revenue_by_key(&session), default);
}
