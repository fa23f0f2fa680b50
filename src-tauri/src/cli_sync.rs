//! The sync commands of the CLI: `lookback --db FILE source add|connect|list|remove|test|reconnect` and
//! `lookback --db FILE sync [SOURCE...]`. Each parses its flags, calls lookback-sync, and
//! prints; the system clock is read here and passed down.
//!
//! Output conventions:
//! - Secrets are read from stdin (a prompt without echo on a terminal), never from argv, and
//!   are never printed.
//! - `sync` prints one progress line per committed page (and per wait) on stderr and a summary
//!   line per stream on stdout; it exits non-zero when a source failed, after syncing the others.
//! - Ctrl-C cancels the sync after the current page; the next `sync` resumes from there.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lookback_core::time::format_instant_ms;
use lookback_sync::{CancellationToken, RateLimit, StreamOutcome, SyncEvent, SyncOptions};

use lookback_app::clock::now_ms;
use lookback_app::{sources, workspace};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a source; its secret (API key or token) is read from stdin into the OS keyring.
    ///
    /// Example: `printf %s "$STRIPE_KEY" | lookback --db w.lookback source add stripe --name shop`
    ///
    /// google_ads takes your OAuth client and, for headless use, a refresh token, as a JSON
    /// object `{"client_id":…,"client_secret":…,"refresh_token":…,"developer_token":…}` or as
    /// `name=value` lines with those names (`refresh_token` may be left out: then run `source
    /// connect`; `developer_token` is optional): `printf 'client_id=%s\nclient_secret=%s\n'
    /// "$ID" "$SECRET" | lookback --db w.lookback source add google_ads --name gads --account
    /// MANAGER_ID/CUSTOMER_ID` (`MANAGER_ID/` sends `login-customer-id`).
    ///
    /// shopify takes a Dev Dashboard app's `client_id` and `client_secret` the same way, or a
    /// legacy custom app's `shpat_…` token alone.
    Add {
        /// The kind of source: meta, google_ads, tiktok, stripe, shopify, dub, rewardful, generic.
        kind: String,
        /// The name to refer to it by (letters, digits, '-', '_', '.').
        #[arg(long)]
        name: String,
        /// The API root, if not the platform's public one (required for `generic`).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// The account to read: ad account, advertiser, customer id or shop.
        #[arg(long)]
        account: Option<String>,
        /// The OAuth token endpoint, if not the platform's (tests, a proxy).
        #[arg(long, value_name = "URL")]
        oauth_token_url: Option<String>,
        /// The OAuth consent page, if not the platform's (tests).
        #[arg(long, value_name = "URL")]
        oauth_authorize_url: Option<String>,
    },
    /// Connect a google_ads source to a Google account: opens the consent page in the browser
    /// (PKCE, redirect to 127.0.0.1), and keeps the refresh token in the OS keyring. Also the
    /// way to reconnect a source whose access was revoked. The URL is printed too, to open by
    /// hand; `LOOKBACK_BROWSER` names another browser command (`none`: print only).
    Connect {
        name: String,
        /// Seconds to wait for the answer on the consent page.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
    },
    /// List the registered sources with their sync health.
    List,
    /// Remove a source and its keyring entry; the data it brought stays.
    Remove { name: String },
    /// Make one cheap authenticated request to check the credential (and, for meta, read the
    /// token's expiry and permissions).
    Test { name: String },
    /// Replace the secret of a source whose credential the platform refused ("needs
    /// reconnecting"): the new secret is read from stdin like `source add` and replaces the
    /// keyring entry; the source, its data and checkpoints stay.
    ///
    /// Example: `printf %s "$NEW_META_TOKEN" | lookback --db w.lookback source reconnect ads`
    Reconnect { name: String },
    /// Normalize the source's dead letters again (after an upgrade that fixed the cause);
    /// those that now work are written and marked resolved.
    Replay { name: String },
}

