//! End-to-end test of the Cohorts screen in the real window (tauri-driver under Xvfb): on the demo
//! workspace its table is the CLI's `lookback export cohorts` cell for cell — by creator and
//! month, by week, by channel, and under another model picked in the model switch — and its
//! chart draws one line per cohort of the table above it.

use std::collections::BTreeMap;
use std::path::Path;

use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, csv_rows, lookback_bin};

/// One cohort row's figures: customers and paybacks as exact decimals, amounts in minor units
/// (the demo reports in USD), a horizon's revenue with the customers it covers.
type Figures = Vec<String>;

/// The columns compared, as the CSV names them; the window's cells carry the same figures in
/// `data-col` / `data-minor` / `data-value` / `data-closed`.
const HORIZONS: [u32; 4] = [30, 60, 90, 180];

/// "cohort|key" → figures, from the window's Cohorts table.
fn rows_in_window(session: &Session) -> BTreeMap<String, Figures> {
    let rows = session.eval(
        "const minor = (td) => td.dataset.minor; \
         return [...document.querySelectorAll('[data-testid=cohorts-table] tbody tr[data-key]')].map(tr => { \
           const c = (col) => tr.querySelector(`[data-col=${col}]`); \
           const cells = [c('customers').dataset.value, minor(c('first-order')), minor(c('to-date'))]; \
           for (const d of [30, 60, 90, 180]) cells.push(minor(c(`revenue-${d}`)), c(`revenue-${d}`).dataset.closed); \
           cells.push(minor(c('cost')), minor(c('cac'))); \
           for (const d of [30, 60, 90, 180]) cells.push(c(`payback-${d}`).dataset.value); \
           return [tr.dataset.key, cells]; })",
    );
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let cells = r[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_owned())
                .collect();
            (r[0].as_str().unwrap().to_owned(), cells)
        })
        .collect()
}

/// A decimal amount with 2 places ("1234.50") in minor units ("123450"); empty stays empty.
fn minor(amount: &str) -> String {
    if amount.is_empty() {
        return String::new();
    }
    amount.replace('.', "").parse::<i64>().unwrap().to_string()
}

