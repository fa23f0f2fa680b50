//! CSV files of the window's tables that are not attribution views: the reconciliation per
//! source and day, a source's dead letters, the alert rules, the data health of the sources, and
//! the overview's revenue-by-currency and sources tables.
//! Same format, neutralization, sidecar and `.partial` rename as every other export (see the
//! parent module); the window's Export CSV and `lookback export <name>` call these same
//! functions, and `lookback reconcile --format csv` prints the reconciliation's rows through
//! [`write_reconcile_csv`], so the columns cannot drift apart.

use std::io::Write;
use std::path::Path;

use lookback_core::money::Currency;
use lookback_store::Store;
use lookback_trust::{GapCause, HealthPolicy, Reconciliation, SourceHealthState};
use serde_json::{Value, json};

use super::{CsvFile, ExportOptions, ExportSummary, amount, base_meta, instant, neutralize};
use crate::ReportError;

/// The amount `minor` of `currency` (an ISO code as stored) in major units; empty for a code
/// Lookback does not know, as everywhere else in the exports.
fn amount_in(minor: i64, currency: &str) -> String {
    amount(minor, Currency::parse(currency).ok())
}

/// Whether a reconciliation gap cause is measured in the order's own currency (the run never
/// converted those orders) rather than in the run's reporting currency.
fn cause_in_order_currency(cause: GapCause) -> bool {
    matches!(
        cause,
        GapCause::NotInRun | GapCause::MissingFx | GapCause::RefundNotSynced
    )
}

/// The reconciliation table's columns, in their stable order.
fn reconcile_columns() -> Vec<String> {
    let mut columns: Vec<String> = [
        "source",
        "day",
        "currency",
        "orders",
        "gross",
        "net",
        "reporting_currency",
        "known_to_attribution",
        "attributed",
        "unattributed",
    ]
    .map(str::to_owned)
    .to_vec();
    for cause in GapCause::ALL {
        columns.push(format!("{}_orders", cause.as_str()));
        columns.push(format!("{}_amount", cause.as_str()));
    }
    columns
}

/// The reconciliation's rows as CSV cells, text cells neutralized.
fn reconcile_rows(report: &Reconciliation) -> impl Iterator<Item = Vec<String>> + '_ {
    let reporting = report.reporting_currency.as_str();
    report.rows.iter().map(move |r| {
        let mut cells = vec![
            neutralize(&r.source).into_owned(),
            r.day.clone(),
            neutralize(&r.currency).into_owned(),
            r.orders.to_string(),
            amount_in(r.gross_minor, &r.currency),
            amount_in(r.net_minor, &r.currency),
            neutralize(reporting).into_owned(),
            amount_in(r.known_to_attribution_minor, reporting),
            amount_in(r.attributed_minor, reporting),
            amount_in(r.unattributed_minor, reporting),
        ];
        for cause in GapCause::ALL {
            let (orders, minor) = r.gaps.get(&cause).copied().unwrap_or((0, 0));
            let currency = if cause_in_order_currency(cause) {
                r.currency.as_str()
            } else {
                reporting
            };
            cells.push(orders.to_string());
            cells.push(amount_in(minor, currency));
        }
        cells
    })
}

fn reconcile_meta(report: &Reconciliation, now_ms: i64) -> Value {
    let mut meta = base_meta("reconcile", now_ms);
    meta.insert("model".into(), Value::String(report.model.clone()));
    meta.insert(
        "run".into(),
        match &report.run {
            Some(run) => json!({
                "run_id": run.run_id,
                "model": run.model,
                "parameters": serde_json::from_str::<Value>(&run.parameters)
                    .unwrap_or(Value::String(run.parameters.clone())),
                "finished_at": run.finished_at_ms.map(instant),
                "reporting_currency": run.reporting_currency,
                "input_watermark": run.input_watermark,
                "is_current": report.run_is_current,
            }),
            None => Value::Null,
        },
    );
    if let Some(run) = &report.run {
        super::insert_parameters(&mut meta, &run.parameters);
    }
    meta.insert(
        "selection".into(),
        json!({ "from": report.from_day, "to": report.to_day, "timezone": report.timezone }),
    );
    meta.insert(
        "reporting_currency".into(),
        Value::String(report.reporting_currency.clone()),
    );
    meta.insert(
        "conservation_violations".into(),
        json!(report.conservation.as_ref().map(|c| c.violations.len())),
    );
    meta.insert(
        "gap_amount_currency".into(),
        Value::String(
            "not_in_run, missing_fx and refund_not_synced amounts are in the row's currency; the other causes' in reporting_currency".into(),
        ),
    );
    Value::Object(meta)
}

