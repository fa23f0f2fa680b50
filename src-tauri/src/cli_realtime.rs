//! The real-time commands of the CLI: `lookback listen` (the webhook receiver, its normalizer
//! and alert checks until Ctrl-C), `lookback webhook secret add|list|remove` and
//! `lookback alert add|list|remove|check|slack-url`. Each parses its flags, calls
//! lookback-sync or lookback-alerts, and prints; the system clock is read here.
//!
//! Secrets (webhook secrets, the Slack URL) are read from stdin into the OS keyring and never
//! printed.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use lookback_alerts::{AlertKind, Channel, StderrNotifier};
use lookback_sync::webhooks::{self, RealtimeEvent};

use lookback_app::clock::now_ms;
use lookback_app::{realtime, workspace};

/// `lookback listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The address to listen on. Loopback by default; expose it to the internet through a
    /// tunnel rather than by binding a public address.
    #[arg(long, default_value = webhooks::DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Accepted distance between a signed timestamp and this machine's clock, in seconds.
    #[arg(long, default_value_t = 300)]
    pub tolerance_secs: u64,
    /// Largest accepted body in bytes (larger deliveries get 413).
    #[arg(long, default_value_t = webhooks::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Seconds between alert checks while listening.
    #[arg(long, default_value_t = 30)]
    pub alert_interval_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Manage the secrets deliveries are verified with (several may be valid at once).
    Secret {
        #[command(subcommand)]
        cmd: SecretCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Add a secret of a source (read from stdin into the OS keyring); older ones stay valid
    /// until removed, which is how a rotation works.
    Add {
        #[arg(long)]
        source: String,
    },
    /// List the sources with webhook secrets and how many each has (never the secrets).
    List {
        #[arg(long)]
        source: Option<String>,
    },
    /// Remove every secret of a source.
    Remove {
        #[arg(long)]
        source: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// A creator's attributed net revenue in a rolling 24 h reaches THRESHOLD (money).
    CreatorRevenue,
    /// One order through a creator's link is at least THRESHOLD (money).
    LargeOrder,
    /// A source's sync has been failing for THRESHOLD minutes.
    SyncFailing,
    /// More than THRESHOLD dead letters are unresolved.
    DeadLetters,
    /// A source's data health is stale or failing with no success for THRESHOLD minutes, or
    /// its volume dropped below half the usual day.
    SourceHealth,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelArg {
    Desktop,
    Slack,
}

/// `lookback alert add KIND --threshold X ...`.
#[derive(Debug, Args)]
pub struct AlertAddArgs {
    pub kind: KindArg,
    /// Money in major units for money kinds (`100`, `99.50`), minutes or a count otherwise.
    #[arg(long)]
    pub threshold: String,
    /// The creator id (money kinds) or source (sync-failing, dead-letters, source-health); all when omitted.
    #[arg(long)]
    pub subject: Option<String>,
    /// Currency of a money threshold (ISO 4217); USD by default.
    #[arg(long)]
    pub currency: Option<String>,
    /// Count pending and disputed orders too (money kinds count settled orders only by default).
    #[arg(long)]
    pub include_provisional: bool,
    /// Judge the 24 h window ending this many minutes ago, so late refunds and click ids land.
    #[arg(long, default_value_t = 0)]
    pub grace_minutes: i64,
    #[arg(long, value_enum, default_value_t = ChannelArg::Desktop)]
    pub channel: ChannelArg,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Add an alert rule.
    Add(AlertAddArgs),
    /// List the rules and the notifications sent.
    List,
    /// Remove a rule (its notifications stay as history).
    Remove { rule_id: i64 },
    /// Evaluate every rule now and deliver what is due.
    Check,
    /// Store the Slack incoming-webhook URL (read from stdin) in the OS keyring.
    SlackUrl,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    lookback_app::runtime::command_runtime().context("cannot start the async runtime")
}

/// Runs `lookback webhook ...`.
pub fn run_webhook_command(db: &Path, command: WebhookCommand) -> Result<()> {
    let mut store = workspace::open(db)?;
    let WebhookCommand::Secret { cmd } = command;
    match cmd {
        SecretCommand::Add { source } => {
            let secret = lookback_sync::credentials::read_secret_from_stdin(&format!(
                "webhook secret for {source}: "
            ))?;
            let count = realtime::add_webhook_secret(&mut store, &source, &secret, now_ms())?;
            println!(
                "added a webhook secret for {source} ({count} valid); it is in the OS keyring"
            );
        }
        SecretCommand::List { source } => {
            let refs = realtime::webhook_secrets(&store, source.as_deref())?;
            if refs.is_empty() {
                println!(
                    "no webhook secrets (add one with `lookback webhook secret add --source NAME`)"
                );
            }
            for r in refs {
                let added =
                    lookback_core::time::format_instant_ms(r.added_at_ms).unwrap_or_default();
                println!("{}\tadded {added}", r.source);
            }
        }
        SecretCommand::Remove { source } => {
            let removed = realtime::remove_webhook_secrets(&mut store, &source)?;
            println!("removed {removed} webhook secret(s) of {source}");
        }
    }
    Ok(())
}

/// Runs `lookback alert ...`.
pub fn run_alert_command(db: &Path, command: AlertCommand) -> Result<()> {
    let mut store = workspace::open(db)?;
    match command {
        AlertCommand::Add(args) => {
            let kind = match args.kind {
                KindArg::CreatorRevenue => AlertKind::CreatorRevenue,
                KindArg::LargeOrder => AlertKind::LargeOrder,
                KindArg::SyncFailing => AlertKind::SyncFailing,
                KindArg::DeadLetters => AlertKind::DeadLetters,
                KindArg::SourceHealth => AlertKind::SourceHealth,
            };
            let rule = realtime::AlertRuleToAdd {
                kind,
                subject: args.subject,
                threshold: args.threshold,
                currency: args.currency,
                include_provisional: args.include_provisional,
                grace_minutes: args.grace_minutes,
                channel: match args.channel {
                    ChannelArg::Desktop => Channel::Desktop,
                    ChannelArg::Slack => Channel::Slack,
                },
            };
            let id = realtime::add_rule(&mut store, rule, now_ms())?;
            println!("added alert rule {id} ({})", kind.as_str());
        }
        AlertCommand::List => {
            for rule in realtime::alert_rules(&store)? {
                let kind = AlertKind::from(rule.kind);
                println!(
                    "rule {}\t{}\tsubject {}\tthreshold {}{}\t{}\tgrace {} min\t{}",
                    rule.rule_id,
                    kind.as_str(),
                    rule.subject.as_deref().unwrap_or("(all)"),
                    rule.threshold,
                    rule.currency
                        .map(|c| format!(" {c} minor units"))
                        .unwrap_or_default(),
                    match (kind.is_money(), rule.include_provisional) {
                        (false, _) => "-",
                        (true, true) => "settled + provisional",
                        (true, false) => "settled only",
                    },
                    rule.grace_minutes,
                    Channel::from(rule.channel).as_str()
                );
            }
            for n in realtime::alert_notifications(&store)? {
                println!(
                    "notification {}\trule {}\t{}\t{}\t{} attempt(s)\t{}",
                    n.notification_id, n.rule_id, n.state, n.channel, n.attempts, n.title
                );
            }
        }
        AlertCommand::Remove { rule_id } => {
            realtime::remove_alert_rule(&mut store, rule_id, now_ms())?;
            println!("removed alert rule {rule_id}");
        }
        AlertCommand::Check => {
            let summary =
                realtime::check_alerts_once(&mut store, &runtime()?, Box::new(StderrNotifier))?;
            println!(
                "{} finding(s), {} new notification(s), {} sent, {} failed (dead letters), {} waiting for a channel",
                summary.findings,
                summary.claimed,
                summary.sent,
                summary.failed,
                summary.undeliverable
            );
        }
        AlertCommand::SlackUrl => {
            let url =
                lookback_sync::credentials::read_secret_from_stdin("Slack incoming-webhook URL: ")?;
            realtime::set_slack_url(&url)?;
            println!("stored the Slack incoming-webhook URL in the OS keyring");
        }
    }
    Ok(())
}

/// Runs `lookback listen` until Ctrl-C.
pub fn run_listen(db: &Path, args: ListenArgs) -> Result<()> {
    if !args.bind.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} — reachable from other machines; prefer loopback and a tunnel",
            args.bind
        );
    }
    let options = realtime::ListenerOptions {
        bind: args.bind,
        tolerance: Duration::from_secs(args.tolerance_secs),
        max_body_bytes: args.max_body_bytes,
        alert_interval: Duration::from_secs(args.alert_interval_secs.max(1)),
    };
    let runtime = runtime()?;
    let listener = runtime.block_on(realtime::Listener::start(
        db,
        options,
        Arc::new(|| Box::new(StderrNotifier) as Box<dyn lookback_alerts::Notifier>),
        Arc::new(|event| match event {
            RealtimeEvent::Stored {
                source,
                stream,
                event_id,
            } => eprintln!("stored {source}/{stream} {event_id}"),
            RealtimeEvent::Normalized(s) => eprintln!(
                "normalized {} delivery(ies), {} dead letter(s)",
                s.handled, s.dead_letters
            ),
        }),
    ))?;
    if listener.secret_count() == 0 {
        eprintln!(
            "warning: no webhook secrets yet; every delivery will get 401 (add one with `lookback webhook secret add --source NAME`)"
        );
    }
    println!("listening on http://{}", listener.local_addr());
    println!(
        "  POST /webhooks/stripe/<source>   POST /webhooks/dub/<source>   POST /webhooks/generic/<source>"
    );
    println!("  GET|POST /postback/<source>?token=...");
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    eprintln!("stopping: finishing acknowledged deliveries…");
    runtime.block_on(listener.stop());
    Ok(())
}
