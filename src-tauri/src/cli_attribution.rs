//! The attribution commands of the CLI: `lookback --db FILE model show|set|log` and
//! `lookback --db FILE report credits|weights`. Each parses its flags, calls one lookback-app
//! job (`lookback_app::attribution`, `models::change_model`), and prints; the system clock is
//! read here and only here, then passed down.
//!
//! Output conventions:
//! - `--format table` starts with a line naming the run (id, model, parameters, finish time,
//!   currency); `--format json` carries a `run` object; `--format csv` stays pure data on stdout
//!   and prints the run and the summary figures (attributed, provisional, unattributed, missing
//!   fx) to stderr as one line, so `> file.csv` captures a clean CSV.
//! - Credits CSV columns: `<by>,conversions,revenue,currency`.
//! - `report credits --model M` is a preview: it runs (or reuses) M without changing the
//!   workspace's model and without a model-log entry. Without `--model`, the workspace's model
//!   and parameters are used; the parameter flags override single parameters in either case.
//! - `model set` requires `--reason`: the log exists to say why.
//! - `report weights --intervals` adds `weight_low,weight_high,interval_note` (CSV; the note says
//!   "too few conversions to say" when the weight is too uncertain to state) and the bootstrap's
//!   resamples, level and seed (stderr line for CSV, `intervals` in JSON, a line in the table).

use std::path::Path;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use lookback_app::attribution::{self, CreditsRequest, ParamOverrides};
use lookback_app::clock::now_ms;
use lookback_app::wire::ModelName;
use lookback_core::attribution::Model;
use lookback_core::time::format_instant_ms;
use lookback_core::touch_filter::TouchFilter;
use lookback_report::{CreditBasis, CreditKey, MODEL_LOG_COLUMNS, model_log_cells, render};
use lookback_store::{LoggedChange, Store};

/// The data-driven models, the only ones with learned weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataDrivenModel {
    Markov,
    Shapley,
}

/// Which day a credit counts on: `cash` (its order's, the default) or `accrual` (the day of the
/// touch it credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BasisFlag {
    Cash,
    Accrual,
}

impl BasisFlag {
    pub fn basis(self) -> CreditBasis {
        match self {
            BasisFlag::Cash => CreditBasis::Cash,
            BasisFlag::Accrual => CreditBasis::Accrual,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Csv,
    Json,
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CreditsBy {
    Channel,
    Creator,
    Campaign,
    Content,
    Order,
}

impl CreditsBy {
    fn key(self) -> CreditKey {
        match self {
            CreditsBy::Channel => CreditKey::Channel,
            CreditsBy::Creator => CreditKey::Creator,
            CreditsBy::Campaign => CreditKey::Campaign,
            CreditsBy::Content => CreditKey::Content,
            CreditsBy::Order => CreditKey::Order,
        }
    }
}

/// Bootstrap interval flags (`--intervals` and how they are made).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IntervalFlags {
    /// Add bootstrap intervals of the data-driven figures (see README, "Intervals for
    /// data-driven credit").
    #[arg(long)]
    pub intervals: bool,
    /// Bootstrap resamples (default 200).
    #[arg(long, value_name = "N", requires = "intervals")]
    pub resamples: Option<u32>,
    /// Interval level between 0 and 1 (default 0.9: 90% intervals).
    #[arg(long, value_name = "L", requires = "intervals")]
    pub level: Option<f64>,
    /// Seed of the resampling (default 14); the same seed gives the same intervals.
    #[arg(long, value_name = "S", requires = "intervals")]
    pub seed: Option<u64>,
}

impl IntervalFlags {
    /// The bootstrap settings when `--intervals` was given.
    pub fn settings(&self) -> Result<Option<lookback_core::bootstrap::BootstrapSettings>> {
        if !self.intervals {
            return Ok(None);
        }
        Ok(Some(lookback_app::views::intervals::settings(
            self.resamples,
            self.level,
            self.seed,
        )?))
    }
}

/// Flags that override single model parameters.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ParamFlags {
    /// Lookback window in days: touches older than this before an order do not count.
    #[arg(long, value_name = "N")]
    pub window_days: Option<u32>,
    /// Half-life of the time-decay model, in days.
    #[arg(long, value_name = "N")]
    pub half_life_days: Option<u32>,
    /// Position-based weights first,middle,last in percent, summing to 100 (e.g. 40,20,40).
    #[arg(long, value_name = "F,M,L")]
    pub position_weights: Option<String>,
    /// Which touches count: no-bots (bot touches left out, suspicious kept), human (only human
    /// touches) or all. Default: the workspace's setting (no-bots unless `model set` changed it).
    #[arg(long, value_enum, value_name = "FILTER")]
    pub touches: Option<TouchesFlag>,
}

/// Which touches a run reads, by traffic class (`lookback_core::touch_filter::TouchFilter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TouchesFlag {
    /// Bot touches left out, suspicious ones kept.
    NoBots,
    /// Only human touches.
    Human,
    /// Every touch, bots included.
    All,
}

