//! CSV files of every view table and of the event-level data behind them, written so that a
//! spreadsheet or a warehouse reads them without surprises.
//!
//! Format (documented for the README):
//! - RFC 4180 through the `csv` crate: UTF-8, a header row, comma-separated, fields quoted only
//!   when they need it, `\n` line ends. Column order is fixed per file and listed on each
//!   function; new columns are only ever appended.
//! - Days are `YYYY-MM-DD` (order and touch days in the reporting zone, spend and cost days as
//!   the platform reported them); instants are RFC 3339 UTC with milliseconds
//!   (`2026-03-01T12:00:00.000Z`).
//! - Amounts are decimals in major units (`1234.50`, never floats) with a `currency` column;
//!   an amount in a currency Lookback does not know is left empty. Ratios (ROAS, payback) have
//!   2 decimals and are empty where the view shows "—"; shares have 9 decimals, fractional
//!   orders and customers 4.
//! - **Formula injection**: a *text* cell (ids, names, titles, URLs, reasons) that begins with
//!   `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, so a
//!   spreadsheet shows it as text instead of running it. Numeric columns are never prefixed, so a
//!   negative amount stays a number.
//! - **Provenance**: beside `FILE.csv` a sidecar `FILE.csv.json` records what produced it — kind,
//!   columns, row count, model, parameters, run(s), selection, generation time (on by default).
//!   With `preamble`, the same facts also head the CSV as `# key: value` lines (off by default,
//!   because many readers do not skip comment lines).
//! - The file is written to `FILE.csv.partial` and renamed into place when complete, so a failed
//!   export never leaves a half file under the asked-for name.
//! - Event-level exports (credits, orders, touches, spend) stream from the store row by row and
//!   never hold the rows in memory. Identity columns (click id, customer id, email hash, person,
//!   anonymous and device ids) are written only with `include_pii`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lookback_core::money::{Currency, format_minor};
use lookback_core::time::{NaiveDate, format_instant_ms};
use lookback_store::{LoggedChange, RunOrderFilter, Store};
use serde_json::{Value, json};

use crate::ReportError;
use crate::credits::{RunInfo, format_conversions};
use crate::ratio::Ratio;
use crate::views::cac::CacView;
use crate::views::compare::CompareView;
use crate::views::creator::CreatorRevenueView;
use crate::views::provenance::Provenance;
use crate::views::roas::RoasView;
use crate::views::{CreditBasis, DayCache, order_filter, reporting_zone};

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Write identity columns in event-level exports.
    pub include_pii: bool,
    /// Head the CSV with `# key: value` lines.
    pub preamble: bool,
    /// Write `FILE.csv.json` beside the CSV.
    pub sidecar: bool,
}

impl Default for ExportOptions {
    fn default() -> ExportOptions {
        ExportOptions {
            include_pii: false,
            preamble: false,
            sidecar: true,
        }
    }
}

/// Which rows an event-level export covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventRange {
    /// First day, inclusive (reporting zone for orders and touches, the row's own day for spend).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
    /// Only settled orders (credits, and orders of a run).
    pub settled_only: bool,
    /// Which day selects a credit: its order's (cash) or its touch's (accrual). Orders,
    /// touches and spend are always selected by their own day.
    pub basis: CreditBasis,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub sidecar: Option<PathBuf>,
    /// Data rows, header not counted.
    pub rows: u64,
    pub columns: Vec<String>,
}

/// The text a cell holds once neutralized against formula injection (see the module docs).
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

pub(crate) fn instant(at_ms: i64) -> String {
    format_instant_ms(at_ms).unwrap_or_default()
}

/// Formats instants and their reporting-zone days for streamed rows without a calendar
/// computation per row: both are remembered per quarter hour of UTC (every zone offset in use
/// is a multiple of 15 minutes, and a remembered day is only used when its range holds the
/// instant, so an odd historical offset costs a recomputation, never a wrong day).
struct RowClock {
    days: DayCache,
    /// quarter hour → (UTC `YYYY-MM-DDTHH:` prefix start ms, prefix, zone day start, end, day text)
    cache: std::collections::HashMap<i64, (i64, String, i64, i64, String)>,
}

impl RowClock {
    fn new(zone: lookback_core::time::Tz) -> RowClock {
        RowClock {
            days: DayCache::new(zone),
            cache: std::collections::HashMap::new(),
        }
    }

