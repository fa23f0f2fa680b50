//! The command line: `lookback [--db FILE] <command>`. Each subcommand parses its arguments,
//! calls one library function, and prints the result; errors become one line on stderr and a
//! non-zero exit (see `main`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use lookback_app::workspace;

#[derive(Debug, Parser)]
#[command(
    name = "lookback",
    version,
    about = "Attribution, ROAS and CAC for creators and the teams who sell through them.",
    long_about = "Lookback keeps a local workspace (one SQLite file) of touches, orders, refunds and ad spend, \
                  runs attribution models on this machine, and reports ROAS and CAC.\n\n\
                  With no command, opens the desktop window (on --db FILE if given)."
)]
pub struct Cli {
    /// The workspace file to work on.
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new demo workspace: creators, campaigns, thirteen months of spend, touches
    /// (with mail-scanner and preview traffic) and orders.
    Demo {
        /// Seed of the generator; the same seed, size and end date give the same workspace.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// How many orders to generate.
        #[arg(long, default_value_t = lookback_demo::DemoConfig::default().orders)]
        orders: usize,
        /// Last day of the demo data (YYYY-MM-DD, UTC); default: today.
        #[arg(long, value_name = "DATE")]
        end: Option<String>,
    },
    /// Create a new, empty workspace.
    Init {
        /// The workspace's display name.
        #[arg(long, default_value = "My workspace")]
        name: String,
    },
    /// Import a CSV file of touches, orders, refunds, spend, creator costs, identity links or
    /// daily exchange rates.
    ///
    /// Bad rows go to dead letters with FILE:LINE and the reason; the rest imports. Importing the
    /// same file again changes nothing. Exits non-zero only if nothing could be read.
    Import {
        /// What the file holds: touches, orders, refunds, spend, creator-costs, identities or fx-rates.
        #[arg(value_name = "KIND", value_parser = parse_import_kind)]
        kind: lookback_ingest::ImportKind,
        /// The CSV file (UTF-8, header row; see README for the columns).
        file: PathBuf,
    },
    /// Print the template CSV of a kind of import: every column `import` reads, and an example
    /// row to replace with your data.
    Template {
        /// touches, orders, refunds, spend, creator-costs, identities or fx-rates.
        #[arg(value_name = "KIND", value_parser = parse_import_kind)]
        kind: lookback_ingest::ImportKind,
    },
    /// Show the workspace's reporting currency and time zone, or change them.
    Settings {
        /// The ISO-4217 currency every view converts to (e.g. USD, EUR).
        #[arg(long)]
        currency: Option<String>,
        /// The IANA time zone that decides each day (e.g. Europe/Berlin).
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Show or change the attribution model; show the model log.
    Model {
        #[command(subcommand)]
        cmd: crate::cli_attribution::ModelCommand,
    },
    /// Bot and prefetch traffic: touches per source and channel by class, and the rule sets
    /// that classify them.
    Traffic {
        #[command(subcommand)]
        cmd: crate::cli_traffic::TrafficCommand,
    },
    /// Attribution reports: credits by channel, creator, campaign, content or order; learned weights.
    Report {
        #[command(subcommand)]
        cmd: crate::cli_attribution::ReportCommand,
    },
    /// Register, connect (OAuth in the browser), list, remove or test the API sources the
    /// workspace syncs from.
    Source {
        #[command(subcommand)]
        cmd: crate::cli_sync::SourceCommand,
    },
    /// Sync the named sources (all when none is named) from their APIs.
    Sync(crate::cli_sync::SyncArgs),
    #[command(flatten)]
    Views(crate::cli_views::ViewsCommand),
    #[command(flatten)]
    Trust(crate::cli_trust::TrustCommand),
    /// Write a creator's statement for a period as a printable PDF and a CSV beside it: the
    /// orders credited to them under the workspace's model, clawbacks, costs, ROAS.
    Statement(crate::cli_statement::StatementArgs),
    /// Receive signed webhooks and postbacks on a local address until Ctrl-C; normalize and check alerts meanwhile.
    Listen(crate::cli_realtime::ListenArgs),
    /// Manage the secrets webhooks and postbacks are verified with.
    Webhook {
        #[command(subcommand)]
        cmd: crate::cli_realtime::WebhookCommand,
    },
    /// Threshold alerts: add, list, remove, check now, set the Slack URL.
    Alert {
        #[command(subcommand)]
        cmd: crate::cli_realtime::AlertCommand,
    },
    /// Store the raw-event log compactly (compressed payloads, hashes as bytes) and give the
    /// space back. Needed once for a workspace written before; safe to interrupt and run again.
    Compact,
    /// Show what the workspace holds: orders, revenue, spend, touches, creators, sources.
    Overview {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Where Lookback's log files are (one a day, a week kept), to send with a bug report.
    Logs {
        /// Print only the log directory.
        #[arg(long)]
        path: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// Help and version go to stdout as clap renders them; a usage error becomes one line on stderr
/// ("error: unrecognized subcommand 'x' (see lookback --help)") and exit code 2.
pub fn exit_on_usage_error(err: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let rendered = err.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("error: {first} (see lookback --help)");
    std::process::exit(2);
}

fn parse_import_kind(text: &str) -> Result<lookback_ingest::ImportKind, String> {
    lookback_ingest::ImportKind::parse(text).map_err(|e| e.to_string())
}

pub use lookback_app::error::one_line;

fn require_db(db: Option<&Path>) -> Result<&Path> {
    db.context("this command needs a workspace: pass --db FILE")
}

/// The subcommand's name for the log ("source add"): names only, never an argument.
pub fn command_name(matches: &clap::ArgMatches) -> String {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name);
        current = sub;
    }
    names.join(" ")
}

/// Runs one subcommand against the workspace named by `--db`.
pub fn run(db: Option<&Path>, command: Command) -> Result<()> {
    let result = upgrade_first(db, &command).and_then(|()| run_command(db, command));
    // SQLite's report of a damaged page cannot say which file: it is the workspace of --db.
    match db {
        Some(db) => result.map_err(|err| {
            if lookback_app::error::is_missing_workspace(&err) {
                return missing_workspace_hint(&err, db);
            }
            lookback_app::error::name_damaged_file(err, db)
        }),
        None => result,
    }
}

/// "no workspace at FILE", with how to make one there.
fn missing_workspace_hint(err: &anyhow::Error, db: &Path) -> anyhow::Error {
    let db = db.display();
    anyhow::anyhow!(
        "{}; create an empty one with `lookback --db {db} init --name \"My shop\"`, or write the demo there with `lookback --db {db} demo`",
        one_line(err)
    )
}

/// Upgrades the workspace of `--db` to this binary's schema before a command that opens it,
/// with progress on stderr, so that a long upgrade is visible and every command after it opens
/// an up-to-date file. Files that cannot be opened are left to the command to report.
fn upgrade_first(db: Option<&Path>, command: &Command) -> Result<()> {
    let Some(path) = db else { return Ok(()) };
    if matches!(
        command,
        Command::Logs { .. }
            | Command::Demo { .. }
            | Command::Init { .. }
            | Command::Template { .. }
    ) {
        return Ok(());
    }
    if !matches!(lookback_store::Store::pending_upgrade(path), Ok(Some(_))) {
        return Ok(());
    }
    let mut line = UpgradeLine::new(path);
    workspace::upgrade(path, &mut |progress| line.show(progress))?;
    Ok(())
}

/// The upgrade's progress on stderr: redrawn in place on a terminal, one line per change
/// otherwise (a captured log stays short); silent for the first second, so a small workspace
/// shows only the closing line.
struct UpgradeLine {
    name: String,
    terminal: bool,
    shown_change: usize,
    drawn: bool,
}

impl UpgradeLine {
    fn new(path: &Path) -> UpgradeLine {
        use std::io::IsTerminal as _;
        UpgradeLine {
            name: path.display().to_string(),
            terminal: std::io::stderr().is_terminal(),
            shown_change: 0,
            drawn: false,
        }
    }

    fn show(&mut self, p: &lookback_store::UpgradeProgress) -> lookback_store::UpgradeControl {
        use std::io::Write as _;
        let seconds = p.elapsed.as_secs_f64();
        let u = p.upgrade;
        if p.finished {
            if self.drawn && self.terminal {
                eprintln!();
            }
            eprintln!(
                "upgraded {} from schema {} to {} in {seconds:.1} s",
                self.name, u.from_version, u.to_version
            );
        } else if seconds >= 1.0 && (self.terminal || p.change != self.shown_change) {
            let text = format!(
                "upgrading {} from schema {} to {} (one time; stopping it leaves the file as it was): change {} of {}, {}, {seconds:.0} s",
                self.name, u.from_version, u.to_version, p.change, u.changes, p.change_title
            );
            if self.terminal {
                eprint!("\r{text}\x1b[K");
                let _ = std::io::stderr().flush();
            } else {
                eprintln!("{text}");
            }
            self.shown_change = p.change;
            self.drawn = true;
        }
        lookback_store::UpgradeControl::Continue
    }
}

fn run_command(db: Option<&Path>, command: Command) -> Result<()> {
    match command {
        Command::Logs { path } => {
            let dir = lookback_app::logs::log_dir();
            if path {
                println!("{}", dir.display());
            } else {
                println!("logs are in {}", dir.display());
                for file in lookback_app::logs::log_files() {
                    println!("  {}", file.display());
                }
            }
        }
        Command::Demo { seed, orders, end } => {
            let path = require_db(db)?;
            let end_at_ms = match end {
                Some(day) => end_of_day_ms(&day)?,
                None => lookback_app::clock::now_ms(),
            };
            let summary = workspace::create_demo(
                path,
                &workspace::DemoOptions {
                    seed,
                    orders,
                    end_at_ms,
                },
            )?;
            println!(
                "wrote demo workspace {}: {} orders, {} touches, {} creators, {} campaigns, {} spend rows, {} refunds, {} chargebacks",
                path.display(),
                summary.orders,
                summary.touches,
                summary.creators,
                summary.campaigns,
                summary.ad_spend_rows,
                summary.refunds,
                summary.chargebacks
            );
        }
        Command::Init { name } => {
            let path = require_db(db)?;
            workspace::create_empty(path, &name)?;
            println!("created empty workspace {}", path.display());
        }
        Command::Import { kind, file } => {
            let path = require_db(db)?;
            let mut store = workspace::open(path)?;
            let summary =
                workspace::import(&mut store, kind, &file, lookback_app::clock::now_ms())?;
            println!(
                "{}: {} imported / {} duplicates / {} rejected{}{}",
                summary.file,
                summary.imported,
                summary.duplicates,
                summary.rejected,
                if summary.updated > 0 {
                    format!(" ({} updated)", summary.updated)
                } else {
                    String::new()
                },
                if summary.suppressed > 0 {
                    format!(" ({} of erased people not stored)", summary.suppressed)
                } else {
                    String::new()
                }
            );
            if summary.rejected > 0 {
                println!("rejected rows are in dead letters with their line and reason");
            }
        }
        Command::Template { kind } => print!("{}", lookback_ingest::template_csv(kind)),
        Command::Settings { currency, timezone } => {
            let path = require_db(db)?;
            let mut store = workspace::open(path)?;
            workspace::set_reporting(&mut store, currency.as_deref(), timezone.as_deref())?;
            println!("reporting currency {}", store.reporting_currency()?);
            println!("reporting time zone {}", store.reporting_timezone()?);
        }
        Command::Model { cmd } => crate::cli_attribution::run_model_command(require_db(db)?, cmd)?,
        Command::Traffic { cmd } => crate::cli_traffic::run_traffic_command(require_db(db)?, cmd)?,
        Command::Report { cmd } => {
            crate::cli_attribution::run_report_command(require_db(db)?, cmd)?
        }
        Command::Source { cmd } => crate::cli_sync::run_source_command(require_db(db)?, cmd)?,
        Command::Sync(args) => crate::cli_sync::run_sync(require_db(db)?, args)?,
        Command::Views(cmd) => crate::cli_views::run_views_command(require_db(db)?, cmd)?,
        Command::Trust(cmd) => crate::cli_trust::run_trust_command(require_db(db)?, cmd)?,
        Command::Statement(args) => crate::cli_statement::run_statement(require_db(db)?, args)?,
        Command::Listen(args) => crate::cli_realtime::run_listen(require_db(db)?, args)?,
        Command::Webhook { cmd } => crate::cli_realtime::run_webhook_command(require_db(db)?, cmd)?,
        Command::Alert { cmd } => crate::cli_realtime::run_alert_command(require_db(db)?, cmd)?,
        Command::Compact => run_compact(require_db(db)?)?,
        Command::Overview { format } => {
            let path = require_db(db)?;
            let store = workspace::open(path)?;
            let now = lookback_app::clock::now_ms();
            let overview = workspace::overview(&store, path, None, now)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&overview)?),
                OutputFormat::Table => print_overview(&overview),
            }
        }
    }
    Ok(())
}