/// The same table from `lookback export cohorts` with `flags`.
fn rows_from_cli(
    home: &TestHome,
    db: &Path,
    by: &str,
    flags: &[&str],
) -> BTreeMap<String, Figures> {
    let out = home.path(&format!(
        "cohorts-{by}-{}.csv",
        flags.join("").replace('-', "")
    ));
    let mut args = vec![
        "--db",
        db.to_str().unwrap(),
        "export",
        "cohorts",
        "--by",
        by,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(flags);
    home.lookback_ok(&args);
    let mut rows = csv_rows(&std::fs::read_to_string(&out).unwrap());
    let header = rows.remove(0);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    rows.iter()
        .map(|r| {
            let mut cells = vec![
                r[col("customers")].clone(),
                minor(&r[col("first_order_revenue")]),
                minor(&r[col("revenue_to_date")]),
            ];
            for d in HORIZONS {
                cells.push(minor(&r[col(&format!("revenue_{d}"))]));
                cells.push(r[col(&format!("customers_closed_{d}"))].clone());
            }
            cells.push(minor(&r[col("cost")]));
            cells.push(minor(&r[col("cac")]));
            for d in HORIZONS {
                cells.push(r[col(&format!("payback_{d}"))].clone());
            }
            (format!("{}|{}", r[col("cohort")], r[col(by)]), cells)
        })
        .collect()
}

/// Waits until the Cohorts table shows rows whose keys satisfy `keys_js` (a JS expression over
/// `keys`, the rows' `data-key`s), under `model` when one is named.
fn wait_table(session: &Session, what: &str, model: Option<&str>, keys_js: &str) {
    let model_js = model.map_or("true".to_owned(), |m| format!("p.dataset.model === '{m}'"));
    session.wait_until(
        what,
        &format!(
            "const p = document.querySelector('[data-testid=provenance]'); \
             const keys = [...document.querySelectorAll('[data-testid=cohorts-table] tbody tr[data-key]')].map(tr => tr.dataset.key); \
             return !!p && {model_js} && keys.length > 0 && !document.querySelector('[data-testid=loading]') && ({keys_js})"
        ),
    );
}

#[test]
fn the_cohorts_screen_shows_the_clis_cohorts_and_follows_the_bucket_key_and_model() {
    let home = TestHome::new();
    let db = home.path("cohorts.lookback");
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
    let nav = session.wait_for("[data-testid=nav-cohorts]");
    session.click(&nav);
    wait_table(
        &session,
        "the Cohorts table by creator and month",
        None,
        "keys.every(k => /^\\d{4}-\\d{2}\\|/.test(k))",
    );
    let model = session
        .eval("return document.querySelector('[data-testid=provenance]').dataset.model")
        .as_str()
        .unwrap()
        .to_owned();

    // By creator and month (the defaults), cell for cell.
    let shown = rows_in_window(&session);
    let cli = rows_from_cli(&home, &db, "creator", &[]);
    assert_eq!(shown, cli, "cohorts by creator and month");
    // Some customers are past 30 days and some not yet past 90: both kinds of cell are there.
    assert!(
        cli.values().any(|r| !r[3].is_empty() && r[3] != "0"),
        "some 30-day revenue: {cli:?}"
    );

    // The chart draws the triangle's latest 12 cohorts, one line each (the demo's thirteen
    // months have more).
    let cohorts = session.eval(
        "return [...document.querySelectorAll('[data-testid=cohort-triangle] tbody tr[data-key]')].map(tr => tr.dataset.key).slice(-12)",
    );
    let series = session.eval(
        "return [...new Set([...document.querySelectorAll('[data-testid=chart] .chart-hover > *')].map(t => t.dataset.series))]",
    );
    assert_eq!(
        series, cohorts,
        "one line per cohort of the triangle, the latest 12"
    );
    let all = session
        .eval("return document.querySelectorAll('[data-testid=cohort-triangle] tbody tr[data-key]').length")
        .as_u64()
        .unwrap();
    assert_eq!(all, 13, "the demo's thirteen monthly cohorts to 2026-10-31");
    let chart_text = session
        .eval("return document.querySelector('[data-testid=chart] svg').textContent")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        chart_text.contains("The latest 12 of 13 cohorts are drawn; the table lists every one."),
        "the chart says which cohorts it leaves out: {chart_text}"
    );

    // By week.
    let week = session.wait_for("[data-testid=cohort-bucket-week]");
    session.click(&week);
    wait_table(
        &session,
        "the Cohorts table by week",
        Some(&model),
        "keys.every(k => /^\\d{4}-W\\d{2}\\|/.test(k))",
    );
    assert_eq!(
        rows_in_window(&session),
        rows_from_cli(&home, &db, "creator", &["--bucket", "week"]),
        "cohorts by creator and week"
    );

    // By channel (still by week: the screen remembers it).
    let channel = session.wait_for("[data-testid=by-channel]");
    session.click(&channel);
    wait_table(
        &session,
        "the Cohorts table by channel",
        Some(&model),
        "keys.some(k => k.endsWith('|paid_social'))",
    );
    assert_eq!(
        rows_in_window(&session),
        rows_from_cli(&home, &db, "channel", &["--bucket", "week"]),
        "cohorts by channel and week"
    );

    // Another model in the model switch: the table follows it.
    let other = if model == "linear" {
        "first-touch"
    } else {
        "linear"
    };
    session.eval(&format!(
        "const s = document.querySelector('[data-testid=model-select]'); s.value = '{other}'; s.dispatchEvent(new Event('change')); return true"
    ));
    wait_table(
        &session,
        &format!("the Cohorts table under {other}"),
        Some(other),
        "true",
    );
    assert_eq!(
        rows_in_window(&session),
        rows_from_cli(
            &home,
            &db,
            "channel",
            &["--bucket", "week", "--model", other]
        ),
        "cohorts by channel and week under {other}"
    );
}