impl TouchesFlag {
    pub fn filter(self) -> TouchFilter {
        match self {
            TouchesFlag::NoBots => TouchFilter::NoBots,
            TouchesFlag::Human => TouchFilter::Human,
            TouchesFlag::All => TouchFilter::All,
        }
    }
}

impl ParamFlags {
    fn overrides(&self) -> ParamOverrides {
        ParamOverrides {
            window_days: self.window_days,
            half_life_days: self.half_life_days,
            position_weights: self.position_weights.clone(),
            touches: self.touches.map(TouchesFlag::filter),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Show the workspace's attribution model and its parameters.
    Show,
    /// Change the workspace's attribution model (appended to the model log with who, when and why).
    Set {
        #[arg(value_enum)]
        model: ModelName,
        #[command(flatten)]
        params: ParamFlags,
        /// Why the model changes; required, it is what the log is for.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Record the change under this profile name instead of the OS user.
        #[arg(long = "as", value_name = "NAME")]
        as_profile: Option<String>,
    },
    /// Show the model log, newest first.
    Log {
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Credited revenue and conversions by channel, creator, campaign, content or order.
    Credits {
        #[arg(long, value_enum, default_value_t = CreditsBy::Channel)]
        by: CreditsBy,
        /// Preview another model: runs (or reuses) it without changing the workspace's model.
        #[arg(long, value_enum)]
        model: Option<ModelName>,
        #[command(flatten)]
        params: ParamFlags,
        /// First order day (YYYY-MM-DD, reporting time zone), inclusive.
        #[arg(long, value_name = "DAY")]
        from: Option<String>,
        /// Last order day (YYYY-MM-DD, reporting time zone), inclusive.
        #[arg(long, value_name = "DAY")]
        to: Option<String>,
        /// Only settled orders (older than the settlement window and not disputed).
        #[arg(long)]
        settled_only: bool,
        /// Date each credit by its order's day (cash) or by the day of the touch it credits
        /// (accrual); `--from`/`--to` then select touch days.
        #[arg(long, value_enum, default_value_t = BasisFlag::Cash)]
        basis: BasisFlag,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// The channel weights a data-driven model learned.
    Weights {
        #[arg(long, value_enum)]
        model: DataDrivenModel,
        #[command(flatten)]
        params: ParamFlags,
        #[command(flatten)]
        intervals: IntervalFlags,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

fn open(db: &Path) -> Result<Store> {
    Store::open(db).with_context(|| format!("cannot open workspace {}", db.display()))
}

fn when(ms: i64) -> String {
    format_instant_ms(ms).unwrap_or_else(|_| ms.to_string())
}

/// Runs one `model` subcommand.
pub fn run_model_command(db: &Path, cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Show => {
            let store = open(db)?;
            let (model, params) = attribution::workspace_model(&store)?;
            println!("model       {model}");
            println!("parameters  {}", params.to_canonical_string());
        }
        ModelCommand::Set {
            model,
            params,
            reason,
            as_profile,
        } => {
            let mut store = open(db)?;
            let params = attribution::params_for(&store, &params.overrides())?;
            let reason = attribution::require_reason(reason.as_deref())?;
            let change = lookback_app::models::change_model(
                &mut store,
                Model::from(model),
                &params,
                as_profile.as_deref(),
                reason,
                now_ms(),
            )?;
            println!(
                "model changed from {} to {} by {} (log entry {})",
                change.from_model.as_deref().unwrap_or("—"),
                change.to_model,
                change.changed_by,
                change.change_id
            );
        }
        ModelCommand::Log { format } => {
            let store = open(db)?;
            let changes = attribution::change_log(&store)?;
            match format {
                ReportFormat::Json => {
                    let items: Vec<serde_json::Value> = changes
                        .iter()
                        .map(|change| match change {
                            LoggedChange::Model(c) => serde_json::json!({
                                "kind": "model",
                                "change_id": c.change_id,
                                "changed_at": when(c.changed_at_ms),
                                "changed_at_ms": c.changed_at_ms,
                                "changed_by": c.changed_by,
                                "from_model": c.from_model,
                                "to_model": c.to_model,
                                "parameters_before": c.parameters_before,
                                "parameters_after": c.parameters_after,
                                "reason": c.reason,
                            }),
                            LoggedChange::TrafficRules(c) => serde_json::json!({
                                "kind": "traffic_rules",
                                "changed_at": when(c.changed_at_ms),
                                "changed_at_ms": c.changed_at_ms,
                                "changed_by": c.changed_by,
                                "from_rules_version": c.from_version,
                                "to_rules_version": c.to_version,
                                "changes": c.changes,
                                "in_words": c.in_words(),
                                "reason": c.reason,
                            }),
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&items)?);
                }
                ReportFormat::Csv => print!(
                    "{}",
                    render::csv_document(
                        &MODEL_LOG_COLUMNS,
                        changes.iter().map(|c| model_log_cells(c).to_vec())
                    )
                ),
                ReportFormat::Table => {
                    if changes.is_empty() {
                        println!(
                            "no model changes yet (the workspace uses the default last-touch model)"
                        );
                    }
                    for change in &changes {
                        match change {
                            LoggedChange::Model(c) => println!(
                                "#{} {} by {}: {} → {} {} — {}",
                                c.change_id,
                                when(c.changed_at_ms),
                                c.changed_by,
                                c.from_model.as_deref().unwrap_or_default(),
                                c.to_model,
                                c.parameters_after,
                                c.reason
                            ),
                            LoggedChange::TrafficRules(c) => println!(
                                "{} by {}: {} — {}",
                                when(c.changed_at_ms),
                                c.changed_by,
                                c.in_words(),
                                c.reason
                            ),
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs one `report` subcommand.
pub fn run_report_command(db: &Path, cmd: ReportCommand) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    match cmd {
        ReportCommand::Credits {
            by,
            model,
            params,
            from,
            to,
            settled_only,
            basis,
            format,
        } => {
            let request = CreditsRequest {
                by: by.key(),
                model: model.map(Model::from),
                overrides: params.overrides(),
                from: from.as_deref(),
                to: to.as_deref(),
                settled_only,
                basis: basis.basis(),
            };
            let report = attribution::credits(&mut store, &request, now)?;
            match format {
                ReportFormat::Csv => {
                    eprintln!("{}", render::credits_summary_line(&report));
                    print!("{}", render::credits_csv(&report));
                }
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::credits_json(&report))?
                ),
                ReportFormat::Table => print!("{}", render::credits_table(&report)),
            }
        }
        ReportCommand::Weights {
            model,
            params,
            intervals,
            format,
        } => {
            let model = match model {
                DataDrivenModel::Markov => Model::Markov,
                DataDrivenModel::Shapley => Model::Shapley,
            };
            let report = match intervals.settings()? {
                Some(settings) => lookback_app::views::intervals::weights_with_intervals(
                    &mut store,
                    model,
                    &params.overrides(),
                    &settings,
                    now,
                )?,
                None => attribution::weights(&mut store, model, &params.overrides(), now)?,
            };
            match format {
                ReportFormat::Csv => {
                    eprintln!("{}", render::run_line(&report.run));
                    if let Some(intervals) = &report.intervals {
                        eprintln!("{}", render::settings_line(&intervals.settings));
                    }
                    print!("{}", render::weights_csv(&report));
                }
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&render::weights_json(&report))?
                ),
                ReportFormat::Table => print!("{}", render::weights_table(&report)),
            }
        }
    }
    Ok(())
}
