//! `lookback traffic`: how many touches of each source and channel are people, suspicious or
//! bots (link previews, e-mail scanners, prefetches, crawlers), and the rule sets that decide
//! it — shown, logged, and changed with a reason (which re-classifies every touch).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use lookback_app::clock::now_ms;
use lookback_app::traffic;
use lookback_core::money::{Currency, format_minor};
use lookback_core::time::format_instant_ms;
use lookback_report::render;
use lookback_store::Store;

use crate::cli_attribution::ReportFormat;

#[derive(Debug, Subcommand)]
pub enum TrafficCommand {
    /// Touches per source and channel: people, suspicious and bots, with the share that is not
    /// a person's and the family most of it comes from.
    Summary {
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Print the rule set in force (or version N) as JSON: the file `traffic rules set` reads.
    Rules {
        #[arg(long, value_name = "N")]
        version: Option<u32>,
    },
    /// The log of rule sets: who adopted each, when and why.
    Log,
    /// Re-classify every touch under the rule set in force (no new version): decides what
    /// only hindsight can, such as a scanner's sweep (a visitor's only touches, seconds apart,
    /// then nothing), for the touches that arrived since.
    Reclassify,
    /// Adopt the rule set in FILE (JSON, as `traffic rules` prints it) and re-classify every
    /// touch under it; logged with who, when and why, like a change of model.
    SetRules {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Why the rules change; required, it is what the log is for.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Record the change under this profile name instead of the OS user.
        #[arg(long = "as", value_name = "NAME")]
        as_profile: Option<String>,
    },
}

fn open(db: &Path) -> Result<Store> {
    Store::open(db).with_context(|| format!("cannot open workspace {}", db.display()))
}

/// Runs one `traffic` subcommand.
pub fn run_traffic_command(db: &Path, cmd: TrafficCommand) -> Result<()> {
    match cmd {
        TrafficCommand::Summary { format } => {
            let mut store = open(db)?;
            let summary = traffic::traffic_summary(&mut store, now_ms())?;
            let currency = Currency::parse(&summary.currency)?;
            let money = |minor: i64| format_minor(minor, currency);
            let header = [
                "source",
                "channel",
                "touches",
                "human",
                "suspicious",
                "bot",
                "not_human_share",
                "top_family",
                "credited_human",
                "credited_suspicious",
                "credited_bot",
                "currency",
            ];
            let cells = |r: &traffic::ChannelTraffic, share: String| {
                vec![
                    r.source.clone(),
                    r.channel.clone(),
                    r.touches().to_string(),
                    r.human.to_string(),
                    r.suspicious.to_string(),
                    r.bot.to_string(),
                    share,
                    r.top_family.clone().unwrap_or_default(),
                    money(r.credited_minor[0]),
                    money(r.credited_minor[1]),
                    money(r.credited_minor[2]),
                    summary.currency.clone(),
                ]
            };
            let provenance = summary.provenance();
            match format {
                ReportFormat::Csv => {
                    eprintln!("{provenance}");
                    print!(
                        "{}",
                        render::csv_document(
                            &header,
                            summary
                                .rows
                                .iter()
                                .map(|r| cells(r, format!("{:.6}", r.non_human_share())))
                        )
                    );
                }
                ReportFormat::Json => {
                    let items: Vec<serde_json::Value> = summary
                        .rows
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "source": r.source, "channel": r.channel, "touches": r.touches(),
                                "human": r.human, "suspicious": r.suspicious, "bot": r.bot,
                                "not_human_share": r.non_human_share(), "top_family": r.top_family,
                                "credited_human_minor": r.credited_minor[0],
                                "credited_suspicious_minor": r.credited_minor[1],
                                "credited_bot_minor": r.credited_minor[2],
                            })
                        })
                        .collect();
                    let document = serde_json::json!({
                        "rules_version": summary.rules_version, "run_id": summary.run_id,
                        "model": summary.model, "currency": summary.currency, "rows": items,
                    });
                    println!("{}", serde_json::to_string_pretty(&document)?);
                }
                ReportFormat::Table => {
                    if summary.rows.is_empty() {
                        println!("no touches yet");
                    } else {
                        println!("{provenance}");
                        let table: Vec<Vec<String>> = summary
                            .rows
                            .iter()
                            .map(|r| cells(r, format!("{:.1} %", r.non_human_share() * 100.0)))
                            .collect();
                        print!("{}", crate::cli_print::table(&header, &table));
                    }
                }
            }
        }
        TrafficCommand::Rules { version } => {
            let store = open(db)?;
            let history = traffic::rule_history(&store)?;
            let wanted = match version {
                None => history.last(),
                Some(n) => history.iter().find(|c| c.version == n),
            }
            .with_context(|| {
                format!(
                    "no traffic rule set version {}; the workspace has 1 to {}",
                    version.unwrap_or_default(),
                    history.last().map_or(1, |c| c.version)
                )
            })?;
            print!("{}", wanted.rules.to_json());
        }
        TrafficCommand::Log => {
            let store = open(db)?;
            for change in traffic::rule_history(&store)? {
                let when = change
                    .adopted_at_ms
                    .map(|ms| format_instant_ms(ms).unwrap_or_else(|_| ms.to_string()))
                    .unwrap_or_else(|| "from the start".to_owned());
                println!(
                    "v{} {} by {} — {} ({} rules)",
                    change.version,
                    when,
                    change.adopted_by,
                    change.reason,
                    change.rules.rules.len()
                );
            }
        }
        TrafficCommand::Reclassify => {
            let mut store = open(db)?;
            let mut progress = |done: u64, all: u64| {
                eprint!("\rre-classifying touches: {done} of {all}");
            };
            let summary = traffic::reclassify(&mut store, &mut progress)?;
            eprintln!();
            println!(
                "{} touches re-classified under rule set version {}",
                summary.touches, summary.version
            );
            print_moved(&summary);
        }
        TrafficCommand::SetRules {
            file,
            reason,
            as_profile,
        } => {
            let reason = lookback_app::attribution::require_reason(reason.as_deref())?;
            let rules = traffic::read_rules_file(&file)?;
            let mut store = open(db)?;
            let (before, _) = store.traffic_rules()?;
            let mut progress = |done: u64, all: u64| {
                eprint!("\rre-classifying touches: {done} of {all}");
            };
            let summary = traffic::adopt_rules(
                &mut store,
                &rules,
                as_profile.as_deref(),
                reason,
                now_ms(),
                &mut progress,
            )?;
            eprintln!();
            println!(
                "traffic rules changed from version {before} to {} ({} touches re-classified)",
                summary.version, summary.touches
            );
            print_moved(&summary);
        }
    }
    Ok(())
}

/// The touches a re-classification moved, one line per change of class.
fn print_moved(summary: &lookback_store::Reclassification) {
    for ((from, to), n) in &summary.moved {
        if from != to {
            println!("  {n} {} → {}", from.as_str(), to.as_str());
        }
    }
    if summary.moved.iter().all(|((from, to), _)| from == to) {
        println!("  no touch changed class");
    }
}
