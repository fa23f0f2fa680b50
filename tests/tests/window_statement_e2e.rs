//! End-to-end test of the Creator revenue screen's Statement button in the real window: for the
//! chosen creator and the screen's days it writes a PDF (and the CSV beside it) whose text
//! carries the same totals `lookback statement` prints for that creator and period, and whose
//! CSV equals the CLI's byte for byte. The native save dialog is answered through the
//! debug-build seam `LOOKBACK_TEST_SAVE_DIR`.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const FROM: &str = "2026-06-01";
const TO: &str = "2026-06-30";
const CREATOR: &str = "cr_maya_chen";

#[test]
fn the_statement_button_writes_the_pdf_the_cli_writes() {
    let home = TestHome::new();
    let db = home.path("shop.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "demo", "--orders", "600", "--end", TO]);
    let chosen = home.path("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.click(&session.wait_for("[data-testid=nav-creator]"));
    session.wait_for("[data-testid=creator-select]");
    session.eval(&format!(
        "const set = (id, v) => {{ const e = document.querySelector(`[data-testid=${{id}}]`); e.value = v; e.dispatchEvent(new Event('change')); }};
         set('creator-select', '{CREATOR}'); return true"
    ));
    session.wait_until(
        "the creator to be chosen",
        &format!("const s = document.querySelector('[data-testid=creator-select]'); return !!s && s.value === '{CREATOR}'"),
    );
    for (id, day) in [("date-from", FROM), ("date-to", TO)] {
        session.eval(&format!(
            "const e = document.querySelector('[data-testid={id}]'); e.value = '{day}'; e.dispatchEvent(new Event('change')); return true"
        ));
        session.wait_until(
            &format!("{id} to show {day}"),
            &format!("const e = document.querySelector('[data-testid={id}]'); return !!e && e.value === '{day}' && !!document.querySelector('[data-testid=creator-statement]')"),
        );
    }
    session.click(&session.wait_for("[data-testid=creator-statement]"));
    let file = format!("statement-{CREATOR}-{FROM}-{TO}.pdf");
    session.wait_until(
        "the statement to be written",
        &format!(
            "const s = document.querySelector('[data-testid=statement-status] [data-testid=statement-done]'); return !!s && s.textContent.includes('{file}')"
        ),
    );
    let said = session.text(&session.wait_for("[data-testid=statement-done]"));
    let window_pdf = chosen.join(&file);
    let window_csv = window_pdf.with_extension("csv");
    assert!(said.contains(window_csv.to_str().unwrap()), "{said}");

    let cli_pdf = home.path("cli.pdf");
    let stdout = home.lookback_ok(&[
        "--db",
        db_arg,
        "statement",
        "--creator",
        CREATOR,
        "--from",
        FROM,
        "--to",
        TO,
        "--out",
        cli_pdf.to_str().unwrap(),
    ]);
    let text = pdf_extract::extract_text(&window_pdf).unwrap();
    let mut figures = 0;
    for line in stdout
        .lines()
        .filter(|l| !l.starts_with("wrote ") && !l.starts_with("statement of "))
    {
        let (label, figure) = line.split_once(": ").unwrap_or_else(|| panic!("{line}"));
        assert!(
            text.contains(label),
            "{label:?} is not in the window's PDF:\n{text}"
        );
        assert!(
            text.contains(figure),
            "{figure:?} ({label}) is not in the window's PDF:\n{text}"
        );
        figures += 1;
    }
    assert!(figures >= 9, "{stdout}");
    let net = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Net credited revenue: "))
        .unwrap();
    let shown_net = session.eval(
        "return document.querySelector('[data-testid=statement-done]').getAttribute('data-net')",
    );
    assert_eq!(
        shown_net.as_str(),
        Some(net.trim_end_matches(" USD")),
        "the window says {said}, the CLI {net}"
    );
    assert_eq!(
        std::fs::read(&window_csv).unwrap(),
        std::fs::read(cli_pdf.with_extension("csv")).unwrap(),
        "the window's statement CSV differs from the CLI's"
    );
}
