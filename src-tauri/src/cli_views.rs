//! The view commands of the CLI: `lookback --db FILE export …` (CSV of every view table and of
//! the event-level data), `lookback --db FILE chart …` (SVG charts) and `lookback --db FILE view …`
//! (the ROAS, CAC, comparison and creator tables in the terminal). Each only parses its flags
//! into a `lookback_app::views::ViewSelection`, calls the job the window's screens call too
//! (`lookback_app::views`: the run, the compared models, the export by table) and prints what
//! it got; the system clock is read here and only here, then passed down.
//!
//! Conventions (decided in `lookback_app::views::selection`):
//! - `--model M` previews M: it runs (or reuses) M with the workspace's parameters without
//!   changing the workspace's model or writing the model log. Without it, the workspace's model.
//! - `--models a,b,c` names the models `compare` puts side by side (fewer than two: the
//!   workspace's model and last-touch, or linear when the workspace's model is last-touch).
//! - Days are `YYYY-MM-DD`, inclusive, in the reporting zone (spend and costs: their own day).
//! - `view roas|creator --intervals` adds each data-driven revenue figure's bootstrap interval
//!   (`lookback_app::views::intervals`), or "too few conversions to say".
//! - Exports write `FILE` and, unless `--no-sidecar`, `FILE.json` saying which model, parameters
//!   and run produced it; `--preamble` also heads the CSV with `# key: value` lines.

use crate::cli_attribution::{BasisFlag, TouchesFlag};
use crate::cli_print::{provenance_line, table};
use lookback_app::clock::now_ms;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use lookback_app::views::{
    self as app, ChartKind, CreatorTable, ExportRequest, ExportTable, ViewSelection,
};
use lookback_core::bootstrap::Confidence;
use lookback_core::money::{Currency, format_minor};
use lookback_core::time::TimeBucket;
use lookback_report::{
    ExportOptions, ExportSummary, ViewKey, format_ratio, readable_conversions, render,
};
use lookback_store::Store;

/// The key a view is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByKey {
    Creator,
    Campaign,
    Channel,
    Content,
    Platform,
}

