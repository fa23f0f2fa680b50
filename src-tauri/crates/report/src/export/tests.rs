//! CSV escaping, formula neutralization, sidecars, preambles and the streamed exports' rows.

use lookback_core::attribution::Model;
use lookback_store::{Creator, StoreError};

use super::*;
use crate::views::test_support::{NOW, run, workspace};
use crate::{ViewKey, ViewQuery, roas_view};

fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn formula_cells_are_neutralized_and_plain_ones_kept() {
    for (cell, expected) in [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        ("", ""),
    ] {
        assert_eq!(neutralize(cell), expected);
    }
}

#[test]
fn roas_csv_escapes_neutralizes_and_records_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.upsert_creator(&Creator {
                creator_id: "c1".into(),
                display_name: "=HYPERLINK(\"http://x\"), \"Ana\"\nline 2".into(),
                handle: None,
                platform: Some("instagram".into()),
                created_at_ms: None,
            })
        })
        .unwrap();
    let run_id = run(&mut store, Model::Linear);
    let view = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Creator)).unwrap();
    let out = dir.path().join("roas.csv");
    let summary = export_roas_csv(&view, &out, &ExportOptions::default(), NOW).unwrap();
    assert_eq!(summary.rows as usize, view.rows.len());
    assert!(!dir.path().join("roas.csv.partial").exists());

    let (header, rows) = read(&out);
    assert_eq!(
        header,
        [
            "creator",
            "label",
            "bucket",
            "attributed_revenue",
            "ad_spend",
            "creator_cost",
            "cost",
            "roas",
            "orders_credited",
            "provisional_revenue",
            "missing_fx_cost_rows",
            "currency"
        ]
    );
    let c1 = rows.iter().find(|r| r[0] == "c1").unwrap();
    // Quotes, the comma and the newline survive RFC 4180 quoting; the leading = is neutralized.
    assert_eq!(c1[1], "'=HYPERLINK(\"http://x\"), \"Ana\"\nline 2");
    assert_eq!(
        &c1[3..],
        [
            "140.00",
            "32.00",
            "30.00",
            "62.00",
            "2.26",
            "2.500000000",
            "10.00",
            "0",
            "USD"
        ]
    );
    // The machine key stays `(none)`; the label column says what the row holds.
    let none = rows.iter().find(|r| r[0] == "(none)").unwrap();
    assert_eq!(none[1], "Not through a creator: ads, email, direct…");
    assert_eq!(none[10], "1");

    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(summary.sidecar.unwrap()).unwrap()).unwrap();
    assert_eq!(sidecar["lookback_export"], "roas");
    assert_eq!(sidecar["run"]["run_id"], run_id);
    assert_eq!(sidecar["model"], "linear");
    assert_eq!(sidecar["rows"], view.rows.len());
    assert_eq!(sidecar["totals"]["roas"], "2.41");
    assert_eq!(sidecar["file"], "roas.csv");

    // A view row without cost has an empty ROAS cell, not 0 or ∞.
    let content = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Content)).unwrap();
    let out = dir.path().join("content.csv");
    export_roas_csv(
        &content,
        &out,
        &ExportOptions {
            sidecar: false,
            ..ExportOptions::default()
        },
        NOW,
    )
    .unwrap();
    assert!(!dir.path().join("content.csv.json").exists());
    let (_, rows) = read(&out);
    assert_eq!(rows.iter().find(|r| r[0] == "p1").unwrap()[7], "");
}

#[test]
fn preamble_lines_precede_the_header_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let view = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Channel)).unwrap();
    let out = dir.path().join("roas.csv");
    export_roas_csv(
        &view,
        &out,
        &ExportOptions {
            preamble: true,
            ..ExportOptions::default()
        },
        NOW,
    )
    .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"# lookback_export: roas"));
    assert!(lines.contains(&"# model: linear"));
    assert!(!lines.iter().any(|l| l.ends_with(": null")));
    let header = lines.iter().position(|l| !l.starts_with('#')).unwrap();
    assert!(lines[header].starts_with("channel,label,bucket,"));
    assert!(lines[header + 1..].iter().all(|l| !l.starts_with('#')));
}