    /// (RFC 3339 instant, day in the reporting zone).
    fn format(&mut self, at_ms: i64) -> Result<(String, &str), ReportError> {
        const QUARTER: i64 = 900_000;
        let slot = at_ms.div_euclid(QUARTER);
        let fresh = match self.cache.get(&slot) {
            Some((_, _, start, end, _)) => !(at_ms >= *start && at_ms < *end),
            None => true,
        };
        if fresh {
            let hour_start = at_ms.div_euclid(3_600_000) * 3_600_000;
            let full = instant(hour_start);
            // `2026-03-01T12:` — everything up to the minutes.
            let prefix = full.get(..14).unwrap_or_default().to_owned();
            let day = self.days.day(at_ms)?;
            let (start, end) = lookback_core::time::day_range_ms(day, self.days.zone())?;
            self.cache
                .insert(slot, (hour_start, prefix, start, end, day.to_string()));
        }
        let (hour_start, prefix, _, _, day) = &self.cache[&slot];
        let within = at_ms - hour_start;
        let (minutes, rest) = (within / 60_000, within % 60_000);
        let text = format!(
            "{prefix}{minutes:02}:{:02}.{:03}Z",
            rest / 1000,
            rest % 1000
        );
        Ok((text, day.as_str()))
    }
}

pub(crate) fn amount(minor: i64, currency: Option<Currency>) -> String {
    currency.map(|c| format_minor(minor, c)).unwrap_or_default()
}

pub(crate) fn ratio(r: Option<&Ratio>) -> String {
    r.map(|r| r.to_decimal_string(2)).unwrap_or_default()
}

/// Parts per `10^places` as a decimal with `places` places (exact, no rounding).
pub(crate) fn fixed(value: i64, places: u32) -> String {
    let scale = 10_i64.pow(places);
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale as u64,
        magnitude % scale as u64,
        width = places as usize
    )
}

fn day_text(day: Option<NaiveDate>) -> Value {
    day.map(|d| Value::String(d.to_string()))
        .unwrap_or(Value::Null)
}

fn run_json(p: &Provenance) -> Value {
    json!({
        "run_id": p.run_id,
        "model": p.model,
        "parameters": serde_json::from_str::<Value>(&p.parameters).unwrap_or(Value::String(p.parameters.clone())),
        "finished_at": p.run_finished_at_ms.map(instant),
        "reporting_currency": p.reporting_currency,
        "input_watermark": p.input_watermark,
    })
}

pub(crate) fn run_info_json(run: &RunInfo) -> Value {
    json!({
        "run_id": run.run_id,
        "model": run.model,
        "parameters": serde_json::from_str::<Value>(&run.parameters).unwrap_or(Value::String(run.parameters.clone())),
        "finished_at": run.finished_at_ms.map(instant),
        "reporting_currency": run.reporting_currency.code(),
        "input_watermark": run.input_watermark,
    })
}

fn selection_json(p: &Provenance) -> Value {
    let mut selection = json!({ "from": day_text(p.from), "to": day_text(p.to), "settled_only": p.settled_only, "basis": p.basis.as_str() });
    if let Some(shift) = &p.basis_shift {
        selection["basis_shift"] = json!({
            "from_later_orders_minor": shift.from_later_orders_minor,
            "to_earlier_touches_minor": shift.to_earlier_touches_minor,
        });
    }
    selection
}

/// A CSV file being written: to `FILE.partial` first, renamed into place by [`CsvFile::finish`].
pub(crate) struct CsvFile {
    path: PathBuf,
    partial: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    columns: Vec<String>,
    rows: u64,
}

impl CsvFile {
    /// [`CsvFile::create`] with a fixed header.
    pub(crate) fn with_columns(
        path: &Path,
        columns: &[&str],
        options: &ExportOptions,
        meta: &Value,
    ) -> Result<CsvFile, ReportError> {
        let columns = columns.iter().map(|c| (*c).to_owned()).collect();
        CsvFile::create(path, columns, options, meta)
    }