impl ByKey {
    fn key(self) -> ViewKey {
        match self {
            ByKey::Creator => ViewKey::Creator,
            ByKey::Campaign => ViewKey::Campaign,
            ByKey::Channel => ViewKey::Channel,
            ByKey::Content => ViewKey::Content,
            ByKey::Platform => ViewKey::Platform,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BucketFlag {
    Day,
    Week,
    Month,
}

impl BucketFlag {
    fn bucket(self) -> TimeBucket {
        match self {
            BucketFlag::Day => TimeBucket::Day,
            BucketFlag::Week => TimeBucket::Week,
            BucketFlag::Month => TimeBucket::Month,
        }
    }
}

/// What `view` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewWhat {
    Roas,
    Cac,
    Compare,
    Creator,
    /// New-customer cohorts by month (or `--bucket week`) of first order.
    Cohorts,
}

/// The selection flags every view command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct SelectionFlags {
    /// Group by creator, campaign, channel, content or platform.
    #[arg(long, value_enum, default_value_t = ByKey::Creator)]
    pub by: ByKey,
    /// Preview this model (e.g. linear, position-based) without changing the workspace's model.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The models to compare, comma-separated (compare only).
    #[arg(long, value_name = "A,B,C")]
    pub models: Option<String>,
    /// First day (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DAY")]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DAY")]
    pub to: Option<String>,
    /// Split ROAS rows by day, week or month; cohorts by week or month (default month).
    #[arg(long, value_enum)]
    pub bucket: Option<BucketFlag>,
    /// Only settled orders' revenue (older than the settlement window and not disputed).
    #[arg(long)]
    pub settled_only: bool,
    /// The creator id (creator view only).
    #[arg(long, value_name = "ID")]
    pub creator: Option<String>,
    /// Date each credit by its order's day (cash) or by the day of the touch it credits
    /// (accrual).
    #[arg(long, value_enum, default_value_t = BasisFlag::Cash)]
    pub basis: BasisFlag,
    /// Which touches count: no-bots (bot touches left out, suspicious kept), human (only human
    /// touches) or all. Default: the workspace's setting (no-bots unless `model set` changed it).
    #[arg(long, value_enum, value_name = "FILTER")]
    pub touches: Option<TouchesFlag>,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub what: ExportTable,
    #[command(flatten)]
    pub selection: SelectionFlags,
    /// Which creator table to write (export creator only).
    #[arg(long, value_enum, default_value_t = CreatorTable::Content)]
    pub table: CreatorTable,
    /// The source whose dead letters to write, by name or id (export dead-letters only;
    /// default: every source).
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,
    /// Include identity columns (click, customer, email hash, person, anonymous, device ids).
    #[arg(long)]
    pub include_pii: bool,
    /// Head the CSV with `# key: value` lines naming the model, parameters and run.
    #[arg(long)]
    pub preamble: bool,
    /// Do not write the FILE.json sidecar.
    #[arg(long)]
    pub no_sidecar: bool,
    /// The CSV file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ChartArgs {
    #[arg(value_enum)]
    pub what: ChartKind,
    #[command(flatten)]
    pub selection: SelectionFlags,
    /// How many keys the ROAS chart draws lines for.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// The SVG file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    #[arg(value_enum)]
    pub what: ViewWhat,
    #[command(flatten)]
    pub selection: SelectionFlags,
    /// `--intervals` (roas, creator): the bootstrap interval of each data-driven revenue figure.
    #[command(flatten)]
    pub intervals: crate::cli_attribution::IntervalFlags,
}

/// The view subcommands, for wiring into the top-level command enum.
#[derive(Debug, Subcommand)]
pub enum ViewsCommand {
    /// Write a view table or event-level data as CSV (with a FILE.json sidecar).
    Export(ExportArgs),
    /// Draw a ROAS, cost-vs-revenue or model-comparison chart as SVG.
    Chart(ChartArgs),
    /// Print the ROAS, CAC, model comparison, creator revenue or cohorts table.
    View(ViewArgs),
}

fn open(db: &Path) -> Result<Store> {
    Store::open(db).with_context(|| format!("cannot open workspace {}", db.display()))
}

impl SelectionFlags {
    /// The selection the flags make; the job decides the rest (the model's parameters, the
    /// compared models when fewer than two are named).
    fn selection(&self) -> Result<ViewSelection> {
        Ok(ViewSelection {
            by: self.by.key(),
            model: self.model.as_deref().map(app::parse_model).transpose()?,
            params: None,
            models: app::parse_models(self.models.as_slice())?,
            from: app::parse_day(self.from.as_deref(), "--from")?,
            to: app::parse_day(self.to.as_deref(), "--to")?,
            bucket: self.bucket.map(BucketFlag::bucket),
            settled_only: self.settled_only,
            creator: self.creator.clone(),
            basis: self.basis.basis(),
            touches: self.touches.map(TouchesFlag::filter),
        })
    }
}

fn report(summary: &ExportSummary) {
    match &summary.sidecar {
        Some(sidecar) => println!(
            "wrote {} rows to {} (provenance in {})",
            summary.rows,
            summary.path.display(),
            sidecar.display()
        ),
        None => println!("wrote {} rows to {}", summary.rows, summary.path.display()),
    }
}

/// Runs `export`.
pub fn run_export(db: &Path, args: ExportArgs) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    let request = ExportRequest {
        table: args.what,
        selection: args.selection.selection()?,
        creator_table: args.table,
        source: args.source,
        options: ExportOptions {
            include_pii: args.include_pii,
            preamble: args.preamble,
            sidecar: !args.no_sidecar,
        },
        path: args.out,
    };
    report(&app::export(&mut store, &request, now)?);
    Ok(())
}

