//! End-to-end tests of the view screens in the real window (tauri-driver under Xvfb): the model
//! switch shows the numbers the CLI reports for that model, making a model the default lands in
//! the model log with its reason, and exported tables (ROAS, reconciliation) equal the CLI's
//! export of them; the date range shows the days a view covers, and a preset's view is the CLI's
//! for its days; the Cash/Accrual switch shows the CLI's numbers on that basis and is remembered.

use std::collections::BTreeMap;
use std::path::Path;

use lookback_tests::webdriver::{Display, Session, TauriDriver, roas_revenue_by_key};
use lookback_tests::{TestHome, csv_rows, export_roas, lookback_bin, open_sqlite, query_i64};

/// The same table from `lookback export roas` (decimal strings → minor units; USD has 2 places).
fn roas_rows_from_cli(
    home: &TestHome,
    db: &Path,
    model: Option<&str>,
) -> (BTreeMap<String, i64>, String) {
    match model {
        Some(m) => export_roas(home, db, "creator", &["--model", m]),
        None => export_roas(home, db, "creator", &[]),
    }
}

fn select_model(session: &Session, model: &str) {
    session.eval(&format!(
        "const s = document.querySelector('[data-testid=model-select]'); s.value = '{model}'; s.dispatchEvent(new Event('change')); return true"
    ));
    session.wait_until(
        &format!("the ROAS table under {model}"),
        &format!("const p = document.querySelector('[data-testid=provenance]'); return !!p && p.dataset.model === '{model}' && !!document.querySelector('[data-testid=roas-table]')"),
    );
}