    fn create(
        path: &Path,
        columns: Vec<String>,
        options: &ExportOptions,
        meta: &Value,
    ) -> Result<CsvFile, ReportError> {
        let io = |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&partial).map_err(io)?);
        if options.preamble {
            // Keys in alphabetical order (serde_json's map), nulls left out.
            for (key, value) in meta
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
            {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                // One physical line per key: a newline inside a value would end the comment.
                writeln!(out, "# {key}: {}", text.replace(['\n', '\r'], " ")).map_err(io)?;
            }
        }
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        writer.write_record(&columns)?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            partial,
            writer,
            columns,
            rows: 0,
        })
    }

    /// Writes one record whose cells are already formatted (text cells neutralized by the caller).
    pub(crate) fn record<I, S>(&mut self, cells: I) -> Result<(), ReportError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.writer.write_record(cells)?;
        self.rows += 1;
        Ok(())
    }

    pub(crate) fn finish(
        self,
        options: &ExportOptions,
        mut meta: Value,
    ) -> Result<ExportSummary, ReportError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReportError::Io { path, source }
        };
        let mut out = self.writer.into_inner().map_err(|e| ReportError::Io {
            path: self.partial.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        out.flush().map_err(io(&self.partial))?;
        out.get_ref().sync_all().map_err(io(&self.partial))?;
        drop(out);
        std::fs::rename(&self.partial, &self.path).map_err(io(&self.path))?;
        let sidecar = if options.sidecar {
            let mut sidecar = self.path.as_os_str().to_owned();
            sidecar.push(".json");
            let sidecar = PathBuf::from(sidecar);
            if let Some(object) = meta.as_object_mut() {
                object.insert(
                    "file".into(),
                    Value::String(
                        self.path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ),
                );
                object.insert(
                    "format".into(),
                    Value::String("CSV, RFC 4180, UTF-8, header row".into()),
                );
                object.insert("columns".into(), json!(self.columns));
                object.insert("rows".into(), json!(self.rows));
                object.insert(
                    "formula_neutralization".into(),
                    Value::String(
                        "text cells beginning with = + - @ tab or CR are prefixed with '".into(),
                    ),
                );
            }
            let text = serde_json::to_string_pretty(&meta).unwrap_or_default();
            std::fs::write(&sidecar, text + "\n").map_err(io(&sidecar))?;
            Some(sidecar)
        } else {
            None
        };
        Ok(ExportSummary {
            path: self.path,
            sidecar,
            rows: self.rows,
            columns: self.columns,
        })
    }
}

/// Puts a run's canonical `parameters` in an export's provenance, with the touches it read in
/// words beside them (`touches`: "bot touches excluded"…).
pub(crate) fn insert_parameters(meta: &mut serde_json::Map<String, Value>, parameters: &str) {
    meta.insert("parameters".into(), Value::String(parameters.to_owned()));
    if let Some(words) = crate::render::touches_in_words(parameters) {
        meta.insert("touches".into(), Value::String(words.to_owned()));
    }
}

pub(crate) fn base_meta(kind: &str, now_ms: i64) -> serde_json::Map<String, Value> {
    let mut meta = serde_json::Map::new();
    meta.insert("lookback_export".into(), Value::String(kind.to_owned()));
    meta.insert("generated_at".into(), Value::String(instant(now_ms)));
    meta
}

fn view_meta(kind: &str, now_ms: i64, p: &Provenance, extra: Value) -> Value {
    let mut meta = base_meta(kind, now_ms);
    meta.insert("model".into(), Value::String(p.model.clone()));
    insert_parameters(&mut meta, &p.parameters);
    meta.insert("basis".into(), Value::String(p.basis.as_str().to_owned()));
    meta.insert("run".into(), run_json(p));
    meta.insert("selection".into(), selection_json(p));
    if let Value::Object(extra) = extra {
        meta.extend(extra);
    }
    Value::Object(meta)
}