/// `lookback compact`: a progress line on stderr while it works, one line of result on stdout.
fn run_compact(path: &Path) -> Result<()> {
    use std::io::Write as _;
    let mut store = workspace::open(path)?;
    let mut shown = false;
    // Redrawn when the percentage moves, not per batch: about a hundred updates on any size,
    // so a log that captures stderr stays short.
    let mut last_percent = None;
    let summary = workspace::compact_raw_events(
        &mut store,
        lookback_app::clock::now_ms(),
        |done, total| {
            let percent = (done * 100).checked_div(total).unwrap_or(100);
            if last_percent == Some(percent) {
                return;
            }
            last_percent = Some(percent);
            eprint!("\rcompacting raw events: {done} of {total} ({percent}%)");
            let _ = std::io::stderr().flush();
            shown = true;
        },
        &|| false,
    )?;
    if shown {
        eprintln!();
    }
    let megabytes = |bytes: u64| bytes as f64 / 1_000_000.0;
    if summary.was_already_compact() {
        println!(
            "{}: already compact ({:.1} MB)",
            path.display(),
            megabytes(summary.bytes_after)
        );
    } else {
        let moved = if summary.events_moved_to_blocks > 0 {
            format!(
                "{} touch payloads moved into blocks, ",
                summary.events_moved_to_blocks
            )
        } else {
            String::new()
        };
        println!(
            "{}: {moved}{} raw events converted, {} dictionaries trained{}; {:.1} MB -> {:.1} MB",
            path.display(),
            summary.rows_converted,
            summary.dictionaries_trained,
            if summary.vacuumed {
                ", space reclaimed"
            } else {
                ""
            },
            megabytes(summary.bytes_before),
            megabytes(summary.bytes_after)
        );
    }
    Ok(())
}