/// The Reconciliation screen's table, one row per source, day and order currency. Columns:
/// `source,day,currency,orders,gross,net,reporting_currency,known_to_attribution,attributed,
/// unattributed`, then `<cause>_orders,<cause>_amount` for each cause in the order
/// `not_in_run, missing_fx, identity_unresolved, no_touch_in_window,
/// unknown_creator_or_campaign, refund_not_synced`. `gross` and `net` are in `currency` (the
/// orders' own); the attribution columns in `reporting_currency`; the amounts of
/// `not_in_run`, `missing_fx` and `refund_not_synced` in `currency`, the others in
/// `reporting_currency`.
pub fn export_reconcile_csv(
    report: &Reconciliation,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let meta = reconcile_meta(report, now_ms);
    let mut file = CsvFile::create(out, reconcile_columns(), options, &meta)?;
    for cells in reconcile_rows(report) {
        file.record(cells)?;
    }
    file.finish(options, meta)
}

/// The same rows as [`export_reconcile_csv`], header first, to any writer (the CLI's
/// `reconcile --format csv` prints them on stdout). Returns the number of data rows.
pub fn write_reconcile_csv(report: &Reconciliation, out: impl Write) -> Result<u64, ReportError> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(reconcile_columns())?;
    let mut rows = 0;
    for cells in reconcile_rows(report) {
        writer.write_record(cells)?;
        rows += 1;
    }
    writer.flush().map_err(|source| ReportError::Io {
        path: "-".into(),
        source,
    })?;
    Ok(rows)
}