/// The ROAS table. Columns: `<by>,label,bucket,attributed_revenue,ad_spend,creator_cost,cost,
/// roas,orders_credited,provisional_revenue,missing_fx_cost_rows,currency` — `<by>` is the key's
/// name (`creator`, `campaign`, `channel`, `content`, `platform`); `bucket` is empty unless the
/// view is bucketed; totals are in the sidecar, not a row, so summing a column stays right.
pub fn export_roas_csv(
    view: &RoasView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let totals = &view.totals;
    let meta = view_meta(
        "roas",
        now_ms,
        &view.provenance,
        json!({
            "by": view.query.by.as_str(),
            "bucket": view.query.bucket.map(|b| b.as_str()),
            "currency": view.currency,
            "totals": {
                "attributed_revenue": amount(totals.attributed_revenue_minor, currency),
                "cost": amount(totals.cost_minor, currency),
                "roas": ratio(totals.roas.as_ref()),
            },
        }),
    );
    let columns = [
        view.query.by.as_str(),
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
        "currency",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for row in &view.rows {
        file.record([
            neutralize(&row.key).into_owned(),
            neutralize(&row.label).into_owned(),
            row.bucket.clone().unwrap_or_default(),
            amount(row.attributed_revenue_minor, currency),
            amount(row.ad_spend_minor, currency),
            amount(row.creator_cost_minor, currency),
            amount(row.cost_minor, currency),
            ratio(row.roas.as_ref()),
            format_conversions(i128::from(row.orders_credited_ppb)),
            amount(row.provisional_revenue_minor, currency),
            row.missing_fx_cost_rows.to_string(),
            view.currency.clone(),
        ])?;
    }
    file.finish(options, meta)
}

/// The CAC table. Columns: `<by>,label,cost,ad_spend,creator_cost,new_customers,cac,payback_30,
/// payback_60,payback_90,payback_30_customers,payback_60_customers,payback_90_customers,
/// payback_windows_open,currency` — `cac` and paybacks empty where the view shows "—"; each
/// payback covers the `payback_N_customers` of `new_customers` whose window has closed;
/// `payback_windows_open` lists the windows still open for some of them as `60;90`.
pub fn export_cac_csv(
    view: &CacView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let meta = view_meta(
        "cac",
        now_ms,
        &view.provenance,
        json!({
            "by": view.query.by.as_str(),
            "currency": view.currency,
            "payback_judged_at": instant(view.now_ms),
            "totals": {
                "cost": amount(view.totals.cost_minor, currency),
                "new_customers": format_conversions(i128::from(view.totals.new_customers_ppb)),
                "cac": view.totals.cac_minor.map(|c| amount(c, currency)),
            },
        }),
    );
    let columns = [
        view.query.by.as_str(),
        "label",
        "cost",
        "ad_spend",
        "creator_cost",
        "new_customers",
        "cac",
        "payback_30",
        "payback_60",
        "payback_90",
        "payback_30_customers",
        "payback_60_customers",
        "payback_90_customers",
        "payback_windows_open",
        "currency",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for row in &view.rows {
        let open: Vec<String> = row
            .payback_windows_open
            .iter()
            .map(u32::to_string)
            .collect();
        file.record([
            neutralize(&row.key).into_owned(),
            neutralize(&row.label).into_owned(),
            amount(row.cost_minor, currency),
            amount(row.ad_spend_minor, currency),
            amount(row.creator_cost_minor, currency),
            format_conversions(i128::from(row.new_customers_ppb)),
            row.cac_minor
                .map(|c| amount(c, currency))
                .unwrap_or_default(),
            ratio(row.payback_30.as_ref()),
            ratio(row.payback_60.as_ref()),
            ratio(row.payback_90.as_ref()),
            format_conversions(i128::from(row.payback_customers_ppb[0])),
            format_conversions(i128::from(row.payback_customers_ppb[1])),
            format_conversions(i128::from(row.payback_customers_ppb[2])),
            open.join(";"),
            view.currency.clone(),
        ])?;
    }
    file.finish(options, meta)
}

/// The model comparison. Columns: `<by>,label,revenue_run<ID>_<model>` (one per run, in the
/// order compared), `spread,spread_ratio,currency`.
pub fn export_compare_csv(
    view: &CompareView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let mut meta = base_meta("compare", now_ms);
    meta.insert("by".into(), Value::String(view.by.as_str().to_owned()));
    meta.insert(
        "models".into(),
        Value::String(
            view.models
                .iter()
                .map(|m| m.model.clone())
                .collect::<Vec<_>>()
                .join(","),
        ),
    );
    meta.insert(
        "runs".into(),
        Value::Array(view.models.iter().map(run_json).collect()),
    );
    if let Some(first) = view.models.first() {
        meta.insert(
            "basis".into(),
            Value::String(first.basis.as_str().to_owned()),
        );
        meta.insert("selection".into(), selection_json(first));
        // Every compared run reads the same touches.
        if let Some(words) = crate::render::touches_in_words(&first.parameters) {
            meta.insert("touches".into(), Value::String(words.to_owned()));
        }
    }
    meta.insert("currency".into(), Value::String(view.currency.clone()));
    let meta = Value::Object(meta);
    let mut columns = vec![view.by.as_str().to_owned(), "label".to_owned()];
    columns.extend(
        view.models
            .iter()
            .map(|m| format!("revenue_run{}_{}", m.run_id, m.model)),
    );
    columns.extend(["spread", "spread_ratio", "currency"].map(str::to_owned));
    let mut file = CsvFile::create(out, columns, options, &meta)?;
    for row in &view.rows {
        let mut cells = vec![
            neutralize(&row.key).into_owned(),
            neutralize(&row.label).into_owned(),
        ];
        cells.extend(row.revenue_minor.iter().map(|r| amount(*r, currency)));
        cells.push(amount(row.spread_minor, currency));
        cells.push(ratio(row.spread_ratio.as_ref()));
        cells.push(view.currency.clone());
        file.record(cells)?;
    }
    file.finish(options, meta)
}

fn creator_meta(kind: &str, view: &CreatorRevenueView, now_ms: i64) -> Value {
    let currency = Currency::parse(&view.currency).ok();
    view_meta(
        kind,
        now_ms,
        &view.provenance,
        json!({
            "creator_id": view.creator_id,
            "creator": view.display_name,
            "currency": view.currency,
            "totals": {
                "gross": amount(view.gross_minor, currency),
                "refunds": amount(view.refunds_minor, currency),
                "net": amount(view.net_minor, currency),
                "settled": amount(view.settled_minor, currency),
                "provisional": amount(view.provisional_minor, currency),
            },
        }),
    )
}

/// A creator's content. Columns: `content_id,title,kind,url,attributed_revenue,orders_credited,
/// currency`.
pub fn export_creator_content_csv(
    view: &CreatorRevenueView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let meta = creator_meta("creator-content", view, now_ms);
    let columns = [
        "content_id",
        "title",
        "kind",
        "url",
        "attributed_revenue",
        "orders_credited",
        "currency",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for line in &view.content {
        file.record([
            neutralize(&line.content_id).into_owned(),
            neutralize(&line.title).into_owned(),
            neutralize(&line.kind).into_owned(),
            neutralize(line.url.as_deref().unwrap_or("")).into_owned(),
            amount(line.attributed_revenue_minor, currency),
            format_conversions(i128::from(line.orders_credited_ppb)),
            view.currency.clone(),
        ])?;
    }
    file.finish(options, meta)
}

/// The orders a creator earned credit on. Columns: `order_id,occurred_at,share,credited_revenue,
/// credited_refunds,order_gross,order_net,order_refunds,provisional,currency` — `share` the
/// creator's share of the order (9 decimals), `order_*` the whole order in the reporting currency.
pub fn export_creator_orders_csv(
    view: &CreatorRevenueView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let meta = creator_meta("creator-orders", view, now_ms);
    let columns = [
        "order_id",
        "occurred_at",
        "share",
        "credited_revenue",
        "credited_refunds",
        "order_gross",
        "order_net",
        "order_refunds",
        "provisional",
        "currency",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for o in &view.orders {
        file.record([
            neutralize(&o.order_id).into_owned(),
            instant(o.occurred_at_ms),
            fixed(o.share_ppb, 9),
            amount(o.credited_revenue_minor, currency),
            amount(o.credited_refunds_minor, currency),
            o.gross_minor_reporting
                .map(|g| amount(g, currency))
                .unwrap_or_default(),
            amount(o.net_minor, currency),
            amount(o.refunded_minor, currency),
            o.provisional.to_string(),
            view.currency.clone(),
        ])?;
    }
    file.finish(options, meta)
}

/// The model log's columns (`lookback model log --format csv` and `lookback export model-log`).
/// A change of traffic rules fills `from_model`/`to_model` with `traffic-rules-vN` and
/// `parameters_after` with what changed in words; `kind` says which it is.
pub const MODEL_LOG_COLUMNS: [&str; 9] = [
    "change_id",
    "changed_at",
    "changed_by",
    "from_model",
    "to_model",
    "parameters_before",
    "parameters_after",
    "reason",
    "kind",
];

/// One entry of the model log as its CSV row (not yet neutralized), in [`MODEL_LOG_COLUMNS`].
pub fn model_log_cells(change: &LoggedChange) -> [String; 9] {
    match change {
        LoggedChange::Model(c) => [
            c.change_id.to_string(),
            instant(c.changed_at_ms),
            c.changed_by.clone(),
            c.from_model.clone().unwrap_or_default(),
            c.to_model.clone(),
            c.parameters_before.clone().unwrap_or_default(),
            c.parameters_after.clone(),
            c.reason.clone(),
            "model".to_owned(),
        ],
        LoggedChange::TrafficRules(c) => [
            String::new(),
            instant(c.changed_at_ms),
            c.changed_by.clone(),
            format!("traffic-rules-v{}", c.from_version),
            format!("traffic-rules-v{}", c.to_version),
            String::new(),
            c.changes.join("; "),
            c.reason.clone(),
            "traffic_rules".to_owned(),
        ],
    }
}

/// The model log — changes of model and of traffic rules — newest first, in
/// [`MODEL_LOG_COLUMNS`].
pub fn export_model_log_csv(
    store: &Store,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let settings = store.settings()?;
    let mut meta = base_meta("model-log", now_ms);
    meta.insert("model".into(), Value::String(settings.model));
    meta.insert(
        "parameters".into(),
        Value::String(settings.model_parameters),
    );
    let meta = Value::Object(meta);
    let mut file = CsvFile::with_columns(out, &MODEL_LOG_COLUMNS, options, &meta)?;
    for change in store.change_log()? {
        file.record(model_log_cells(&change).map(|cell| neutralize(&cell).into_owned()))?;
    }
    file.finish(options, meta)
}

const PII_COLUMNS: [&str; 6] = [
    "click_id",
    "customer_id",
    "email_sha256",
    "person_id",
    "anonymous_id",
    "device_id",
];

fn event_meta(
    kind: &str,
    now_ms: i64,
    run: Option<&RunInfo>,
    range: &EventRange,
    options: &ExportOptions,
) -> Value {
    let mut meta = base_meta(kind, now_ms);
    if let Some(run) = run {
        meta.insert("model".into(), Value::String(run.model.clone()));
        insert_parameters(&mut meta, &run.parameters);
        meta.insert("run".into(), run_info_json(run));
    }
    if kind == "credits" {
        meta.insert(
            "basis".into(),
            Value::String(range.basis.as_str().to_owned()),
        );
    }
    meta.insert(
        "selection".into(),
        json!({ "from": day_text(range.from), "to": day_text(range.to), "settled_only": range.settled_only, "basis": range.basis.as_str() }),
    );
    meta.insert("include_pii".into(), Value::Bool(options.include_pii));
    Value::Object(meta)
}

/// A writer of one CSV record field by field, so a streamed row allocates nothing per cell.
fn field(writer: &mut csv::Writer<BufWriter<File>>, text: &str) -> Result<(), ReportError> {
    writer.write_field(neutralize(text).as_bytes())?;
    Ok(())
}

fn opt_field(
    writer: &mut csv::Writer<BufWriter<File>>,
    text: Option<&str>,
) -> Result<(), ReportError> {
    field(writer, text.unwrap_or(""))
}

/// Every credit of a run (order × touch), streamed. Columns: `run_id,order_id,order_at,order_day,
/// touch_id,touch_at,channel,creator_id,campaign_id,content_id,share,revenue,currency,join_kind,
/// confidence,provisional` — `share` the touch's share of the order (9 decimals, the shares of an
/// order sum to exactly 1), `revenue` its credited net revenue (the revenues of an order sum to
/// exactly its net), `confidence` 1.000000 unless the join is probabilistic.
pub fn export_credits_csv(
    store: &Store,
    run_id: i64,
    range: &EventRange,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, range.from, range.to, range.settled_only, range.basis)?;
    let meta = event_meta("credits", now_ms, Some(&run), range, options);
    let columns = [
        "run_id",
        "order_id",
        "order_at",
        "order_day",
        "touch_id",
        "touch_at",
        "channel",
        "creator_id",
        "campaign_id",
        "content_id",
        "share",
        "revenue",
        "currency",
        "join_kind",
        "confidence",
        "provisional",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    let currency = run.reporting_currency;
    let run_text = run_id.to_string();
    let mut clock = RowClock::new(zone);
    let mut rows = 0u64;
    store.for_each_export_credit(run_id, &filter, |c| -> Result<(), ReportError> {
        let w = &mut file.writer;
        w.write_field(&run_text)?;
        field(w, c.order_id)?;
        let (at, day) = clock.format(c.order_at_ms)?;
        w.write_field(at)?;
        w.write_field(day)?;
        field(w, c.touch_id)?;
        w.write_field(clock.format(c.touch_at_ms)?.0)?;
        field(w, c.channel)?;
        opt_field(w, c.creator_id)?;
        opt_field(w, c.campaign_id)?;
        opt_field(w, c.content_id)?;
        w.write_field(fixed(c.share_ppb, 9))?;
        w.write_field(format_minor(c.revenue_minor, currency))?;
        w.write_field(currency.code())?;
        w.write_field(c.join_kind)?;
        w.write_field(fixed(c.confidence_ppm, 6))?;
        w.write_field(if c.provisional { "true" } else { "false" })?;
        w.write_record(None::<&[u8]>)?;
        rows += 1;
        Ok(())
    })?;
    file.rows = rows;
    file.finish(options, meta)
}

/// Orders placed in the range, streamed in time order, with what run `run_id` (if any) made of
/// them. Columns: `order_id,source,occurred_at,order_day,status,gross,refunds,chargebacks,
/// order_currency,outcome,net,net_currency,provisional,join_kind`, then with `include_pii`
/// `click_id,customer_id,email_sha256,person_id,anonymous_id,device_id`. `refunds` and
/// `chargebacks` are the counted ones booked in the order's currency; `net` is in `net_currency`
/// (the reporting currency, or the order's own when the run had no rate); run columns are empty
/// without a run.
pub fn export_orders_csv(
    store: &Store,
    run_id: Option<i64>,
    range: &EventRange,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let run = run_id
        .map(|id| RunInfo::load(store, id).map(|(run, _)| run))
        .transpose()?;
    let zone = reporting_zone(store)?;
    // Orders are selected by their own day whatever the basis: the basis dates credits.
    let filter = order_filter(
        zone,
        range.from,
        range.to,
        range.settled_only,
        CreditBasis::Cash,
    )?;
    let meta = event_meta("orders", now_ms, run.as_ref(), range, options);
    let mut columns: Vec<String> = [
        "order_id",
        "source",
        "occurred_at",
        "order_day",
        "status",
        "gross",
        "refunds",
        "chargebacks",
        "order_currency",
        "outcome",
        "net",
        "net_currency",
        "provisional",
        "join_kind",
    ]
    .map(str::to_owned)
    .to_vec();
    if options.include_pii {
        columns.extend(PII_COLUMNS.map(str::to_owned));
    }
    let mut file = CsvFile::create(out, columns, options, &meta)?;
    let reporting = run.as_ref().map(|r| r.reporting_currency);
    let mut clock = RowClock::new(zone);
    let mut rows = 0u64;
    store.for_each_export_order(run_id, &filter, |o| -> Result<(), ReportError> {
        let order_currency = Currency::parse(o.currency).ok();
        let net_currency = match o.outcome {
            Some("missing_fx") => order_currency,
            Some(_) => reporting,
            None => None,
        };
        let w = &mut file.writer;
        field(w, o.order_id)?;
        field(w, o.source)?;
        let (at, day) = clock.format(o.occurred_at_ms)?;
        w.write_field(at)?;
        w.write_field(day)?;
        field(w, o.status)?;
        w.write_field(amount(o.gross_minor, order_currency))?;
        w.write_field(amount(o.refunds_minor, order_currency))?;
        w.write_field(amount(o.chargebacks_minor, order_currency))?;
        field(w, o.currency)?;
        opt_field(w, o.outcome)?;
        w.write_field(
            o.net_minor
                .map(|n| amount(n, net_currency))
                .unwrap_or_default(),
        )?;
        w.write_field(
            net_currency
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
        )?;
        w.write_field(o.provisional.map(|p| p.to_string()).unwrap_or_default())?;
        opt_field(w, o.join_kind)?;
        if options.include_pii {
            for value in [
                o.click_id,
                o.customer_id,
                o.email_sha256,
                o.person_id,
                o.anonymous_id,
                o.device_id,
            ] {
                opt_field(w, value)?;
            }
        }
        w.write_record(None::<&[u8]>)?;
        rows += 1;
        Ok(())
    })?;
    file.rows = rows;
    file.finish(options, meta)
}

/// Touches of the range (reporting zone), streamed in time order. Columns: `touch_id,source,
/// occurred_at,touch_day,channel,touch_type,creator_id,campaign_id,ad_id,content_id`, then with
/// `include_pii` `click_id,customer_id,email_sha256,person_id,anonymous_id,device_id`.
pub fn export_touches_csv(
    store: &Store,
    range: &EventRange,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let zone = reporting_zone(store)?;
    let filter: RunOrderFilter =
        order_filter(zone, range.from, range.to, false, CreditBasis::Cash)?;
    let meta = event_meta("touches", now_ms, None, range, options);
    let mut columns: Vec<String> = [
        "touch_id",
        "source",
        "occurred_at",
        "touch_day",
        "channel",
        "touch_type",
        "creator_id",
        "campaign_id",
        "ad_id",
        "content_id",
    ]
    .map(str::to_owned)
    .to_vec();
    if options.include_pii {
        columns.extend(PII_COLUMNS.map(str::to_owned));
    }
    let mut file = CsvFile::create(out, columns, options, &meta)?;
    let mut clock = RowClock::new(zone);
    let mut rows = 0u64;
    store.for_each_export_touch(
        filter.from_at_ms,
        filter.until_at_ms,
        |t| -> Result<(), ReportError> {
            let w = &mut file.writer;
            field(w, t.touch_id)?;
            field(w, t.source)?;
            let (at, day) = clock.format(t.occurred_at_ms)?;
            w.write_field(at)?;
            w.write_field(day)?;
            field(w, t.channel)?;
            field(w, t.touch_type)?;
            for value in [t.creator_id, t.campaign_id, t.ad_id, t.content_id] {
                opt_field(w, value)?;
            }
            if options.include_pii {
                for value in [
                    t.click_id,
                    t.customer_id,
                    t.email_sha256,
                    t.person_id,
                    t.anonymous_id,
                    t.device_id,
                ] {
                    opt_field(w, value)?;
                }
            }
            w.write_record(None::<&[u8]>)?;
            rows += 1;
            Ok(())
        },
    )?;
    file.rows = rows;
    file.finish(options, meta)
}

/// Ad spend rows of the range (their own day, the ad account's zone), streamed. Columns: `day,
/// account_timezone,platform,account_id,campaign_id,ad_id,channel,creator_id,spend,currency,
/// impressions,clicks,source` — `spend` in the account's `currency`, as reported.
pub fn export_spend_csv(
    store: &Store,
    range: &EventRange,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    if let (Some(from), Some(to)) = (range.from, range.to)
        && from > to
    {
        return Err(ReportError::InvalidRange {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let meta = event_meta("spend", now_ms, None, range, options);
    let columns = [
        "day",
        "account_timezone",
        "platform",
        "account_id",
        "campaign_id",
        "ad_id",
        "channel",
        "creator_id",
        "spend",
        "currency",
        "impressions",
        "clicks",
        "source",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    let from = range.from.map(|d| d.to_string());
    let to = range.to.map(|d| d.to_string());
    let mut rows = 0u64;
    store.for_each_export_spend(
        from.as_deref(),
        to.as_deref(),
        |s| -> Result<(), ReportError> {
            let w = &mut file.writer;
            w.write_field(s.day)?;
            field(w, s.account_timezone)?;
            field(w, s.platform)?;
            field(w, s.account_id)?;
            field(w, s.campaign_id)?;
            field(w, s.ad_id)?;
            field(w, s.channel)?;
            opt_field(w, s.creator_id)?;
            w.write_field(amount(s.spend_minor, Currency::parse(s.currency).ok()))?;
            field(w, s.currency)?;
            w.write_field(s.impressions.map(|n| n.to_string()).unwrap_or_default())?;
            w.write_field(s.clicks.map(|n| n.to_string()).unwrap_or_default())?;
            field(w, s.source)?;
            w.write_record(None::<&[u8]>)?;
            rows += 1;
            Ok(())
        },
    )?;
    file.rows = rows;
    file.finish(options, meta)
}

mod cohorts;
pub use cohorts::export_cohorts_csv;

mod tables;
pub use tables::{
    SourceStatus, export_alert_rules_csv, export_dead_letters_csv, export_health_csv,
    export_reconcile_csv, export_revenue_csv, export_sources_csv, source_statuses,
    write_reconcile_csv,
};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn row_clock_matches_the_calendar_in_odd_zones() {
        for zone in [
            "UTC",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/St_Johns",
            "Europe/Berlin",
        ] {
            let tz = lookback_core::time::parse_time_zone(zone).unwrap();
            let mut clock = RowClock::new(tz);
            // Every 7 minutes and 13 seconds over three days, in a shuffled order.
            let start = 1_772_323_200_000_i64;
            let mut instants: Vec<i64> = (0..600).map(|i| start + i * 433_000).collect();
            instants.reverse();
            instants.rotate_left(217);
            for at in instants {
                let (text, day) = clock.format(at).unwrap();
                assert_eq!(text, instant(at));
                assert_eq!(
                    day,
                    lookback_core::time::day_in_zone(at, tz)
                        .unwrap()
                        .to_string(),
                    "{zone} {text}"
                );
            }
        }
    }
}