/// `lookback sync [SOURCE...]`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The sources to sync (all when none is named).
    pub sources: Vec<String>,
    /// Requests per second per source, overriding the platform's documented limit.
    #[arg(long, value_name = "RPS")]
    pub rate_limit: Option<f64>,
    /// Days to re-read on every sync, overriding the platform's restatement window.
    #[arg(long, value_name = "DAYS")]
    pub restatement_days: Option<u32>,
    /// Records per request (clamped to the platform's maximum).
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    lookback_app::runtime::command_runtime().context("cannot start the async runtime")
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| format_instant_ms(ms).ok())
        .unwrap_or_else(|| "never".to_owned())
}

/// Runs one `source` subcommand against the workspace at `db`.
pub fn run_source_command(db: &Path, command: SourceCommand) -> Result<()> {
    let mut store = workspace::open(db)?;
    match command {
        SourceCommand::Add {
            kind,
            name,
            base_url,
            account,
            oauth_token_url,
            oauth_authorize_url,
        } => {
            // Validate the kind before asking for a secret.
            lookback_sync::registry::connector_for_kind(&kind)?;
            let secret = lookback_sync::credentials::read_secret_from_stdin(&format!(
                "secret for {name} ({kind}): "
            ))?;
            let to_add = sources::SourceToAdd {
                kind,
                name,
                base_url,
                account,
                oauth_token_url,
                oauth_authorize_url,
            };
            let (source, facts) = sources::add_vetted(&mut store, to_add, &secret, now_ms())?;
            println!(
                "added source {} ({}); its secret is in the OS keyring",
                source.name, source.kind
            );
            if let Some(facts) = facts {
                println!(
                    "{}",
                    lookback_sync::credential_check::describe_facts(&source.name, &facts)
                );
            }
        }
        SourceCommand::Connect { name, timeout } => {
            drop(store);
            let source = sources::connect(
                db,
                &name,
                std::time::Duration::from_secs(timeout),
                &mut |line| eprintln!("{line}"),
            )?;
            println!(
                "connected {}: its refresh token is in the OS keyring; `lookback sync {}` can run now",
                source.name, source.name
            );
            return Ok(());
        }
        SourceCommand::List => {
            let rows = sources::source_rows(&store, now_ms())?;
            if rows.is_empty() {
                println!("no sources (add one with `lookback source add KIND --name NAME`)");
            }
            for row in rows {
                println!(
                    "{}\t{}\t{}\tlast success {}\t{} records\t{} dead letters{}",
                    row.name,
                    row.kind,
                    row.base_url.as_deref().unwrap_or("(default)"),
                    when(row.last_success_at_ms),
                    row.records,
                    row.dead_letters,
                    row.last_error
                        .map(|e| format!("\tlast error: {e}"))
                        .unwrap_or_default()
                );
            }
        }
        SourceCommand::Remove { name } => {
            let source = sources::remove(&mut store, &name)?;
            println!(
                "removed source {} and its keyring entry; the data it brought stays in the workspace",
                source.name
            );
        }
        SourceCommand::Test { name } => {
            for line in sources::test(&mut store, &name, now_ms())? {
                println!("{line}");
            }
        }
        SourceCommand::Reconnect { name } => {
            let source = lookback_sync::find_source(&store, &name)?;
            let secret = lookback_sync::credentials::read_secret_from_stdin(&format!(
                "new secret for {} ({}): ",
                source.name, source.kind
            ))?;
            let (source, facts) = sources::reconnect_vetted(&mut store, &name, &secret, now_ms())?;
            println!(
                "reconnected source {} ({}): the new secret replaced the old one in the OS keyring; its data and checkpoints are kept, and the next sync resumes where the last one stopped",
                source.name, source.kind
            );
            if let Some(facts) = facts {
                println!(
                    "{}",
                    lookback_sync::credential_check::describe_facts(&source.name, &facts)
                );
            }
        }
        SourceCommand::Replay { name } => {
            let source = lookback_sync::find_source(&store, &name)?;
            let summary = sources::replay(&mut store, &source.source_id, now_ms())?;
            println!(
                "{}: {} dead letters examined, {} resolved, {} still failing",
                source.name, summary.examined, summary.resolved, summary.still_failing
            );
        }
    }
    Ok(())
}
/// Runs `lookback sync` against the workspace at `db`.
pub fn run_sync(db: &Path, args: SyncArgs) -> Result<()> {
    let mut store = workspace::open(db)?;
    let all = store.sources()?;
    let selected: Vec<_> = if args.sources.is_empty() {
        all
    } else {
        args.sources
            .iter()
            .map(|name| lookback_sync::find_source(&store, name))
            .collect::<Result<_, _>>()?
    };
    if selected.is_empty() {
        bail!("no sources to sync (add one with `lookback source add KIND --name NAME`)");
    }
    let runtime = runtime()?;
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ncancelling after the current page…");
            on_interrupt.cancel();
        }
    });
    let interactive = std::io::stderr().is_terminal();
    let mut failures = Vec::new();
    for source in &selected {
        let mut options = SyncOptions::new(now_ms());
        options.rate_limit = args.rate_limit.map(|rps| RateLimit {
            requests_per_second: rps,
            burst: rps.ceil().max(1.0) as u32,
        });
        options.restatement_days = args.restatement_days;
        options.page_size = args.page_size;
        let mut progress = |event: &SyncEvent| print_progress(event, interactive);
        let result = sources::sync_source(&mut store, source, &options, &cancel, &mut progress);
        if interactive {
            eprintln!();
        }
        match result {
            Ok(summary) => {
                for stream in &summary.streams {
                    let c = &stream.counters;
                    let outcome = match &stream.outcome {
                        StreamOutcome::Complete => "complete".to_owned(),
                        StreamOutcome::Failed(error) => format!("FAILED: {error}"),
                        StreamOutcome::Unavailable(detail) => format!("skipped: {detail}"),
                        StreamOutcome::Cancelled => "cancelled".to_owned(),
                        other => format!("{other:?}"),
                    };
                    println!(
                        "{}/{}: {} new, {} unchanged, {} updated, {} dead letters, {} unknown fields; {} pages, {} retries, waited {:.1} s; {}",
                        source.name,
                        stream.stream,
                        c.inserted,
                        c.duplicates,
                        c.new_versions,
                        c.dead_letters,
                        c.unknown_fields,
                        c.pages,
                        c.retries,
                        c.waited.as_secs_f64(),
                        outcome
                    );
                }
                if summary.failure().is_some() {
                    failures.push(source.name.clone());
                }
            }
            Err(lookback_sync::SyncError::Cancelled) => {
                bail!("the sync was cancelled; run it again to resume from the last committed page")
            }
            Err(error) => {
                eprintln!("error: {error}");
                failures.push(source.name.clone());
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} sources failed: {}",
            failures.len(),
            selected.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// One progress line on stderr: rewritten in place on a terminal, one line per event otherwise.
fn print_progress(event: &SyncEvent, interactive: bool) {
    let line = match event {
        SyncEvent::PageCommitted {
            source_id,
            stream,
            counters,
        } => format!(
            "{source_id}/{stream}: {} pages, {} records, {} retries, waited {:.1} s",
            counters.pages,
            counters.records,
            counters.retries,
            counters.waited.as_secs_f64()
        ),
        SyncEvent::Waiting {
            source_id,
            stream,
            seconds,
            reason,
        } => {
            format!("{source_id}/{stream}: waiting {seconds:.1} s ({reason})")
        }
        _ => return,
    };
    let mut stderr = std::io::stderr().lock();
    if interactive {
        let _ = write!(stderr, "\r\x1b[2K{line}");
    } else {
        let _ = writeln!(stderr, "{line}");
    }
    let _ = stderr.flush();
}
