//! End-to-end test of the event-level exports in the real window: on the Workspace screen,
//! "Export event-level data" writes touches and credits for a date range (credits under a
//! previewed model), and each CSV equals byte for byte what `lookback export touches / credits`
//! writes for the same workspace and options; each `.json` sidecar equals the CLI's but for the
//! moment it was generated. On the Compare models screen, the channel weights Markov learned
//! equal `lookback report weights --model markov --format csv`, and their Export CSV writes
//! that same text. On the ROAS screen, "Orders credited" equals `lookback report credits --by
//! order --format csv` for the same selection, and so does its Export CSV. The native save dialog is answered through the debug-build seam
//! `LOOKBACK_TEST_SAVE_DIR`.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use std::path::{Path, PathBuf};

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const FROM: &str = "2026-06-01";
const TO: &str = "2026-06-30";

/// The window on a 200-order demo workspace ending on [`TO`], whose save dialogs answer with
/// files in `chosen`. Fields drop in order: the window, then the driver, the display, the home.
struct DemoWindow {
    session: Session,
    _driver: TauriDriver,
    _display: Display,
    db: PathBuf,
    chosen: PathBuf,
    home: TestHome,
}

impl DemoWindow {
    fn open() -> DemoWindow {
        let home = TestHome::new();
        let db = home.path("shop.lookback");
        home.lookback_ok(&[
            "--db",
            db.to_str().unwrap(),
            "demo",
            "--orders",
            "200",
            "--end",
            TO,
        ]);
        let chosen = home.path("chosen");
        std::fs::create_dir_all(&chosen).unwrap();
        let display = Display::start();
        let driver = TauriDriver::start_with_env(
            &display,
            &home,
            &[("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap())],
        );
        let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);
        session.wait_for("[data-testid=nav-overview]");
        DemoWindow {
            session,
            _driver: driver,
            _display: display,
            db,
            chosen,
            home,
        }
    }
}

/// Clicks a table's Export CSV (`button`), waits until the panel `panel` says the file `file`
/// was written into `chosen` (the save seam's directory), and returns the file's text.
fn export_table_csv(
    session: &Session,
    chosen: &Path,
    button: &str,
    panel: &str,
    file: &str,
) -> String {
    let export = session.wait_for(&format!("[data-testid={button}]"));
    session.click(&export);
    session.wait_until(
        &format!("{file} to be written"),
        &format!(
            "const s = document.querySelector('[data-testid={panel}] [data-testid=export-done]'); return !!s && s.textContent.includes('{file}')"
        ),
    );
    std::fs::read_to_string(chosen.join(file)).unwrap()
}

/// A sidecar without its `generated_at`, the one field that says when rather than what.
fn sidecar_without_time(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let removed = value
        .as_object_mut()
        .expect("a sidecar is a JSON object")
        .remove("generated_at");
    assert!(
        removed.is_some(),
        "{} names its generation time",
        path.display()
    );
    value
}

/// The window's file and the CLI's, CSV and sidecar, are the same.
fn assert_same_export(window: &Path, cli: &Path) {
    let window_csv = std::fs::read(window).unwrap();
    let cli_csv = std::fs::read(cli).unwrap();
    assert!(
        window_csv == cli_csv,
        "{} differs from the CLI's {}",
        window.display(),
        cli.display()
    );
    let json = |p: &Path| p.with_extension("csv.json");
    assert_eq!(
        sidecar_without_time(&json(window)),
        sidecar_without_time(&json(cli))
    );
}

/// Chooses what to export and the days, clicks Save… and waits for the summary naming `file`.
fn export_from_window(session: &Session, table: &str, model: &str, file: &str) -> String {
    session.eval(&format!(
        "const set = (id, v) => {{ const e = document.querySelector(`[data-testid=${{id}}]`); e.value = v; e.dispatchEvent(new Event('change')); }};
         set('event-export-kind', '{table}'); set('event-export-from', '{FROM}'); set('event-export-to', '{TO}'); set('event-export-model', '{model}');
         return true"
    ));
    let save = session.wait_for("[data-testid=event-export-save]");
    session.click(&save);
    session.wait_until(
        &format!("the {table} export to be written"),
        &format!(
            "const s = document.querySelector('[data-testid=event-export-status] [data-testid=export-done]'); return !!s && s.textContent.includes('{file}')"
        ),
    );
    session.text(&session.wait_for("[data-testid=event-export-status]"))
}

#[test]
fn event_level_exports_from_the_window_equal_the_cli_exports() {
    let window = DemoWindow::open();
    let (home, db_arg, chosen, session) = (
        &window.home,
        window.db.to_str().unwrap(),
        &window.chosen,
        &window.session,
    );
    let cli = home.path("cli");
    std::fs::create_dir_all(&cli).unwrap();
    let nav = session.wait_for("[data-testid=nav-workspace]");
    session.click(&nav);
    session.wait_for("[data-testid=event-export]");

    let touches_summary = export_from_window(session, "touches", "", "touches.csv");
    let credits_summary = export_from_window(session, "credits", "linear", "credits.csv");

    let (from, to) = (format!("--from={FROM}"), format!("--to={TO}"));
    let cli_touches = cli.join("touches.csv");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "export",
        "touches",
        &from,
        &to,
        "--out",
        cli_touches.to_str().unwrap(),
    ]);
    let cli_credits = cli.join("credits.csv");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "export",
        "credits",
        "--model",
        "linear",
        &from,
        &to,
        "--out",
        cli_credits.to_str().unwrap(),
    ]);

    assert_same_export(&chosen.join("touches.csv"), &cli_touches);
    assert_same_export(&chosen.join("credits.csv"), &cli_credits);

    // The summary counts the rows written (the header aside), and the export is not empty.
    for (summary, file) in [
        (touches_summary, chosen.join("touches.csv")),
        (credits_summary, chosen.join("credits.csv")),
    ] {
        let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
        assert!(rows > 0, "{} has no rows", file.display());
        let digits: String = summary
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert_eq!(digits, rows.to_string(), "summary: {summary}");
    }
    // The credits are the previewed model's, not the workspace's last-touch.
    let sidecar = sidecar_without_time(&chosen.join("credits.csv.json"));
    assert_eq!(sidecar["model"], "linear", "{sidecar}");
}