/// Unresolved dead letters, newest first, as the Sources screen lists them: of one source, or of
/// every source when `source` is `None`. Columns: `dead_letter_id,source,stream,location,reason,
/// created_at`. The payload is not written: it may quote a person, and it stays in the
/// workspace for replay.
pub fn export_dead_letters_csv(
    store: &Store,
    source: Option<&str>,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let mut letters = match source {
        Some(source) => store.source_dead_letters(source, false)?,
        None => store.dead_letters(false)?,
    };
    letters.sort_by(|a, b| {
        b.created_at_ms
            .cmp(&a.created_at_ms)
            .then(b.dead_letter_id.cmp(&a.dead_letter_id))
    });
    let mut meta = base_meta("dead-letters", now_ms);
    meta.insert(
        "selection".into(),
        json!({ "source": source, "resolved": false }),
    );
    let meta = Value::Object(meta);
    let columns = [
        "dead_letter_id",
        "source",
        "stream",
        "location",
        "reason",
        "created_at",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for d in &letters {
        file.record([
            d.dead_letter_id.to_string(),
            neutralize(&d.source).into_owned(),
            neutralize(&d.stream).into_owned(),
            neutralize(&d.location).into_owned(),
            neutralize(&d.reason).into_owned(),
            instant(d.created_at_ms),
        ])?;
    }
    file.finish(options, meta)
}

/// The alert rules in force, by rule id. Columns: `rule_id,kind,subject,threshold,currency,
/// include_provisional,grace_minutes,channel,created_at` — `threshold` in major units of
/// `currency` for money rules (`creator_revenue`, `large_order`), minutes for `sync_failing`,
/// a count for `dead_letters`; `subject` empty when the rule covers every creator or source.
pub fn export_alert_rules_csv(
    store: &Store,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let meta = Value::Object(base_meta("alert-rules", now_ms));
    let columns = [
        "rule_id",
        "kind",
        "subject",
        "threshold",
        "currency",
        "include_provisional",
        "grace_minutes",
        "channel",
        "created_at",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for r in store.alert_rules()? {
        let threshold = match &r.currency {
            Some(currency) => amount_in(r.threshold, currency),
            None => r.threshold.to_string(),
        };
        file.record([
            r.rule_id.to_string(),
            neutralize(&r.kind).into_owned(),
            neutralize(r.subject.as_deref().unwrap_or("")).into_owned(),
            threshold,
            neutralize(r.currency.as_deref().unwrap_or("")).into_owned(),
            r.include_provisional.to_string(),
            r.grace_minutes.to_string(),
            neutralize(&r.channel).into_owned(),
            instant(r.created_at_ms),
        ])?;
    }
    file.finish(options, meta)
}

/// Data health per source, as `lookback health` and the Sources screen show it. Columns:
/// `source_id,name,state,last_success_at,lag_minutes,records_last_24h,usual_daily_records,
/// volume_drop,sync_runs,failed_runs,error_rate,retries,unknown_fields,schema_dead_letters,
/// unresolved_dead_letters,last_error,needs_reconnect_since,credential_expiry,
/// credential_expires_at` — `state` is `needs_reconnecting` when the platform refused the
/// credential (since `needs_reconnect_since`); `credential_expiry` is `unknown`, `never`, `ok`
/// or `soon` (expires within 7 days, or expired) with the instant in `credential_expires_at`;
/// the counts of runs, retries and schema drift cover
/// the policy's window (7 days by default, in the sidecar); `error_rate` is failed ÷ runs
/// with 2 decimals (rounded half up), empty without runs; `usual_daily_records` is empty until there are enough whole days.
pub fn export_health_csv(
    states: &[SourceHealthState],
    window_days: i64,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let mut meta = base_meta("health", now_ms);
    meta.insert("window_days".into(), json!(window_days));
    let meta = Value::Object(meta);
    let columns = [
        "source_id",
        "name",
        "state",
        "last_success_at",
        "lag_minutes",
        "records_last_24h",
        "usual_daily_records",
        "volume_drop",
        "sync_runs",
        "failed_runs",
        "error_rate",
        "retries",
        "unknown_fields",
        "schema_dead_letters",
        "unresolved_dead_letters",
        "last_error",
        "needs_reconnect_since",
        "credential_expiry",
        "credential_expires_at",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for s in states {
        file.record([
            neutralize(&s.source_id).into_owned(),
            neutralize(&s.name).into_owned(),
            s.state.as_str().to_owned(),
            s.last_success_at_ms.map(instant).unwrap_or_default(),
            s.lag_ms
                .map(|l| (l / 60_000).to_string())
                .unwrap_or_default(),
            s.records_last_24h.to_string(),
            s.usual_daily_records
                .map(|u| u.to_string())
                .unwrap_or_default(),
            s.volume_drop.to_string(),
            s.sync_runs.to_string(),
            s.failed_runs.to_string(),
            s.error_rate_text().unwrap_or_default(),
            s.retries.to_string(),
            s.unknown_fields.to_string(),
            s.schema_dead_letters.to_string(),
            s.unresolved_dead_letters.to_string(),
            neutralize(s.last_error.as_deref().unwrap_or("")).into_owned(),
            s.needs_reconnect_since_ms.map(instant).unwrap_or_default(),
            s.credential_expiry.as_str().to_owned(),
            s.credential_expiry
                .expires_at_ms()
                .map(instant)
                .unwrap_or_default(),
        ])?;
    }
    file.finish(options, meta)
}

/// Revenue per order currency, as the overview shows it. Columns: `currency,gross,refunds,
/// chargebacks,net` — in that currency; refunds and chargebacks are the counted ones (failed
/// refunds and won chargebacks take nothing off).
pub fn export_revenue_csv(
    store: &Store,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let meta = Value::Object(base_meta("revenue", now_ms));
    let columns = ["currency", "gross", "refunds", "chargebacks", "net"];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for r in store.overview()?.revenue {
        file.record([
            neutralize(&r.currency).into_owned(),
            amount_in(r.gross_minor, &r.currency),
            amount_in(r.refunds_minor, &r.currency),
            amount_in(r.chargebacks_minor, &r.currency),
            amount_in(r.net_minor, &r.currency),
        ])?;
    }
    file.finish(options, meta)
}

/// Where one source's data stands, as the overview lists it: every source that brought data,
/// connected or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub source_id: String,
    pub name: String,
    /// The connector kind; `unregistered` for data that arrived without a connected source (a
    /// CSV import, the demo).
    pub kind: String,
    /// `ok`, `stale`, `failing` or `needs_reconnecting` for a connected source (the data-health
    /// state); `imported` for the others.
    pub state: &'static str,
    /// The last successful sync, or for unregistered data the last time a record arrived.
    pub last_success_at_ms: Option<i64>,
    pub records: u64,
    pub last_error: Option<String>,
}

/// Every source with its health state at `now_ms` (the overview screen and its export share
/// this, so the badge the window shows is the state the file says).
pub fn source_statuses(store: &Store, now_ms: i64) -> Result<Vec<SourceStatus>, ReportError> {
    let registered = store.sources()?;
    let credentials = store.source_credentials()?;
    Ok(store
        .source_freshness()?
        .into_iter()
        .map(|s| {
            let state = registered
                .iter()
                .find(|r| r.source_id == s.source_id)
                .map_or("imported", |r| {
                    let credential = credentials.iter().find(|c| c.source_id == r.source_id);
                    lookback_trust::health_state(r, credential, now_ms, HealthPolicy::default())
                        .as_str()
                });
            SourceStatus {
                name: s.name.unwrap_or_else(|| s.source_id.clone()),
                kind: s.kind.unwrap_or_else(|| "unregistered".into()),
                source_id: s.source_id,
                state,
                last_success_at_ms: s.last_success_at_ms.or(s.last_received_at_ms),
                records: s.raw_event_count,
                last_error: s.last_error,
            }
        })
        .collect())
}

/// The overview's sources table. Columns: `source_id,name,kind,state,last_success_at,records,
/// last_error` — `state` as [`SourceStatus::state`].
pub fn export_sources_csv(
    statuses: &[SourceStatus],
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let meta = Value::Object(base_meta("sources", now_ms));
    let columns = [
        "source_id",
        "name",
        "kind",
        "state",
        "last_success_at",
        "records",
        "last_error",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for s in statuses {
        file.record([
            neutralize(&s.source_id).into_owned(),
            neutralize(&s.name).into_owned(),
            neutralize(&s.kind).into_owned(),
            s.state.to_owned(),
            s.last_success_at_ms.map(instant).unwrap_or_default(),
            s.records.to_string(),
            neutralize(s.last_error.as_deref().unwrap_or("")).into_owned(),
        ])?;
    }
    file.finish(options, meta)
}

#[cfg(test)]
mod tests {
    use lookback_core::attribution::Model;
    use lookback_store::{NewAlertRule, NewDeadLetter, StoreError};
    use lookback_trust::{HealthState, ReconcileOptions};

    use super::*;
    use crate::views::test_support::{NOW, run, workspace};

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
    fn reconcile_csv_is_the_screens_rows_in_their_currencies_and_the_cli_prints_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let model = Model::parse(&store.settings().unwrap().model).unwrap();
        run(&mut store, model);
        let report = lookback_trust::reconcile(
            &store,
            &ReconcileOptions {
                from_day: "2026-03-01".parse().unwrap(),
                to_day: "2026-04-30".parse().unwrap(),
                top: 5,
            },
        )
        .unwrap();
        assert!(
            !report.rows.is_empty(),
            "the workspace has orders to reconcile"
        );
        let out = dir.path().join("reconcile.csv");
        let summary = export_reconcile_csv(&report, &out, &ExportOptions::default(), NOW).unwrap();
        assert_eq!(summary.rows as usize, report.rows.len());

        let (header, rows) = read(&out);
        assert_eq!(
            header[..10],
            [
                "source",
                "day",
                "currency",
                "orders",
                "gross",
                "net",
                "reporting_currency",
                "known_to_attribution",
                "attributed",
                "unattributed",
            ]
        );
        assert_eq!(header.len(), 10 + 2 * GapCause::ALL.len());
        assert_eq!(header[10], "not_in_run_orders");
        assert_eq!(header[21], "refund_not_synced_amount");
        for (row, r) in rows.iter().zip(&report.rows) {
            assert_eq!(row[0], r.source);
            assert_eq!(row[3], r.orders.to_string());
            assert_eq!(row[4], amount_in(r.gross_minor, &r.currency));
            assert_eq!(
                row[8],
                amount_in(r.attributed_minor, &report.reporting_currency)
            );
        }
        let sidecar: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("reconcile.csv.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(sidecar["selection"]["from"], "2026-03-01");
        assert_eq!(
            sidecar["run"]["run_id"],
            json!(report.run.as_ref().unwrap().run_id)
        );

        // `lookback reconcile --format csv` prints the very same text.
        let mut printed = Vec::new();
        assert_eq!(
            write_reconcile_csv(&report, &mut printed).unwrap() as usize,
            report.rows.len()
        );
        assert_eq!(
            String::from_utf8(printed).unwrap(),
            std::fs::read_to_string(&out).unwrap()
        );
    }

    #[test]
    fn dead_letters_csv_lists_one_sources_unresolved_letters_newest_first_without_payloads() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let letter = |source: &str, reason: &str, at: i64| NewDeadLetter {
            source: source.into(),
            stream: "events".into(),
            location: format!("page {at}"),
            reason: reason.into(),
            payload: r#"{"email_sha256":"secret-ish payload"}"#.into(),
            created_at_ms: at,
        };
        store
            .write(|tx| -> Result<(), StoreError> {
                tx.insert_dead_letter(&letter("shop", "required field id is missing", 1_000))?;
                tx.insert_dead_letter(&letter("shop", "=HYPERLINK(\"x\")", 3_000))?;
                let resolved = tx.insert_dead_letter(&letter("shop", "fixed since", 2_000))?;
                tx.resolve_dead_letter(resolved, 4_000)?;
                tx.insert_dead_letter(&letter("other", "not this source", 5_000))?;
                Ok(())
            })
            .unwrap();
        let out = dir.path().join("dead-letters.csv");
        export_dead_letters_csv(&store, Some("shop"), &out, &ExportOptions::default(), NOW)
            .unwrap();
        let (header, rows) = read(&out);
        assert_eq!(
            header,
            [
                "dead_letter_id",
                "source",
                "stream",
                "location",
                "reason",
                "created_at"
            ]
        );
        let reasons: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
        assert_eq!(
            reasons,
            ["'=HYPERLINK(\"x\")", "required field id is missing"]
        );
        assert_eq!(rows[0][5], "1970-01-01T00:00:03.000Z");
        assert!(
            !std::fs::read_to_string(&out)
                .unwrap()
                .contains("secret-ish")
        );

        export_dead_letters_csv(&store, None, &out, &ExportOptions::default(), NOW).unwrap();
        assert_eq!(read(&out).1.len(), 3, "every source's unresolved letters");
    }

    #[test]
    fn alert_rules_csv_writes_money_thresholds_in_major_units() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let rule = |kind: &str, threshold: i64, currency: Option<&str>| NewAlertRule {
            kind: kind.into(),
            subject: (kind == "creator_revenue").then(|| "-c1".into()),
            threshold,
            currency: currency.map(str::to_owned),
            include_provisional: false,
            grace_minutes: 5,
            channel: "desktop".into(),
            created_at_ms: 60_000,
        };
        store
            .write(|tx| -> Result<(), StoreError> {
                tx.insert_alert_rule(&rule("creator_revenue", 12_345, Some("USD")))?;
                tx.insert_alert_rule(&rule("dead_letters", 10, None))?;
                Ok(())
            })
            .unwrap();
        let out = dir.path().join("alert-rules.csv");
        let summary = export_alert_rules_csv(&store, &out, &ExportOptions::default(), NOW).unwrap();
        assert_eq!(summary.rows, 2);
        let (header, rows) = read(&out);
        assert_eq!(
            header,
            [
                "rule_id",
                "kind",
                "subject",
                "threshold",
                "currency",
                "include_provisional",
                "grace_minutes",
                "channel",
                "created_at",
            ]
        );
        assert_eq!(rows[0][1..5], ["creator_revenue", "'-c1", "123.45", "USD"]);
        assert_eq!(rows[1][1..5], ["dead_letters", "", "10", ""]);
        assert_eq!(rows[1][8], "1970-01-01T00:01:00.000Z");
    }

    #[test]
    fn health_csv_writes_each_metric_in_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let state = SourceHealthState {
            source_id: "shop".into(),
            name: "Shop".into(),
            state: HealthState::NeedsReconnecting,
            last_success_at_ms: Some(0),
            lag_ms: Some(3_600_000),
            last_error: Some("=HTTP 500".into()),
            unresolved_dead_letters: 4,
            records_last_24h: 5,
            usual_daily_records: Some(20),
            volume_drop: true,
            sync_runs: 3,
            failed_runs: 1,
            retries: 7,
            unknown_fields: 9,
            schema_dead_letters: 2,
            needs_reconnect_since_ms: Some(60_000),
            needs_reconnect_reason: Some("HTTP 401".into()),
            credential_expiry: lookback_trust::CredentialExpiry::Soon {
                expires_at_ms: 120_000,
            },
        };
        let out = dir.path().join("health.csv");
        export_health_csv(&[state], 7, &out, &ExportOptions::default(), NOW).unwrap();
        let (header, rows) = read(&out);
        let row: std::collections::BTreeMap<&str, &str> = header
            .iter()
            .map(String::as_str)
            .zip(rows[0].iter().map(String::as_str))
            .collect();
        for (column, value) in [
            ("state", "needs_reconnecting"),
            ("needs_reconnect_since", "1970-01-01T00:01:00.000Z"),
            ("credential_expiry", "soon"),
            ("credential_expires_at", "1970-01-01T00:02:00.000Z"),
            ("last_success_at", "1970-01-01T00:00:00.000Z"),
            ("lag_minutes", "60"),
            ("records_last_24h", "5"),
            ("usual_daily_records", "20"),
            ("volume_drop", "true"),
            ("sync_runs", "3"),
            ("failed_runs", "1"),
            ("error_rate", "0.33"),
            ("retries", "7"),
            ("unknown_fields", "9"),
            ("schema_dead_letters", "2"),
            ("unresolved_dead_letters", "4"),
            ("last_error", "'=HTTP 500"),
        ] {
            assert_eq!(row[column], value, "{column}");
        }
        assert_eq!(header.len(), 19);
    }
}
