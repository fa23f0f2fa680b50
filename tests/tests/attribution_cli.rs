//! Acceptance tests of the attribution commands through the real binary on a demo workspace:
//! reports that account for every order's revenue, every model, the model log, previews that do
//! not log, and learned weights.

use lookback_tests::{TestHome, open_sqlite, query_i64};

/// How many model changes a fresh demo's log holds: the demo team's history.
const DEMO_MODEL_CHANGES: usize = 4;

fn demo(home: &TestHome) -> String {
    let db = home.path("demo.lookback");
    let db = db.to_str().unwrap().to_owned();
    home.lookback_ok(&[
        "--db",
        &db,
        "demo",
        "--orders",
        "800",
        "--end",
        "2026-06-30",
    ]);
    db
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn credits_by_creator_account_for_all_net_revenue() {
    let home = TestHome::new();
    let db = demo(&home);
    let out = json(&home.lookback_ok(&[
        "--db", &db, "report", "credits", "--by", "creator", "--model", "linear", "--format",
        "json",
    ]));
    assert_eq!(out["run"]["model"], "linear");
    let rows = out["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let credited: i64 = rows
        .iter()
        .map(|r| r["revenue_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(credited, out["totals"]["revenue_minor"].as_i64().unwrap());
    let unattributed = out["unattributed"]["revenue_minor"].as_i64().unwrap();
    assert_eq!(
        out["missing_fx"]["orders"], 0,
        "the demo has a rate for every order day"
    );

    // Independently: the run's orders' net revenue in the reporting currency, straight from SQLite.
    let conn = open_sqlite(std::path::Path::new(&db));
    let run_id = out["run"]["run_id"].as_i64().unwrap();
    let net = query_i64(
        &conn,
        &format!(
            "SELECT SUM(net_minor) FROM run_orders WHERE run_id = {run_id} AND outcome != 'missing_fx'"
        ),
    );
    assert_eq!(credited + unattributed, net);
    let orders = query_i64(&conn, "SELECT COUNT(*) FROM orders");
    assert_eq!(
        query_i64(
            &conn,
            &format!("SELECT COUNT(*) FROM run_orders WHERE run_id = {run_id}")
        ),
        orders
    );
    // USD orders without adjustments are net = gross, so the run did not invent or drop money.
    let usd_clean = query_i64(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM run_orders ro JOIN orders o USING (order_id) WHERE ro.run_id = {run_id}
             AND o.currency = 'USD' AND ro.net_minor != o.gross_minor
             AND NOT EXISTS (SELECT 1 FROM order_adjustments a WHERE a.order_id = o.order_id)"
        ),
    );
    assert_eq!(usd_clean, 0);
    // A preview does not change the model log (it holds the demo's own history only).
    assert_eq!(
        query_i64(&conn, "SELECT COUNT(*) FROM model_changes"),
        DEMO_MODEL_CHANGES as i64
    );
}

#[test]
fn every_model_name_works() {
    let home = TestHome::new();
    let db = demo(&home);
    for model in [
        "first-touch",
        "last-touch",
        "last-non-direct",
        "linear",
        "time-decay",
        "position-based",
        "markov",
        "shapley",
    ] {
        let out = json(&home.lookback_ok(&[
            "--db", &db, "report", "credits", "--model", model, "--format", "json",
        ]));
        assert_eq!(out["run"]["model"], model);
        assert!(
            out["totals"]["revenue_minor"].as_i64().unwrap() > 0,
            "{model}"
        );
    }
    let table = home.lookback_ok(&[
        "--db", &db, "report", "credits", "--by", "channel", "--format", "table",
    ]);
    assert!(table.starts_with("run "), "{table}");
    let out = home.lookback(&[
        "--db", &db, "report", "credits", "--by", "channel", "--format", "csv",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().next(),
        Some("channel,conversions,revenue,currency")
    );
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("run "));
}

#[test]
fn model_set_is_logged_and_previews_are_not() {
    let home = TestHome::new();
    let db = demo(&home);
    let refused = home.lookback(&["--db", &db, "model", "set", "position-based"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--reason"));

    home.lookback_ok(&[
        "--db",
        &db,
        "model",
        "set",
        "position-based",
        "--position-weights",
        "30,40,30",
        "--reason",
        "creators assist",
        "--as",
        "maria",
    ]);
    let log = json(&home.lookback_ok(&["--db", &db, "model", "log", "--format", "json"]));
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), DEMO_MODEL_CHANGES + 1);
    assert_eq!(entries[0]["to_model"], "position-based");
    assert_eq!(entries[0]["from_model"], "last-touch");
    assert_eq!(entries[0]["changed_by"], "maria");
    assert_eq!(entries[0]["reason"], "creators assist");
    assert!(
        entries[0]["parameters_after"]
            .as_str()
            .unwrap()
            .contains("[30,40,30]")
    );

    home.lookback_ok(&[
        "--db", &db, "report", "credits", "--model", "markov", "--format", "json",
    ]);
    let after = json(&home.lookback_ok(&["--db", &db, "model", "log", "--format", "json"]));
    assert_eq!(
        after.as_array().unwrap().len(),
        DEMO_MODEL_CHANGES + 1,
        "a preview must not log"
    );
    let show = home.lookback_ok(&["--db", &db, "model", "show"]);
    assert!(show.contains("position-based"), "{show}");
    let current = json(&home.lookback_ok(&["--db", &db, "report", "credits", "--format", "json"]));
    assert_eq!(current["run"]["model"], "position-based");
}

#[test]
fn markov_weights_csv_sums_to_one() {
    let home = TestHome::new();
    let db = demo(&home);
    let csv = home.lookback_ok(&[
        "--db", &db, "report", "weights", "--model", "markov", "--format", "csv",
    ]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("channel,removal_effect,weight,conversions,paths")
    );
    let total: f64 = lines
        .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-6, "weights sum to {total}");
}

/// The lookback a model may be saved with is the range a preview accepts and README states:
/// 1 to 3650 days, both through `model set`; one day more is refused naming the parameter, and
/// nothing is logged for it.
#[test]
fn a_saved_model_takes_any_lookback_a_preview_takes() {
    let home = TestHome::new();
    let db = demo(&home);
    home.lookback_ok(&[
        "--db",
        &db,
        "report",
        "credits",
        "--model",
        "linear",
        "--window-days",
        "3650",
    ]);
    home.lookback_ok(&[
        "--db",
        &db,
        "model",
        "set",
        "linear",
        "--window-days",
        "3650",
        "--reason",
        "a decade of repeat buyers",
    ]);
    let show = home.lookback_ok(&["--db", &db, "model", "show"]);
    assert!(show.contains("3650"), "{show}");
    let refused = home.lookback(&[
        "--db",
        &db,
        "model",
        "set",
        "linear",
        "--window-days",
        "3651",
        "--reason",
        "too far",
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("lookback_days") && said.contains("3650"),
        "{said}"
    );
    let log = json(&home.lookback_ok(&["--db", &db, "model", "log", "--format", "json"]));
    assert_eq!(log.as_array().unwrap().len(), DEMO_MODEL_CHANGES + 1);
}

/// A fresh demo's model log tells how its team came to the model it uses: each change with who,
/// when (within the demo's last 90 days), from what to what and why, newest first, ending at the
/// model `model show` reports.
#[test]
fn a_fresh_demo_carries_its_history_of_model_changes() {
    let home = TestHome::new();
    let db = demo(&home);
    let log = json(&home.lookback_ok(&["--db", &db, "model", "log", "--format", "json"]));
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), DEMO_MODEL_CHANGES);
    // Within the last 90 days up to the end of 2026-06-30 (bounds a day wide).
    let (start, end) = (1_774_915_200_000_i64, 1_782_864_000_000_i64);
    let oldest_first: Vec<_> = entries.iter().rev().collect();
    assert_eq!(
        oldest_first[0]["from_model"], "last-touch",
        "starts at the initial model"
    );
    for pair in oldest_first.windows(2) {
        assert_eq!(
            pair[1]["from_model"], pair[0]["to_model"],
            "one chain of changes"
        );
        assert!(pair[1]["changed_at_ms"].as_i64() > pair[0]["changed_at_ms"].as_i64());
    }
    for entry in entries {
        let at = entry["changed_at_ms"].as_i64().unwrap();
        assert!(at > start && at < end, "{entry}");
        assert!(!entry["changed_by"].as_str().unwrap().is_empty());
        assert!(entry["reason"].as_str().unwrap().len() > 20, "{entry}");
        assert_ne!(entry["from_model"], entry["to_model"]);
    }
    let show = home.lookback_ok(&["--db", &db, "model", "show"]);
    let current = entries[0]["to_model"].as_str().unwrap();
    assert!(show.contains(current), "{show}");
}

/// A command on a file that does not exist says how to create a workspace there.
#[test]
fn a_missing_workspace_is_named_with_how_to_create_one() {
    let home = TestHome::new();
    let db = home.path("new.lookback");
    let db = db.to_str().unwrap();
    let out = home.lookback(&["--db", db, "import", "touches", "t.csv"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("no workspace at {db}"))
            && said.contains(&format!("lookback --db {db} init --name"))
            && said.contains(&format!("lookback --db {db} demo")),
        "{said}"
    );
    assert!(!home.path("new.lookback").exists(), "nothing is created");
}

/// An exact decimal with at most 9 places as billionths; panics on anything else.
fn billionths(text: &str) -> i128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert!(fraction.len() <= 9, "more than 9 places: {text}");
    whole.parse::<i128>().unwrap() * 1_000_000_000
        + format!("{fraction:0<9}").parse::<i128>().unwrap()
}

