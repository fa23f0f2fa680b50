//! The view commands of the CLI: `lookback --db FILE export …` (CSV of every view table and of
//! the event-level data), `lookback --db FILE chart …` (SVG charts) and `lookback --db FILE view …`
//! (the ROAS, CAC, comparison and creator tables in the terminal). Each parses its flags, gets a
//! run from the engine (reused when nothing changed), calls one report function and says what it
//! wrote; the system clock is read here and only here, then passed down.
//!
//! Conventions:
//! - `--model M` previews M: it runs (or reuses) M with the workspace's parameters without
//!   changing the workspace's model or writing the model log. Without it, the workspace's model.
//! - `--models a,b,c` names the models `compare` puts side by side (default: the workspace's
//!   model and last-touch).
//! - Days are `YYYY-MM-DD`, inclusive, in the reporting zone (spend and costs: their own day).
//! - Exports write `FILE` and, unless `--no-sidecar`, `FILE.json` saying which model, parameters
//!   and run produced it; `--preamble` also heads the CSV with `# key: value` lines.

use lookback_app::clock::now_ms;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use lookback_core::attribution::Model;
use lookback_core::money::{Currency, format_minor};
use lookback_core::time::{NaiveDate, TimeBucket};
use lookback_engine::{current_model, run_model};
use lookback_report::{
    EventRange, ExportOptions, ExportSummary, Provenance, ViewKey, ViewQuery, cac_view,
    compare_chart_svg, compare_view, cost_vs_revenue_chart_svg, creator_revenue_view,
    export_alert_rules_csv, export_cac_csv, export_compare_csv, export_creator_content_csv,
    export_creator_orders_csv, export_credits_csv, export_dead_letters_csv, export_health_csv,
    export_model_log_csv, export_orders_csv, export_reconcile_csv, export_revenue_csv,
    export_roas_csv, export_sources_csv, export_spend_csv, export_touches_csv, format_conversions,
    format_ratio, roas_chart_svg, roas_view, source_statuses,
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

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    Roas,
    Cac,
    Compare,
    Creator,
    ModelLog,
    Credits,
    Orders,
    Touches,
    Spend,
    /// The Reconciliation screen's table: per source, day and currency.
    Reconcile,
    /// Unresolved dead letters (of `--source`, or of every source).
    DeadLetters,
    /// The alert rules in force.
    AlertRules,
    /// Data health per source.
    Health,
    /// Revenue per order currency (the overview's table).
    Revenue,
    /// Every source with its state, records and last sync (the overview's table).
    Sources,
}

/// Which table of the creator view `export creator` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CreatorTable {
    Content,
    Orders,
}

/// What `chart` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChartWhat {
    /// ROAS over time per key (bucketed; --bucket defaults to week).
    Roas,
    /// Revenue and cost per key, as bars.
    CostRevenue,
    /// Each model's revenue per key, as grouped bars.
    Compare,
}

/// What `view` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewWhat {
    Roas,
    Cac,
    Compare,
    Creator,
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
    /// Split ROAS rows by day, week or month.
    #[arg(long, value_enum)]
    pub bucket: Option<BucketFlag>,
    /// Only settled orders' revenue (older than the settlement window and not disputed).
    #[arg(long)]
    pub settled_only: bool,
    /// The creator id (creator view only).
    #[arg(long, value_name = "ID")]
    pub creator: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub what: ExportWhat,
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
    pub what: ChartWhat,
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
}

/// The view subcommands, for wiring into the top-level command enum.
#[derive(Debug, Subcommand)]
pub enum ViewsCommand {
    /// Write a view table or event-level data as CSV (with a FILE.json sidecar).
    Export(ExportArgs),
    /// Draw a ROAS, cost-vs-revenue or model-comparison chart as SVG.
    Chart(ChartArgs),
    /// Print the ROAS, CAC, model comparison or creator revenue table.
    View(ViewArgs),
}

fn open(db: &Path) -> Result<Store> {
    Store::open(db).with_context(|| format!("cannot open workspace {}", db.display()))
}

fn parse_day(flag: &str, text: Option<&str>) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .with_context(|| format!("{flag} {t:?} is not a day of the form YYYY-MM-DD"))
    })
    .transpose()
}

fn parse_model(name: &str) -> Result<Model> {
    Model::parse(name.trim()).with_context(|| format!("unknown model {name:?}"))
}

/// The run of `--model` (or the workspace's model), reused when the inputs did not change.
fn run_for(store: &mut Store, model: Option<&str>, now: i64) -> Result<i64> {
    let (current, params) = current_model(store)?;
    let model = model.map(parse_model).transpose()?.unwrap_or(current);
    Ok(run_model(store, model, &params, now)?.run_id)
}

/// The runs of `--models` (default: the workspace's model and last-touch), in the order named.
fn runs_for(store: &mut Store, models: Option<&str>, now: i64) -> Result<Vec<i64>> {
    let (current, params) = current_model(store)?;
    let models: Vec<Model> = match models {
        Some(list) => list
            .split(',')
            .filter(|m| !m.trim().is_empty())
            .map(parse_model)
            .collect::<Result<_>>()?,
        None if current == Model::LastTouch => vec![current, Model::Linear],
        None => vec![current, Model::LastTouch],
    };
    if models.is_empty() {
        bail!("--models names no model");
    }
    models
        .into_iter()
        .map(|m| Ok(run_model(store, m, &params, now)?.run_id))
        .collect()
}