#[test]
fn event_exports_stream_every_row_and_pii_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let options = ExportOptions::default();
    let all = EventRange::default();

    let credits = export_credits_csv(
        &store,
        run_id,
        &all,
        &dir.path().join("credits.csv"),
        &options,
        NOW,
    )
    .unwrap();
    assert_eq!(
        credits.rows,
        store.credits_for_run(run_id).unwrap().len() as u64
    );
    let (header, rows) = read(&credits.path);
    assert_eq!(header[..4], ["run_id", "order_id", "order_at", "order_day"]);
    assert_eq!(rows.len() as u64, credits.rows);
    let o3: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "o3").collect();
    assert_eq!(o3.len(), 2);
    assert_eq!(o3[0][3], "2026-03-04");
    assert_eq!(
        (o3[0][10].as_str(), o3[0][11].as_str()),
        ("0.500000000", "30.00")
    );
    let settled = EventRange {
        settled_only: true,
        ..EventRange::default()
    };
    let settled = export_credits_csv(
        &store,
        run_id,
        &settled,
        &dir.path().join("s.csv"),
        &options,
        NOW,
    )
    .unwrap();
    assert_eq!(settled.rows, credits.rows - 1); // o6 is provisional

    let orders = export_orders_csv(
        &store,
        Some(run_id),
        &all,
        &dir.path().join("orders.csv"),
        &options,
        NOW,
    )
    .unwrap();
    assert_eq!(orders.rows, 6);
    assert!(!orders.columns.iter().any(|c| c == "customer_id"));
    let (_, rows) = read(&orders.path);
    let o2 = rows.iter().find(|r| r[0] == "o2").unwrap();
    assert_eq!(
        &o2[5..12],
        [
            "50.00",
            "10.00",
            "0.00",
            "USD",
            "attributed",
            "40.00",
            "USD"
        ]
    );
    let with_pii = ExportOptions {
        include_pii: true,
        ..options
    };
    let orders = export_orders_csv(
        &store,
        Some(run_id),
        &all,
        &dir.path().join("pii.csv"),
        &with_pii,
        NOW,
    )
    .unwrap();
    let (header, rows) = read(&orders.path);
    let customer = header.iter().position(|c| c == "customer_id").unwrap();
    assert_eq!(
        rows.iter().find(|r| r[0] == "o1").unwrap()[customer],
        "cust-alice"
    );

    let touches =
        export_touches_csv(&store, &all, &dir.path().join("touches.csv"), &options, NOW).unwrap();
    assert_eq!(touches.rows, 5);
    assert!(!touches.columns.iter().any(|c| c == "anonymous_id"));
    let march = EventRange {
        from: NaiveDate::from_ymd_opt(2026, 3, 1),
        to: NaiveDate::from_ymd_opt(2026, 3, 31),
        settled_only: false,
        basis: CreditBasis::Cash,
    };
    let touches =
        export_touches_csv(&store, &march, &dir.path().join("t2.csv"), &options, NOW).unwrap();
    assert_eq!(touches.rows, 4);

    let spend =
        export_spend_csv(&store, &all, &dir.path().join("spend.csv"), &options, NOW).unwrap();
    assert_eq!(spend.rows, 4);
    let (_, rows) = read(&spend.path);
    let eur = rows.iter().find(|r| r[9] == "EUR").unwrap();
    assert_eq!(eur[8], "10.00");

    let log = export_model_log_csv(&store, &dir.path().join("log.csv"), &options, NOW).unwrap();
    assert_eq!(log.rows, 0);
    assert_eq!(log.columns[0], "change_id");
}

/// The CAC CSV carries each payback multiple and, in columns of their own, the new customers it
/// covers (those whose window has closed) beside all of them: at Mar 1 + 62 days alice's 60-day
/// window has closed and carol's has not (see the view test for the hand computation).
#[test]
fn cac_csv_says_how_many_customers_each_payback_covers() {
    use crate::views::test_support::{DAY, MAR1};
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let q = ViewQuery {
        to: Some(lookback_core::time::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()),
        ..ViewQuery::new(run_id, ViewKey::Creator)
    };
    let view = crate::cac_view(&store, &q, MAR1 + 62 * DAY).unwrap();
    let out = dir.path().join("cac.csv");
    export_cac_csv(&view, &out, &ExportOptions::default(), NOW).unwrap();
    let (header, rows) = read(&out);
    let c1 = rows.iter().find(|r| r[0] == "c1").unwrap();
    let cell = |name: &str| c1[header.iter().position(|h| h == name).unwrap()].as_str();
    assert_eq!(cell("new_customers"), "1.500000000");
    assert_eq!(cell("payback_30"), "2.10");
    assert_eq!(cell("payback_30_customers"), "1.500000000");
    assert_eq!(cell("payback_60"), "2.42");
    assert_eq!(cell("payback_60_customers"), "1.000000000");
    assert_eq!(cell("payback_90"), "");
    assert_eq!(cell("payback_90_customers"), "0.000000000");
    assert_eq!(cell("payback_windows_open"), "60;90");
}