/// The day (`YYYY-MM-DD`, UTC: the demo reports in UTC) of an instant.
fn utc_day(at_ms: i64) -> String {
    let utc = lookback_core::time::parse_time_zone("UTC").unwrap();
    lookback_core::time::day_in_zone(at_ms, utc)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

fn input_value(session: &Session, testid: &str) -> String {
    session
        .eval(&format!(
            "return document.querySelector('[data-testid={testid}]').value"
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_date_range_shows_the_views_days_and_a_preset_shows_the_clis_numbers() {
    let home = TestHome::new();
    let db = home.path("range.lookback");
    // Ending today, so the presets (counted back from today) cover some of it.
    home.lookback_ok(&["--db", db.to_str().unwrap(), "demo", "--orders", "1500"]);
    let conn = open_sqlite(&db);
    let first = query_i64(
        &conn,
        "SELECT MIN(m) FROM (SELECT MIN(occurred_at_ms) AS m FROM orders UNION ALL SELECT MIN(occurred_at_ms) FROM touches)",
    );
    let last = query_i64(
        &conn,
        "SELECT MAX(m) FROM (SELECT MAX(occurred_at_ms) AS m FROM orders UNION ALL SELECT MAX(occurred_at_ms) FROM touches)",
    );
    drop(conn);

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");

    // No dates chosen: From and To show the days the view covers, not placeholders.
    assert_eq!(input_value(&session, "date-from"), utc_day(first));
    assert_eq!(input_value(&session, "date-to"), utc_day(last));
    assert_eq!(input_value(&session, "date-preset"), "all");
    // Conversions read as people read them: one decimal at most, never 4.
    let orders: Vec<String> = session
        .eval(
            "return [...document.querySelectorAll('[data-testid=roas-table] [data-col=orders]')].map(td => td.textContent)",
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!orders.is_empty());
    for shown in &orders {
        let places = shown.split_once('.').map_or(0, |(_, f)| f.len());
        assert!(places <= 1, "orders credited shown as {shown}");
    }

    // "Last 30 days" sets both dates (today and the 29 days before it) and refreshes the view.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (from, to) = (utc_day(now_ms - 29 * 86_400_000), utc_day(now_ms));
    session.eval(
        "const s = document.querySelector('[data-testid=date-preset]'); s.value = 'last-30'; s.dispatchEvent(new Event('change')); return true",
    );
    session.wait_until(
        "the last 30 days in From and To",
        &format!(
            "const f = document.querySelector('[data-testid=date-from]'); const t = document.querySelector('[data-testid=date-to]'); \
             return !!f && !!t && f.value === '{from}' && t.value === '{to}'"
        ),
    );
    assert_eq!(input_value(&session, "date-preset"), "last-30");
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");
    let shown = roas_revenue_by_key(&session);
    let (cli, _) = export_roas(&home, &db, "creator", &["--from", &from, "--to", &to]);
    assert_eq!(shown, cli, "ROAS by creator over {from}..{to}");
    let (all, _) = roas_rows_from_cli(&home, &db, None);
    assert_ne!(shown, all, "the last 30 days are not the whole demo");
    assert!(
        shown.values().any(|v| *v > 0),
        "the last 30 days hold revenue"
    );
}

#[test]
fn switching_models_setting_the_default_and_exporting_match_the_cli() {
    let home = TestHome::new();
    let db = home.path("views.lookback");
    home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "demo",
        "--orders",
        "1500",
        "--end",
        "2026-10-31",
    ]);
    let exports = home.path("exports");
    std::fs::create_dir_all(&exports).unwrap();

    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", exports.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);

    // The ROAS screen under the workspace's default model equals the CLI's.
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");
    let default_rows = roas_revenue_by_key(&session);
    let (cli_default, _) = roas_rows_from_cli(&home, &db, None);
    assert_eq!(
        default_rows, cli_default,
        "ROAS by creator under the default model"
    );

    // Switching to linear shows linear's numbers (the CLI's), which differ from the default's.
    select_model(&session, "linear");
    // The provenance line says what produced the view in words, not as stored JSON.
    let said = session.wait_for("[data-testid=provenance-model]");
    assert_eq!(session.text(&said), "Linear · 30-day window");
    let linear_rows = roas_revenue_by_key(&session);
    let (cli_linear, _) = roas_rows_from_cli(&home, &db, Some("linear"));
    assert_eq!(linear_rows, cli_linear, "ROAS by creator under linear");
    assert_ne!(
        linear_rows, default_rows,
        "the model switch changes creator revenue"
    );
    // The charts follow the table, drawn from the run its provenance line names.
    session.wait_until(
        "the ROAS charts of the linear run",
        "const p = document.querySelector('[data-testid=provenance]'); \
         const charts = [...document.querySelectorAll('[data-testid=charts] figure svg')]; \
         return !!p && charts.length === 2 && charts.every((c) => \
           c.textContent.includes(`linear (run ${p.dataset.runId})`))",
    );
    assert!(
        session.find("[data-testid=model-preview]").is_some(),
        "a previewed model is marked as a preview"
    );
    let conn = open_sqlite(&db);
    let changes: i64 = conn
        .query_row("SELECT COUNT(*) FROM model_changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        changes, 4,
        "previewing a model does not change the default or write the log (the demo's own history: 4 changes)"
    );
    drop(conn);

    // Making it the default asks for a reason and writes the model log.
    let make_default = session.wait_for("[data-testid=make-default]");
    session.click(&make_default);
    let reason = session.wait_for("[data-testid=reason]");
    session.type_text(
        &reason,
        "Creators start most journeys; share credit evenly.",
    );
    let confirm = session.wait_for("[data-testid=confirm-default]");
    session.click(&confirm);
    session.wait_for("[data-testid=model-is-default]");
    let conn = open_sqlite(&db);
    let (to_model, logged_reason): (String, String) = conn
        .query_row(
            "SELECT to_model, reason FROM model_changes ORDER BY change_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(to_model, "linear");
    assert_eq!(
        logged_reason,
        "Creators start most journeys; share credit evenly."
    );
    drop(conn);

    // Exporting the ROAS table writes the same CSV as the CLI's export of the default view.
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");
    let export = session.wait_for("[data-testid=roas-table-export]");
    session.click(&export);
    session.wait_for("[data-testid=export-done]");
    let exported =
        std::fs::read_to_string(exports.join("roas.csv")).expect("the window wrote roas.csv");
    let (_, cli_csv) = roas_rows_from_cli(&home, &db, None);
    assert_eq!(
        exported, cli_csv,
        "the window's export equals `lookback export roas`"
    );
    assert!(
        exports.join("roas.csv.json").exists(),
        "the export has its provenance sidecar"
    );

    // The model log screen shows the change, newest first.
    let nav = session.wait_for("[data-testid=nav-model-log]");
    session.click(&nav);
    let reason_cell =
        session.wait_for("[data-testid=model-log-table] tbody tr td[data-col=reason]");
    assert_eq!(
        session.text(&reason_cell),
        "Creators start most journeys; share credit evenly."
    );
    let to_cell = session
        .find("[data-testid=model-log-table] tbody tr td[data-col=to]")
        .unwrap();
    assert_eq!(session.text(&to_cell), "linear");
    // Below it, the demo team's own history of changes, oldest last, from the initial model.
    let rows = session.eval(
        "return [...document.querySelectorAll('[data-testid=model-log-table] tbody tr[data-key]')].map(r => r.children[2]?.textContent ?? '')",
    );
    let from: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(from.len(), 5, "{from:?}");
    assert_eq!(from[4], "last-touch", "{from:?}");
    // The parameters after each change read as words, not JSON.
    let words = session.eval(
        "return [...document.querySelectorAll('[data-testid=model-log-table] tbody tr[data-key]')].map(r => r.children[4]?.textContent ?? '')",
    );
    let words: Vec<&str> = words
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        words.contains(&"Position based · 30-day window · 40/20/40"),
        "{words:?}"
    );
    assert!(words.iter().all(|w| !w.contains('{')), "{words:?}");

    // Reconciliation checks the default model's run: its credits conserve revenue exactly, and
    // it explains the unattributed revenue by cause.
    let nav = session.wait_for("[data-testid=nav-reconcile]");
    session.click(&nav);
    session.wait_for("[data-testid=conservation-ok]");
    session.wait_for("[data-testid=reconcile-table] tbody tr[data-key]");
    assert!(
        session.find("article[data-cause]").is_some(),
        "the demo's unattributed orders are explained by a cause"
    );

    // Exporting the reconciliation table writes the same CSV as `lookback export reconcile` of
    // the same days, and its orders and gross revenue are the store's.
    let export = session.wait_for("[data-testid=reconcile-table-export]");
    session.click(&export);
    session.wait_for("[data-testid=export-done]");
    let exported = std::fs::read_to_string(exports.join("reconcile.csv"))
        .expect("the window wrote reconcile.csv");
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exports.join("reconcile.csv.json")).unwrap())
            .unwrap();
    let from = sidecar["selection"]["from"].as_str().unwrap().to_owned();
    let to = sidecar["selection"]["to"].as_str().unwrap().to_owned();
    let cli_out = home.path("cli-reconcile.csv");
    home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "export",
        "reconcile",
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        cli_out.to_str().unwrap(),
    ]);
    assert_eq!(
        exported,
        std::fs::read_to_string(&cli_out).unwrap(),
        "the window's reconciliation export equals `lookback export reconcile --from {from} --to {to}`"
    );
    let rows = csv_rows(&exported);
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (orders, currency, gross) = (col("orders"), col("currency"), col("gross"));
    let exported_orders: i64 = rows[1..]
        .iter()
        .map(|r| r[orders].parse::<i64>().unwrap())
        .sum();
    let exported_usd_gross: i64 = rows[1..]
        .iter()
        .filter(|r| r[currency] == "USD")
        .map(|r| r[gross].replace('.', "").parse::<i64>().unwrap())
        .sum();
    let conn = open_sqlite(&db);
    let zone: String = conn
        .query_row(
            "SELECT value FROM workspace_settings WHERE key = 'reporting_timezone'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|_| "UTC".into());
    assert_eq!(zone, "UTC", "the check below buckets days in UTC");
    let in_range = "date(occurred_at_ms / 1000, 'unixepoch') BETWEEN ?1 AND ?2";
    let store_orders: i64 = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM orders WHERE {in_range}"),
            [&from, &to],
            |r| r.get(0),
        )
        .unwrap();
    let store_usd_gross: i64 = conn
        .query_row(
            &format!("SELECT COALESCE(SUM(gross_minor), 0) FROM orders WHERE currency = 'USD' AND {in_range}"),
            [&from, &to],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert!(store_orders > 0, "the window holds orders");
    assert_eq!(
        exported_orders, store_orders,
        "orders in the exported reconciliation"
    );
    assert_eq!(
        exported_usd_gross, store_usd_gross,
        "USD gross in the exported reconciliation"
    );
}