struct Selection {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn selection(flags: &SelectionFlags) -> Result<Selection> {
    Ok(Selection {
        from: parse_day("--from", flags.from.as_deref())?,
        to: parse_day("--to", flags.to.as_deref())?,
    })
}

fn query(run_id: i64, flags: &SelectionFlags, sel: &Selection) -> ViewQuery {
    ViewQuery {
        run_id,
        by: flags.by.key(),
        from: sel.from,
        to: sel.to,
        bucket: flags.bucket.map(BucketFlag::bucket),
        settled_only: flags.settled_only,
    }
}

fn creator_id(flags: &SelectionFlags) -> Result<&str> {
    flags
        .creator
        .as_deref()
        .context("the creator view needs --creator ID")
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
    let flags = &args.selection;
    let sel = selection(flags)?;
    let options = ExportOptions {
        include_pii: args.include_pii,
        preamble: args.preamble,
        sidecar: !args.no_sidecar,
    };
    let range = EventRange {
        from: sel.from,
        to: sel.to,
        settled_only: flags.settled_only,
    };
    let out = args.out.as_path();
    let summary = match args.what {
        ExportWhat::Roas => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            export_roas_csv(
                &roas_view(&store, &query(run_id, flags, &sel))?,
                out,
                &options,
                now,
            )?
        }
        ExportWhat::Cac => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            export_cac_csv(
                &cac_view(&store, &query(run_id, flags, &sel), now)?,
                out,
                &options,
                now,
            )?
        }
        ExportWhat::Compare => {
            let runs = runs_for(&mut store, flags.models.as_deref(), now)?;
            let view = compare_view(
                &store,
                flags.by.key(),
                &runs,
                sel.from,
                sel.to,
                flags.settled_only,
            )?;
            export_compare_csv(&view, out, &options, now)?
        }
        ExportWhat::Creator => {
            let creator = creator_id(flags)?;
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            let view = creator_revenue_view(&store, run_id, creator, sel.from, sel.to)?;
            match args.table {
                CreatorTable::Content => export_creator_content_csv(&view, out, &options, now)?,
                CreatorTable::Orders => export_creator_orders_csv(&view, out, &options, now)?,
            }
        }
        ExportWhat::ModelLog => export_model_log_csv(&store, out, &options, now)?,
        ExportWhat::Credits => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            export_credits_csv(&store, run_id, &range, out, &options, now)?
        }
        ExportWhat::Orders => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            export_orders_csv(&store, Some(run_id), &range, out, &options, now)?
        }
        ExportWhat::Touches => export_touches_csv(&store, &range, out, &options, now)?,
        ExportWhat::Spend => export_spend_csv(&store, &range, out, &options, now)?,
        ExportWhat::Reconcile => {
            let report = crate::cli_trust::reconciliation(&store, sel.from, sel.to, 5, now)?;
            export_reconcile_csv(&report, out, &options, now)?
        }
        ExportWhat::DeadLetters => {
            // A registered source by name or id; otherwise the label as dead letters carry it
            // (a CSV import's, say).
            let source = args.source.as_deref().map(|name| {
                lookback_sync::find_source(&store, name)
                    .map(|s| s.source_id)
                    .unwrap_or_else(|_| name.to_owned())
            });
            export_dead_letters_csv(&store, source.as_deref(), out, &options, now)?
        }
        ExportWhat::AlertRules => export_alert_rules_csv(&store, out, &options, now)?,
        ExportWhat::Health => {
            let policy = lookback_trust::HealthPolicy::default();
            let states = lookback_trust::source_health_states(&store, now, policy)?;
            export_health_csv(&states, policy.window_ms / 86_400_000, out, &options, now)?
        }
        ExportWhat::Revenue => export_revenue_csv(&store, out, &options, now)?,
        ExportWhat::Sources => {
            export_sources_csv(&source_statuses(&store, now)?, out, &options, now)?
        }
    };
    report(&summary);
    Ok(())
}

/// Runs `chart`.
pub fn run_chart(db: &Path, args: ChartArgs) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    let flags = &args.selection;
    let sel = selection(flags)?;
    let chart = match args.what {
        ChartWhat::Roas => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            let mut q = query(run_id, flags, &sel);
            q.bucket = Some(q.bucket.unwrap_or(TimeBucket::Week));
            roas_chart_svg(&roas_view(&store, &q)?, args.top)?
        }
        ChartWhat::CostRevenue => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            cost_vs_revenue_chart_svg(&roas_view(&store, &query(run_id, flags, &sel))?)?
        }
        ChartWhat::Compare => {
            let runs = runs_for(&mut store, flags.models.as_deref(), now)?;
            compare_chart_svg(&compare_view(
                &store,
                flags.by.key(),
                &runs,
                sel.from,
                sel.to,
                flags.settled_only,
            )?)?
        }
    };
    std::fs::write(&args.out, &chart.svg)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("wrote {} ({})", args.out.display(), chart.title);
    Ok(())
}

