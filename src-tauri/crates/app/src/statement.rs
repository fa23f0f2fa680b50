//! Creator statements (`lookback statement` and the Creator revenue screen's Statement button):
//! the workspace's current model's run → the creator's statement for a period → a PDF and a
//! CSV beside it (`FILE.pdf`, `FILE.csv`, `FILE.csv.json`). The PDF is written to
//! `FILE.pdf.partial` and renamed into place, so a failure never leaves a half file.

use std::path::{Path, PathBuf};

use lookback_core::time::{NaiveDate, day_in_zone, parse_time_zone};
use lookback_report::export::ExportOptions;
use lookback_report::statement::{CreatorStatement, csv::statement_csv, pdf::statement_pdf};
use lookback_store::Store;

use anyhow::{Context, Result};

use crate::error::AppError;
use crate::wire as ipc;
use crate::workspace::money;

/// What a statement is asked for.
#[derive(Debug, Clone)]
pub struct StatementRequest {
    pub creator_id: String,
    /// First and last day, inclusive, in the reporting zone; `None`: the first / last day the
    /// workspace has data for.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Where the PDF goes; the CSV is written beside it with the extension `csv`.
    pub pdf_path: PathBuf,
}

/// The period of a statement: the asked days, an open end filled with the workspace's first or
/// last day of data (reporting zone).
fn period(
    store: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate)> {
    if let (Some(from), Some(to)) = (from, to) {
        return Ok((from, to));
    }
    let zone = parse_time_zone(&store.reporting_timezone()?)
        .map_err(|e| AppError::invalid("reporting_timezone", e))?;
    let (first, last) = store.activity_span_ms()?;
    let day = |at: Option<i64>| -> Result<Option<NaiveDate>> {
        Ok(at
            .map(|ms| day_in_zone(ms, zone).map_err(|e| AppError::invalid("period", e)))
            .transpose()?)
    };
    match (from.or(day(first)?), to.or(day(last)?)) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(AppError::invalid(
            "period",
            "the workspace has no data yet: give --from and --to",
        )
        .into()),
    }
}

/// The statement itself, under the run of the workspace's current model (computed if needed).
pub fn creator_statement(
    store: &mut Store,
    creator_id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now_ms: i64,
) -> Result<CreatorStatement> {
    let (from, to) = period(store, from, to)?;
    let (model, params) = lookback_engine::current_model(store)?;
    let run_id = lookback_engine::run_model(store, model, &params, now_ms)?.run_id;
    Ok(lookback_report::creator_statement(
        store, run_id, creator_id, from, to,
    )?)
}

/// The CSV written beside a statement's PDF: the same path with the extension `csv`.
pub fn csv_path_of(pdf_path: &Path) -> PathBuf {
    pdf_path.with_extension("csv")
}

/// Writes the statement's PDF and CSV; tells what it wrote and the statement's totals.
pub fn write_statement(
    store: &mut Store,
    request: &StatementRequest,
    now_ms: i64,
) -> Result<ipc::StatementWritten> {
    let statement =
        creator_statement(store, &request.creator_id, request.from, request.to, now_ms)?;
    let pdf = statement_pdf(&statement, now_ms)?;
    let pdf_path = &request.pdf_path;
    let mut partial = pdf_path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &pdf)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let csv_path = csv_path_of(pdf_path);
    if let Err(e) = statement_csv(&statement, &csv_path, &ExportOptions::default(), now_ms) {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    std::fs::rename(&partial, pdf_path)
        .with_context(|| format!("cannot write {}", pdf_path.display()))?;
    written(&statement, pdf_path, &csv_path)
}

fn written(s: &CreatorStatement, pdf: &Path, csv: &Path) -> Result<ipc::StatementWritten> {
    let c = s.currency.as_str();
    Ok(ipc::StatementWritten {
        pdf_path: pdf.display().to_string(),
        csv_path: csv.display().to_string(),
        creator_id: s.creator_id.clone(),
        display_name: s.display_name.clone(),
        from: s.from.to_string(),
        to: s.to.to_string(),
        run_id: s.run.run_id,
        model: s.run.model.clone(),
        orders: s.orders.len() as i64,
        clawbacks: s.clawbacks.len() as i64,
        settled: money(s.settled_minor, c)?,
        provisional: money(s.provisional_minor, c)?,
        clawbacks_total: money(s.clawbacks_minor, c)?,
        net: money(s.net_minor, c)?,
        costs: money(s.cost_minor, c)?,
        summary: lookback_report::statement::statement_lines(s)
            .into_iter()
            .map(|(label, figure)| ipc::StatementLine { label, figure })
            .collect(),
    })
}