/// The CLI's `report weights --model markov --format csv`, as rows of text.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn learned_weights_on_the_compare_screen_equal_the_cli_report() {
    let window = DemoWindow::open();
    let (home, db_arg, chosen, session) = (
        &window.home,
        window.db.to_str().unwrap(),
        &window.chosen,
        &window.session,
    );
    let nav = session.wait_for("[data-testid=nav-compare]");
    session.click(&nav);
    // Markov is among the models compared by default; its panel shows what it learned.
    session.wait_for("[data-testid=weights-panel-markov]");
    let shown = session.eval(
        "return [...document.querySelectorAll('[data-testid=weights-markov] tbody tr')].map((tr) => \
           [...tr.querySelectorAll('td')].map((td) => td.dataset.value ?? td.textContent))",
    );
    let shown: Vec<Vec<String>> = shown
        .as_array()
        .expect("weight rows")
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        })
        .collect();

    let out = home.lookback_ok(&[
        "--db", db_arg, "report", "weights", "--model", "markov", "--format", "csv",
    ]);
    let cli = csv_rows(&out);
    assert!(
        cli.len() > 1,
        "the demo's journeys teach several channels: {out}"
    );
    assert_eq!(shown.len(), cli.len(), "window {shown:?}\ncli {cli:?}");
    for (window_row, cli_row) in shown.iter().zip(&cli) {
        assert_eq!(window_row[0], cli_row[0], "channel");
        for col in 1..5 {
            let (w, c): (f64, f64) = (
                window_row[col].parse().unwrap(),
                cli_row[col].parse().unwrap(),
            );
            assert_eq!(
                w, c,
                "column {col} of {}: window {window_row:?} cli {cli_row:?}",
                cli_row[0]
            );
        }
    }

    // Its Export CSV writes exactly what the CLI prints.
    let written = export_table_csv(
        session,
        chosen,
        "weights-markov-export",
        "weights-panel-markov",
        "markov-weights.csv",
    );
    assert_eq!(written, out);
}