/// Runs `chart`.
pub fn run_chart(db: &Path, args: ChartArgs) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    let sel = args.selection.selection()?;
    let chart = app::chart_of(&mut store, args.what, &sel, args.top, now)?;
    std::fs::write(&args.out, &chart.svg)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("wrote {} ({})", args.out.display(), chart.title);
    Ok(())
}

/// Aligned columns, the first left-aligned, the rest right-aligned.
/// A CAC row's payback of window `i` (30, 60, 90 days): the multiple, then, while some of the
/// row's new customers are still inside the window, how many it covers ("0.75 · 212 of 378").
fn payback_cell(r: &lookback_report::CacRow, i: usize) -> String {
    let multiple = match i {
        0 => &r.payback_30,
        1 => &r.payback_60,
        _ => &r.payback_90,
    };
    let shown = format_ratio(multiple.as_ref(), 2);
    let closed = r.payback_customers_ppb[i];
    if closed == r.new_customers_ppb {
        return shown;
    }
    format!(
        "{shown} · {} of {}",
        readable_conversions(i128::from(closed)),
        readable_conversions(i128::from(r.new_customers_ppb))
    )
}

/// A revenue interval as a table shows it: `low–high`, or the words when too uncertain.
fn revenue_interval_cell(i: &lookback_report::RevenueIntervalRow, currency: &str) -> String {
    let money = |minor: i64| {
        Currency::parse(currency)
            .map(|c| format_minor(minor, c))
            .unwrap_or_else(|_| minor.to_string())
    };
    match i.confidence {
        Confidence::Stated => format!("{}–{}", money(i.low_minor), money(i.high_minor)),
        Confidence::TooFew => Confidence::TOO_FEW_WORDS.to_owned(),
    }
}

