//! Every CSV export, for the window and the CLI alike: one [`ExportTable`] names the table (its
//! names are `lookback export`'s and the window's), one [`export`] writes it for a
//! [`ViewSelection`]. The CLI's `lookback export …` and the window's Export CSV buttons both
//! reach [`export`]; neither decides anything about a table on its own.

use std::path::PathBuf;

use anyhow::Result;
use lookback_report::{self as report, ExportOptions, ExportSummary};
use lookback_store::Store;

use super::selection::{ViewSelection, run_for};

pub use crate::wire::ExportTable;

/// Which of a creator's tables [`ExportTable::Creator`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CreatorTable {
    /// Its content, with the revenue credited to each piece.
    #[default]
    Content,
    /// Its orders, with each order's share.
    Orders,
}

/// One export: the table, what it is of, how it is written, and where.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub table: ExportTable,
    pub selection: ViewSelection,
    /// Which creator table `creator` writes.
    pub creator_table: CreatorTable,
    /// The source whose dead letters `dead-letters` writes, by name or id (or the label dead
    /// letters carry, a CSV import's say); `None`: every source's.
    pub source: Option<String>,
    pub options: ExportOptions,
    pub path: PathBuf,
}

/// Writes `request`'s table (and its sidecar, when asked) and says how many rows went where.
/// Tables of a run run the selection's model (or reuse its cached run); the comparison runs
/// [`super::selection::compared_models`].
pub fn export(store: &mut Store, request: &ExportRequest, now_ms: i64) -> Result<ExportSummary> {
    let sel = &request.selection;
    let out = request.path.as_path();
    let options = &request.options;
    Ok(match request.table {
        ExportTable::Roas => report::export_roas_csv(
            &super::roas_report(store, sel, now_ms)?,
            out,
            options,
            now_ms,
        )?,
        ExportTable::Cac => report::export_cac_csv(
            &super::cac_report(store, sel, now_ms)?,
            out,
            options,
            now_ms,
        )?,
        ExportTable::Cohorts => report::export_cohorts_csv(
            &super::cohort_report(store, sel, now_ms)?,
            out,
            options,
            now_ms,
        )?,
        ExportTable::Compare => {
            let view = super::compare_report(store, sel, now_ms)?;
            report::export_compare_csv(&view, out, options, now_ms)?
        }
        ExportTable::Creator | ExportTable::CreatorContent => {
            let view = super::creator_report(store, sel, now_ms)?;
            match (request.table, request.creator_table) {
                (ExportTable::Creator, CreatorTable::Orders) => {
                    report::export_creator_orders_csv(&view, out, options, now_ms)?
                }
                _ => report::export_creator_content_csv(&view, out, options, now_ms)?,
            }
        }
        ExportTable::ModelLog => report::export_model_log_csv(store, out, options, now_ms)?,
        ExportTable::Credits => {
            let run_id = run_for(store, sel, now_ms)?;
            report::export_credits_csv(store, run_id, &sel.range(), out, options, now_ms)?
        }
        ExportTable::Orders => {
            let run_id = run_for(store, sel, now_ms)?;
            report::export_orders_csv(store, Some(run_id), &sel.range(), out, options, now_ms)?
        }
        ExportTable::Touches => {
            report::export_touches_csv(store, &sel.range(), out, options, now_ms)?
        }
        ExportTable::Spend => report::export_spend_csv(store, &sel.range(), out, options, now_ms)?,
        ExportTable::Reconcile => {
            let r = super::reconcile_report(store, sel, None, now_ms)?;
            report::export_reconcile_csv(&r, out, options, now_ms)?
        }
        ExportTable::DeadLetters => {
            // A registered source by name or id; otherwise the label as dead letters carry it.
            let source = request.source.as_deref().map(|name| {
                lookback_sync::find_source(store, name)
                    .map(|s| s.source_id)
                    .unwrap_or_else(|_| name.to_owned())
            });
            report::export_dead_letters_csv(store, source.as_deref(), out, options, now_ms)?
        }
        ExportTable::AlertRules => report::export_alert_rules_csv(store, out, options, now_ms)?,
        ExportTable::Health => {
            let policy = lookback_trust::HealthPolicy::default();
            let states = lookback_trust::source_health_states(store, now_ms, policy)?;
            report::export_health_csv(&states, policy.window_ms / 86_400_000, out, options, now_ms)?
        }
        ExportTable::Revenue => report::export_revenue_csv(store, out, options, now_ms)?,
        ExportTable::Sources => {
            let statuses = report::source_statuses(store, now_ms)?;
            report::export_sources_csv(&statuses, out, options, now_ms)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::ExportTable;

    /// The window sends the table's serde name, the CLI takes its clap name: one spelling.
    #[test]
    fn the_window_and_the_cli_spell_every_table_alike() {
        for table in <ExportTable as clap::ValueEnum>::value_variants() {
            let serde_name = serde_json::to_value(table).unwrap();
            assert_eq!(serde_name, serde_json::Value::String(table.name()));
        }
    }
}