/// The end (exclusive) of a UTC calendar day given as YYYY-MM-DD: the next midnight.
fn end_of_day_ms(day: &str) -> Result<i64> {
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .with_context(|| format!("--end {day:?} is not a date of the form YYYY-MM-DD"))?;
    let next = date.succ_opt().context("--end is out of range")?;
    Ok(next
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis())
}

fn print_overview(o: &lookback_app::wire::Overview) {
    let when = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "—".into())
    };
    println!("workspace   {} ({})", o.workspace.name, o.workspace.path);
    println!("orders      {}", o.orders);
    // The headline in the reporting currency, then the split by currency it converts.
    println!(
        "net revenue {} {}",
        o.headline.net_revenue.currency, o.headline.net_revenue.amount
    );
    for u in &o.headline.unconverted_revenue {
        println!(
            "            not converted (no exchange rate): {} {} over {} orders",
            u.amount.currency, u.amount.amount, u.rows
        );
    }
    println!(
        "ad spend    {} {}",
        o.headline.ad_spend.currency, o.headline.ad_spend.amount
    );
    for u in &o.headline.unconverted_spend {
        println!(
            "            not converted (no exchange rate): {} {} over {} spend rows",
            u.amount.currency, u.amount.amount, u.rows
        );
    }
    for r in &o.revenue {
        println!(
            "revenue     {} gross {}  refunds {}  chargebacks {}  net {}",
            r.currency, r.gross.amount, r.refunds.amount, r.chargebacks.amount, r.net.amount
        );
    }
    for s in &o.spend {
        println!("spend       {} {}", s.currency, s.amount);
    }
    println!("touches     {}", o.touches);
    println!("creators    {}", o.creators);
    println!("campaigns   {}", o.campaigns);
    println!(
        "span        {} → {}",
        when(o.first_activity_at_ms),
        when(o.last_activity_at_ms)
    );
    println!("dead letters {}", o.dead_letters);
    for s in &o.sources {
        println!(
            "source      {} [{}] {} · last success {} · {} records",
            s.name,
            s.kind,
            s.state.as_str(),
            when(s.last_success_at_ms),
            s.records
        );
    }
}