/// Machine formats carry conversions exact: every CSV and JSON row's conversions are the sum of
/// its credits' shares to the billionth (the shares themselves are billionths), while the table
/// a person reads rounds them (one decimal under 100, none from 100 on).
#[test]
fn conversions_in_csv_and_json_are_the_exact_sum_of_shares() {
    let home = TestHome::new();
    let db = demo(&home);
    let report = json(&home.lookback_ok(&[
        "--db", &db, "report", "credits", "--by", "channel", "--model", "linear", "--format",
        "json",
    ]));
    let run_id = report["run"]["run_id"].as_i64().unwrap();
    let conn = open_sqlite(std::path::Path::new(&db));
    let exact: std::collections::BTreeMap<String, i128> = conn
        .prepare(
            "SELECT COALESCE(NULLIF(t.channel, ''), '(none)'), SUM(c.share_ppb)
               FROM credits c JOIN touches t ON t.touch_id = c.touch_id
              WHERE c.run_id = ?1 GROUP BY 1",
        )
        .unwrap()
        .query_map([run_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as i128)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Linear splits orders three ways and more: some sums are not whole to 4 places.
    assert!(
        exact.values().any(|ppb| ppb % 100_000 != 0),
        "the demo's linear shares all round to 4 places: {exact:?}"
    );
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), exact.len());
    for row in rows {
        let key = row["key"].as_str().unwrap();
        assert_eq!(
            billionths(row["conversions"].as_str().unwrap()),
            exact[key],
            "JSON conversions of {key}"
        );
    }
    assert_eq!(
        billionths(report["totals"]["conversions"].as_str().unwrap()),
        exact.values().sum::<i128>()
    );

    let csv = home.lookback_ok(&[
        "--db", &db, "report", "credits", "--by", "channel", "--model", "linear", "--format", "csv",
    ]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("channel,conversions,revenue,currency"));
    let mut seen = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            billionths(cells[1]),
            exact[cells[0]],
            "CSV conversions of {}",
            cells[0]
        );
        seen += 1;
    }
    assert_eq!(seen, exact.len());

    // The table rounds for reading: no figure carries more than one decimal.
    let table = home.lookback_ok(&[
        "--db", &db, "report", "credits", "--by", "channel", "--model", "linear",
    ]);
    for key in exact.keys() {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key.as_str()))
            .unwrap_or_else(|| panic!("no row {key} in\n{table}"));
        let conversions = line.split_whitespace().nth(1).unwrap();
        let places = conversions.split_once('.').map_or(0, |(_, f)| f.len());
        assert!(places <= 1, "{key}: {conversions} in\n{table}");
    }
}

