//! A new attribution run in the real window (tauri-driver under Xvfb): while it computes, the
//! view shows its model and phase with a Cancel button and the other screens keep answering
//! (the run has a connection of its own); Cancel stops it with nothing written; asking again
//! completes it and shows the numbers. Each phase is held back by the
//! `LOOKBACK_TEST_RUN_PHASE_DELAY_MS` seam, since runs on the demo take milliseconds.

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

fn complete_runs(db: &std::path::Path, model: &str) -> i64 {
    query_i64(
        &open_sqlite(db),
        &format!(
            "SELECT COUNT(*) FROM attribution_runs WHERE model = '{model}' AND status = 'complete'"
        ),
    )
}

#[test]
fn a_new_run_shows_its_phase_can_be_cancelled_and_does_not_block_other_screens() {
    let home = TestHome::new();
    let db = home.path("runs.lookback");
    home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "demo",
        "--orders",
        "600",
        "--end",
        "2026-10-31",
    ]);

    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_RUN_PHASE_DELAY_MS", "2500")],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);

    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=model-select]");
    assert_eq!(complete_runs(&db, "time-decay"), 0);
    session.eval(
        "const s = document.querySelector('[data-testid=model-select]'); s.value = 'time-decay'; s.dispatchEvent(new Event('change')); return true",
    );
    session.wait_until(
        "the run's phase",
        "const p = document.querySelector('[data-testid=run-progress]'); return !!p && p.textContent.includes('New time-decay run')",
    );
    // The Cancel button shows while the new run computes.
    session.wait_for("[data-testid=cancel-run]:not([hidden])");

    // Meanwhile another screen answers: the run does not hold the workspace connection.
    let log = session.wait_for("[data-testid=nav-model-log]");
    session.click(&log);
    session.wait_for("[data-testid=model-log-table]");
    let roas = session.wait_for("[data-testid=nav-roas]");
    session.click(&roas);
    // Going back asks for the same run: it waits on the one in progress, which can be cancelled.
    session.wait_until(
        "the run's phase again",
        "const p = document.querySelector('[data-testid=run-progress]'); return !!p && p.textContent.includes('New time-decay run')",
    );
    let cancel = session.wait_for("[data-testid=cancel-run]:not([hidden])");
    session.click(&cancel);
    session.wait_until(
        "the cancelled banner",
        "const e = document.querySelector('[data-testid=error]'); return !!e && e.dataset.kind === 'cancelled'",
    );
    assert_eq!(
        complete_runs(&db, "time-decay"),
        0,
        "a cancelled run writes nothing"
    );

    // Asking again (a settings change re-renders) completes the run and shows its table.
    session.eval(
        "const s = document.querySelector('[data-testid=model-select]'); s.value = 'linear'; s.dispatchEvent(new Event('change')); return true",
    );
    session.wait_until(
        "the ROAS table under linear",
        "const p = document.querySelector('[data-testid=provenance]'); return !!p && p.dataset.model === 'linear' && !!document.querySelector('[data-testid=roas-table]')",
    );
    assert_eq!(
        complete_runs(&db, "linear"),
        1,
        "the completed run is stored once"
    );
}