/// Sets a date input of the toolbar as a person picking a day would.
fn set_day(session: &Session, testid: &str, day: &str) {
    session.eval(&format!(
        "const i = document.querySelector('[data-testid={testid}]'); i.value = '{day}'; i.dispatchEvent(new Event('change')); return true"
    ));
    session.wait_until(
        &format!("{testid} at {day}"),
        &format!(
            "const i = document.querySelector('[data-testid={testid}]'); return !!i && i.value === '{day}' && !!document.querySelector('[data-testid=roas-table]')"
        ),
    );
}

#[test]
fn the_accrual_switch_shows_the_clis_accrual_numbers_and_is_remembered() {
    let home = TestHome::new();
    let db = home.path("basis.lookback");
    home.lookback_ok(&["--db", db.to_str().unwrap(), "demo", "--orders", "1500"]);
    let conn = open_sqlite(&db);
    let last = query_i64(&conn, "SELECT MAX(occurred_at_ms) FROM orders");
    drop(conn);
    // A week well inside the demo: its orders' touches and its touches' orders cross its edges.
    let (from, to) = (
        utc_day(last - 27 * 86_400_000),
        utc_day(last - 21 * 86_400_000),
    );

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db.to_str().unwrap()]);
    let nav = session.wait_for("[data-testid=nav-roas]");
    session.click(&nav);
    session.wait_for("[data-testid=roas-table] tbody tr[data-key]");
    set_day(&session, "date-from", &from);
    set_day(&session, "date-to", &to);
    session.wait_until(
        "the cash basis by default",
        "const p = document.querySelector('[data-testid=provenance-basis]'); return !!p && p.dataset.basis === 'cash'",
    );
    let cash_shown = roas_revenue_by_key(&session);
    let (cash_cli, _) = export_roas(&home, &db, "creator", &["--from", &from, "--to", &to]);
    assert_eq!(
        cash_shown, cash_cli,
        "cash ROAS by creator over {from}..{to}"
    );

    let accrual = session.wait_for("[data-testid=basis-accrual]");
    session.click(&accrual);
    session.wait_until(
        "the ROAS table on the accrual basis",
        "const p = document.querySelector('[data-testid=provenance-basis]'); return !!p && p.dataset.basis === 'accrual' && !!document.querySelector('[data-testid=roas-table] tbody tr[data-key]')",
    );
    let accrual_shown = roas_revenue_by_key(&session);
    let (accrual_cli, csv) = export_roas(
        &home,
        &db,
        "creator",
        &["--from", &from, "--to", &to, "--basis", "accrual"],
    );
    assert_eq!(
        accrual_shown, accrual_cli,
        "accrual ROAS by creator over {from}..{to}"
    );
    assert_ne!(accrual_shown, cash_shown, "the bases differ over a week");
    assert!(!csv.is_empty());
    // The view says how much crossed the week's edges.
    let shift = session
        .eval("return document.querySelector('[data-testid=basis-shift]').textContent")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        shift.starts_with("Accrual: +") && shift.contains("from orders after it"),
        "{shift}"
    );

    // Remembered like the other view settings: another screen and back keeps accrual.
    let cac = session.wait_for("[data-testid=nav-cac]");
    session.click(&cac);
    session.wait_until(
        "the CAC screen on the accrual basis",
        "const b = document.querySelector('[data-testid=basis]'); const p = document.querySelector('[data-testid=provenance-basis]'); return !!b && b.dataset.basis === 'accrual' && !!p && p.dataset.basis === 'accrual'",
    );
    let roas = session.wait_for("[data-testid=nav-roas]");
    session.click(&roas);
    session.wait_until(
        "the ROAS screen still on accrual",
        "const p = document.querySelector('[data-testid=provenance-basis]'); return !!p && p.dataset.basis === 'accrual' && !!document.querySelector('[data-testid=roas-table] tbody tr[data-key]')",
    );
    assert_eq!(roas_revenue_by_key(&session), accrual_cli);
}