/// Runs `view`.
pub fn run_view(db: &Path, args: ViewArgs) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    let sel = args.selection.selection()?;
    let settings = args.intervals.settings()?;
    if settings.is_some() && matches!(args.what, ViewWhat::Cac | ViewWhat::Compare) {
        return Err(lookback_app::AppError::invalid(
            "intervals",
            "--intervals goes with view roas or view creator (and report weights)",
        )
        .into());
    }
    let by = sel.by.as_str();
    let money = |minor: i64, code: &str| {
        Currency::parse(code)
            .map(|c| format_minor(minor, c))
            .unwrap_or_else(|_| minor.to_string())
    };
    match args.what {
        ViewWhat::Roas => {
            let view = app::roas_report(&mut store, &sel, now)?;
            let intervals = match &settings {
                Some(settings) => Some(app::intervals::roas_intervals(
                    &mut store, &sel, settings, now,
                )?),
                None => None,
            };
            println!("{}", provenance_line(&view.provenance, now));
            if let Some(intervals) = &intervals {
                println!("{}", render::settings_line(&intervals.settings));
            }
            let c = view.currency.as_str();
            let rows: Vec<Vec<String>> = view
                .rows
                .iter()
                .chain(std::iter::once(&view.totals))
                .map(|r| {
                    let mut cells = vec![
                        r.label.clone(),
                        r.bucket.clone().unwrap_or_default(),
                        money(r.attributed_revenue_minor, c),
                        money(r.cost_minor, c),
                        format_ratio(r.roas.as_ref(), 2),
                        readable_conversions(i128::from(r.orders_credited_ppb)),
                    ];
                    if let Some(intervals) = &intervals {
                        let found = intervals.rows.iter().find(|i| i.key == r.key);
                        cells.push(match found {
                            Some(i) => revenue_interval_cell(i, c),
                            None => String::new(),
                        });
                    }
                    cells
                })
                .collect();
            let mut header = vec![by, "bucket", "revenue", "cost", "roas", "orders"];
            if intervals.is_some() {
                header.push("revenue interval");
            }
            print!("{}", table(&header, &rows));
        }
        ViewWhat::Cac => {
            let view = app::cac_report(&mut store, &sel, now)?;
            println!("{}", provenance_line(&view.provenance, now));
            let c = view.currency.as_str();
            let rows: Vec<Vec<String>> = view
                .rows
                .iter()
                .chain(std::iter::once(&view.totals))
                .map(|r| {
                    vec![
                        r.label.clone(),
                        money(r.cost_minor, c),
                        readable_conversions(i128::from(r.new_customers_ppb)),
                        r.cac_minor
                            .map(|m| money(m, c))
                            .unwrap_or_else(|| "—".into()),
                        payback_cell(r, 0),
                        payback_cell(r, 1),
                        payback_cell(r, 2),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        by,
                        "cost",
                        "new customers",
                        "cac",
                        "payback 30",
                        "payback 60",
                        "payback 90"
                    ],
                    &rows
                )
            );
        }
        ViewWhat::Cohorts => crate::cli_cohorts::print_cohorts(&mut store, &sel, now)?,
        ViewWhat::Compare => {
            let view = app::compare_report(&mut store, &sel, now)?;
            for p in &view.models {
                println!("{}", provenance_line(p, now));
            }
            let names: Vec<String> = view
                .models
                .iter()
                .map(|m| format!("{} #{}", m.model, m.run_id))
                .collect();
            let mut header: Vec<&str> = vec![by];
            header.extend(names.iter().map(String::as_str));
            header.extend(["spread", "spread %"]);
            let c = view.currency.as_str();
            let rows: Vec<Vec<String>> = view
                .rows
                .iter()
                .chain(std::iter::once(&view.totals))
                .map(|r| {
                    let mut cells = vec![r.label.clone()];
                    cells.extend(r.revenue_minor.iter().map(|m| money(*m, c)));
                    cells.push(money(r.spread_minor, c));
                    cells.push(
                        app::spread_percent(r.spread_ratio.as_ref()).unwrap_or_else(|| "—".into()),
                    );
                    cells
                })
                .collect();
            print!("{}", table(&header, &rows));
        }
        ViewWhat::Creator => {
            let view = app::creator_report(&mut store, &sel, now)?;
            let c = view.currency.as_str();
            println!("{}", provenance_line(&view.provenance, now));
            if let Some(settings) = &settings {
                // The creator view's net covers every order of its days, settled or not.
                let by_creator = ViewSelection {
                    by: ViewKey::Creator,
                    settled_only: false,
                    bucket: None,
                    ..sel.clone()
                };
                let intervals =
                    app::intervals::roas_intervals(&mut store, &by_creator, settings, now)?;
                let cell = intervals
                    .rows
                    .iter()
                    .find(|i| i.key == view.creator_id)
                    .map(|i| revenue_interval_cell(i, c))
                    .unwrap_or_else(|| "no credited orders in range".to_owned());
                println!(
                    "{} · credited revenue interval {cell}",
                    render::settings_line(&intervals.settings)
                );
            }
            println!(
                "{} ({}): gross {} · refunds {} · net {} · settled {} · provisional {} {c}",
                view.display_name,
                view.creator_id,
                money(view.gross_minor, c),
                money(view.refunds_minor, c),
                money(view.net_minor, c),
                money(view.settled_minor, c),
                money(view.provisional_minor, c),
            );
            let rows: Vec<Vec<String>> = view
                .content
                .iter()
                .map(|l| {
                    vec![
                        l.title.clone(),
                        l.kind.clone(),
                        money(l.attributed_revenue_minor, c),
                        readable_conversions(i128::from(l.orders_credited_ppb)),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(&["content", "kind", "revenue", "orders"], &rows)
            );
        }
    }
    Ok(())
}

/// Runs one of the view subcommands.
pub fn run_views_command(db: &Path, cmd: ViewsCommand) -> Result<()> {
    match cmd {
        ViewsCommand::Export(args) => run_export(db, args),
        ViewsCommand::Chart(args) => run_chart(db, args),
        ViewsCommand::View(args) => run_view(db, args),
    }
}