/// The row of revenue and cost that came through no creator is named for what it is in the
/// tables a person reads; the CSV keeps the machine key `(none)` beside the words.
#[test]
fn the_row_of_no_creator_says_what_it_holds() {
    let home = TestHome::new();
    let db = demo(&home);
    let words = "Not through a creator: ads, email, direct…";
    let table = home.lookback_ok(&["--db", &db, "view", "roas", "--by", "creator"]);
    assert!(
        table.lines().any(|l| l.starts_with(words)),
        "no row {words:?} in\n{table}"
    );
    assert!(!table.contains("(none)"), "{table}");
    let out = home.path("roas.csv");
    home.lookback_ok(&[
        "--db",
        &db,
        "export",
        "roas",
        "--by",
        "creator",
        "--out",
        out.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        // RFC 4180 quotes the label: it holds commas.
        csv.lines()
            .any(|l| l.starts_with(&format!("(none),\"{words}\","))),
        "{csv}"
    );
}

/// `lookback view cohorts` prints the cohorts by key, then each cohort with every key summed,
/// each table ending in the totals; by week the cohorts are ISO weeks.
#[test]
fn view_cohorts_prints_the_table_by_key_then_the_triangle() {
    let home = TestHome::new();
    let db = demo(&home);
    let out = home.lookback_ok(&[
        "--db", &db, "view", "cohorts", "--by", "channel", "--bucket", "week",
    ]);
    let mut tables = out.split("\n\n");
    let (by_key, triangle) = (tables.next().unwrap(), tables.next().unwrap());
    let header = |table: &str, key: &str| {
        let line = table
            .lines()
            .find(|l| l.starts_with("cohort"))
            .unwrap_or_else(|| panic!("no header in\n{out}"));
        assert_eq!(
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>(),
            vec![
                "cohort",
                key,
                "customers",
                "first order",
                "to date",
                "30 d",
                "60 d",
                "90 d",
                "180 d",
                "cost",
                "cac",
                "payback 30",
                "payback 60",
                "payback 90",
                "payback 180"
            ],
            "{out}"
        );
    };
    header(by_key, "channel");
    header(triangle, "all keys");
    for table in [by_key, triangle] {
        assert!(
            table
                .trim_end()
                .lines()
                .last()
                .unwrap()
                .starts_with("(all)"),
            "{out}"
        );
    }
    let weeks: Vec<&str> = triangle
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .filter(|c| *c != "(all)")
        .collect();
    assert!(weeks.len() >= 56, "a demo of thirteen months: {weeks:?}");
    assert!(
        weeks
            .iter()
            .all(|w| w.len() == 8 && w.as_bytes()[4] == b'-' && w.as_bytes()[5] == b'W'),
        "{weeks:?}"
    );
}

/// A demo written today spans thirteen months, so most monthly cohorts have passed their
/// 180-day horizon and show a figure and a payback multiple there, not "—" or a partial count.
#[test]
fn a_demo_ending_today_closes_the_180_day_horizon_of_most_monthly_cohorts() {
    let home = TestHome::new();
    let db = home.path("today.lookback");
    let db = db.to_str().unwrap();
    home.lookback_ok(&["--db", db, "demo", "--orders", "800"]);
    let out = home.lookback_ok(&["--db", db, "view", "cohorts", "--by", "channel"]);
    let triangle = out.split("\n\n").nth(1).unwrap();
    let months: Vec<Vec<&str>> = triangle
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("(all)"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(months.len() >= 13, "{out}");
    // From the right: payback 180, 90, 60, 30, cac, cost, then the 180-day revenue.
    let closed = months
        .iter()
        .filter(|cells| {
            let n = cells.len();
            cells[n - 7].parse::<f64>().is_ok()
                && cells[n - 8].parse::<f64>().is_ok()
                && cells[n - 1].parse::<f64>().is_ok()
        })
        .count();
    assert!(
        closed >= 6,
        "{closed} cohorts with a closed 180-day horizon:\n{out}"
    );
}

#[test]
fn the_accrual_basis_dates_credits_by_their_touch_in_reports_exports_and_sidecars() {
    let home = TestHome::new();
    let db = demo(&home);
    let credits = |basis: &str, range: &[&str]| {
        let mut args = vec![
            "--db", &db, "report", "credits", "--by", "channel", "--format", "json", "--basis",
            basis,
        ];
        args.extend(range);
        json(&home.lookback_ok(&args))
    };
    let total = |report: &serde_json::Value| report["totals"]["revenue_minor"].as_i64().unwrap();

    // Over the whole history both bases credit the same revenue to the same channels.
    let (cash_all, accrual_all) = (credits("cash", &[]), credits("accrual", &[]));
    assert_eq!(cash_all["rows"], accrual_all["rows"]);
    assert_eq!(accrual_all["basis"], "accrual");
    assert!(accrual_all["basis_shift"].is_null());

    // Over a week (the demo reports in UTC), accrual sums the credits of the week's touches,
    // computed here straight from SQLite, and differs from cash by what crosses its edges.
    let week = ["--from", "2026-06-01", "--to", "2026-06-07"];
    let (cash, accrual) = (credits("cash", &week), credits("accrual", &week));
    let run_id = accrual["run"]["run_id"].as_i64().unwrap();
    let (from_ms, until_ms) = (1_780_272_000_000_i64, 1_780_876_800_000_i64);
    let conn = open_sqlite(std::path::Path::new(&db));
    let in_week = |column: &str| {
        query_i64(
            &conn,
            &format!(
                "SELECT COALESCE(SUM(c.revenue_minor), 0) FROM credits c
                 JOIN touches t ON t.touch_id = c.touch_id JOIN orders o ON o.order_id = c.order_id
                 WHERE c.run_id = {run_id} AND {column} >= {from_ms} AND {column} < {until_ms}"
            ),
        )
    };
    assert_eq!(total(&accrual), in_week("t.occurred_at_ms"));
    assert_eq!(total(&cash), in_week("o.occurred_at_ms"));
    assert_ne!(
        total(&accrual),
        total(&cash),
        "touches and orders cross a week's edges"
    );
    let shift = &accrual["basis_shift"];
    assert_eq!(
        total(&accrual),
        total(&cash) + shift["from_later_orders_minor"].as_i64().unwrap()
            - shift["to_earlier_touches_minor"].as_i64().unwrap()
    );

    // The event-level export holds exactly the week's touches' credits, and says its basis.
    let out = home.path("credits.csv");
    let mut args = vec![
        "--db", &db, "export", "credits", "--basis", "accrual", "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend(week);
    home.lookback_ok(&args);
    let rows = std::fs::read_to_string(&out).unwrap().lines().count() as i64 - 1;
    let expected = query_i64(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM credits c JOIN touches t ON t.touch_id = c.touch_id
             WHERE c.run_id = {run_id} AND t.occurred_at_ms >= {from_ms} AND t.occurred_at_ms < {until_ms}"
        ),
    );
    assert_eq!(rows, expected);
    let sidecar = json(&std::fs::read_to_string(home.path("credits.csv.json")).unwrap());
    assert_eq!(sidecar["basis"], "accrual");
    assert_eq!(sidecar["selection"]["basis"], "accrual");

    // A view table's sidecar carries the basis and the shift; the view's line says both.
    let roas = home.path("roas.csv");
    let mut args = vec![
        "--db", &db, "export", "roas", "--by", "channel", "--basis", "accrual",
    ];
    args.extend(["--out", roas.to_str().unwrap()]);
    args.extend(week);
    home.lookback_ok(&args);
    let sidecar = json(&std::fs::read_to_string(home.path("roas.csv.json")).unwrap());
    assert_eq!(sidecar["basis"], "accrual");
    assert_eq!(sidecar["selection"]["basis_shift"], *shift);
    let mut args = vec![
        "--db", &db, "view", "roas", "--by", "channel", "--basis", "accrual",
    ];
    args.extend(week);
    let line = home.lookback_ok(&args);
    assert!(line.contains("· basis accrual ·"), "{line}");
    assert!(line.contains("Accrual: +"), "{line}");
    let chart = home.path("roas.svg");
    let mut args = vec!["--db", &db, "chart", "roas", "--basis", "accrual", "--out"];
    args.push(chart.to_str().unwrap());
    args.extend(week);
    home.lookback_ok(&args);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("accrual basis"),
        "{svg}"
    );
}