#[test]
fn orders_credited_on_the_roas_screen_equal_the_cli_report() {
    let window = DemoWindow::open();
    let (home, db_arg, chosen, session) = (
        &window.home,
        window.db.to_str().unwrap(),
        &window.chosen,
        &window.session,
    );
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    // Clicked at once, while the charts may still be drawing: the button sits above them, so
    // their appearing does not move it (a WebDriver click is a pointer event at the element's
    // centre, as a user's is).
    let open = session.wait_for("[data-testid=order-credits-open]");
    session.click(&open);
    session.wait_for("[data-testid=order-credits-table] tbody tr");
    let selection = session.eval(
        "const p = document.querySelector('[data-testid=order-credits]'); return [p.dataset.from, p.dataset.to, p.dataset.settledOnly]",
    );
    let shown = session.eval(
        "return [...document.querySelectorAll('[data-testid=order-credits-table] tbody tr')].map((tr) => \
           [...tr.querySelectorAll('td')].map((td) => td.dataset.value ?? td.textContent))",
    );
    let shown: Vec<Vec<String>> = shown
        .as_array()
        .expect("order rows")
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        })
        .collect();

    // The CLI, for the days (and settled-only) the screen's selection covers.
    let mut args: Vec<String> = [
        "--db", db_arg, "report", "credits", "--by", "order", "--format", "csv",
    ]
    .map(str::to_owned)
    .to_vec();
    for (i, flag) in ["--from", "--to"].into_iter().enumerate() {
        let day = selection[i].as_str().unwrap_or_default();
        if !day.is_empty() {
            args.push(format!("{flag}={day}"));
        }
    }
    if selection[2] == "true" {
        args.push("--settled-only".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = home.lookback_ok(&args);
    let cli = csv_rows(&out);
    assert!(cli.len() > 10, "the demo credits many orders: {out}");
    assert_eq!(shown.len(), cli.len());
    for (window_row, cli_row) in shown.iter().zip(&cli) {
        assert_eq!(
            window_row[..],
            cli_row[..3],
            "window {window_row:?} cli {cli_row:?}"
        );
    }

    // Its Export CSV writes exactly what the CLI prints.
    let written = export_table_csv(
        session,
        chosen,
        "order-credits-table-export",
        "order-credits",
        "orders-credited.csv",
    );
    assert_eq!(written, out);

    // Once asked for, the table stays through a render of the screen (here a change of the
    // selection; a live update renders the same way): no second click, and it shows the new
    // selection.
    let settled = session.wait_for("[data-testid=settled-only]");
    session.click(&settled);
    session.wait_until(
        "the orders credited of the settled-only selection",
        "const p = document.querySelector('[data-testid=order-credits]'); \
         return !!p && p.dataset.settledOnly === 'true' \
         && !!p.querySelector('[data-testid=order-credits-table] tbody tr') \
         && !p.querySelector('[data-testid=order-credits-open]');",
    );
}

#[test]
fn a_chart_saved_as_svg_from_the_window_is_the_chart_the_cli_draws() {
    let window = DemoWindow::open();
    let (home, db_arg, chosen, session) = (
        &window.home,
        window.db.to_str().unwrap(),
        &window.chosen,
        &window.session,
    );
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=chart] svg");
    // The ROAS screen draws its six largest keys' lines, by creator and week: `--top 6`.
    let cli_svg = home.path("cli-roas.svg");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "chart",
        "roas",
        "--top",
        "6",
        "--out",
        cli_svg.to_str().unwrap(),
    ]);
    let save = session.wait_for("[data-testid=chart] [data-testid=chart-save-svg]");
    session.click(&save);
    session.wait_until(
        "the chart to be saved",
        "const s = document.querySelector('[data-testid=chart] [data-testid=chart-saved]'); return !!s && s.textContent.includes('roas-over-time.svg')",
    );
    let window_svg = std::fs::read_to_string(chosen.join("roas-over-time.svg")).unwrap();
    assert!(
        window_svg.starts_with("<svg"),
        "{}",
        &window_svg[..80.min(window_svg.len())]
    );
    assert_eq!(window_svg, std::fs::read_to_string(&cli_svg).unwrap());

    // The second panel, cost against revenue, is `lookback chart cost-revenue`.
    let cli_svg = home.path("cli-cost-revenue.svg");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "chart",
        "cost-revenue",
        "--out",
        cli_svg.to_str().unwrap(),
    ]);
    session
        .eval("document.querySelectorAll('[data-testid=chart-save-svg]')[1].click(); return true");
    session.wait_until(
        "the second chart to be saved",
        "const s = document.querySelectorAll('[data-testid=chart]')[1].querySelector('[data-testid=chart-saved]'); return !!s && s.textContent.includes('cost-vs-attributed-revenue.svg')",
    );
    let window_svg =
        std::fs::read_to_string(chosen.join("cost-vs-attributed-revenue.svg")).unwrap();
    assert_eq!(window_svg, std::fs::read_to_string(&cli_svg).unwrap());
}