/// Aligned columns, the first left-aligned, the rest right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if i == 0 {
                out.push_str(&format!("{cell}{pad}"));
            } else {
                out.push_str(&format!("  {pad}{cell}"));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

fn provenance_line(p: &Provenance, now: i64) -> String {
    let fresh: Vec<String> = p
        .freshness
        .iter()
        .map(|s| {
            // "Meta: synced 4 min ago", as DESIGN.md §5 puts it.
            let when = match s.last_success_at_ms {
                Some(at) => {
                    let minutes = (now - at).max(0) / 60_000;
                    match minutes {
                        0 => "just now".to_owned(),
                        m if m < 120 => format!("{m} min ago"),
                        m if m < 48 * 60 => format!("{} h ago", m / 60),
                        m => format!("{} days ago", m / (24 * 60)),
                    }
                }
                None => "never".to_owned(),
            };
            // The data-health state when it is not simply ok (the window's badge).
            match lookback_app::views::freshness_state(s, now) {
                "ok" | "imported" => format!("{}: synced {when}", s.name),
                state => format!("{}: synced {when} ({state})", s.name),
            }
        })
        .collect();
    format!(
        "run {} · model {} · parameters {} · currency {} · unattributed {} orders · missing fx {} orders{}{}",
        p.run_id,
        p.model,
        p.parameters,
        p.reporting_currency,
        p.unattributed_orders,
        p.missing_fx_orders,
        if p.missing_fx_costs.is_empty() {
            String::new()
        } else {
            format!(
                " and {} cost rows",
                p.missing_fx_costs.iter().map(|m| m.rows).sum::<u64>()
            )
        },
        if fresh.is_empty() {
            String::new()
        } else {
            format!(" · {}", fresh.join(", "))
        },
    )
}

/// Runs `view`.
pub fn run_view(db: &Path, args: ViewArgs) -> Result<()> {
    let now = now_ms();
    let mut store = open(db)?;
    let flags = &args.selection;
    let sel = selection(flags)?;
    let money = |minor: i64, code: &str| {
        Currency::parse(code)
            .map(|c| format_minor(minor, c))
            .unwrap_or_else(|_| minor.to_string())
    };
    match args.what {
        ViewWhat::Roas => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            let view = roas_view(&store, &query(run_id, flags, &sel))?;
            println!("{}", provenance_line(&view.provenance, now));
            let c = view.currency.as_str();
            let rows: Vec<Vec<String>> = view
                .rows
                .iter()
                .chain(std::iter::once(&view.totals))
                .map(|r| {
                    vec![
                        r.label.clone(),
                        r.bucket.clone().unwrap_or_default(),
                        money(r.attributed_revenue_minor, c),
                        money(r.cost_minor, c),
                        format_ratio(r.roas.as_ref(), 2),
                        format_conversions(i128::from(r.orders_credited_ppb)),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        flags.by.key().as_str(),
                        "bucket",
                        "revenue",
                        "cost",
                        "roas",
                        "orders"
                    ],
                    &rows
                )
            );
        }
        ViewWhat::Cac => {
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            let view = cac_view(&store, &query(run_id, flags, &sel), now)?;
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
                        format_conversions(i128::from(r.new_customers_ppb)),
                        r.cac_minor
                            .map(|m| money(m, c))
                            .unwrap_or_else(|| "—".into()),
                        format_ratio(r.payback_30.as_ref(), 2),
                        format_ratio(r.payback_60.as_ref(), 2),
                        format_ratio(r.payback_90.as_ref(), 2),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        flags.by.key().as_str(),
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
        ViewWhat::Compare => {
            let runs = runs_for(&mut store, flags.models.as_deref(), now)?;
            let view = compare_view(
                &store,
                flags.by.key(),
                &runs,
                sel.from,
                sel.to,
                flags.settled_only,
            )?;
            for p in &view.models {
                println!("{}", provenance_line(p, now));
            }
            let names: Vec<String> = view
                .models
                .iter()
                .map(|m| format!("{} #{}", m.model, m.run_id))
                .collect();
            let mut header: Vec<&str> = vec![flags.by.key().as_str()];
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
                        r.spread_ratio
                            .and_then(|s| {
                                lookback_report::Ratio::new(s.numerator() * 100, s.denominator())
                            })
                            .map(|s| s.to_decimal_string(1))
                            .unwrap_or_else(|| "—".into()),
                    );
                    cells
                })
                .collect();
            print!("{}", table(&header, &rows));
        }
        ViewWhat::Creator => {
            let creator = creator_id(flags)?;
            let run_id = run_for(&mut store, flags.model.as_deref(), now)?;
            let view = creator_revenue_view(&store, run_id, creator, sel.from, sel.to)?;
            let c = view.currency.as_str();
            println!("{}", provenance_line(&view.provenance, now));
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
                        format_conversions(i128::from(l.orders_credited_ppb)),
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
