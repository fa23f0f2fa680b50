//! The trust commands of the CLI (issue #7): `backup`, `restore`, `check` (integrity),
//! `privacy erase|purge|settings|log`, `reconcile`, `conservation`, `what-moved`,
//! `duplicates` and `health`. Each parses its flags, calls one lookback-app job
//! (`lookback_app::trust`, and `views::reconcile_report` as the window's Reconciliation screen)
//! and prints the result; the system clock is read here and passed down.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use lookback_app::clock::now_ms;
use lookback_app::trust;
use lookback_app::views::{self, ViewSelection};
use lookback_store::Store;
use lookback_trust::{CredentialExpiry, ErasureKey, GapCause, HealthState, Reconciliation};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Write a consistent backup of the workspace to a new file, even while a sync is writing.
    Backup {
        /// The backup file to create; it must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup into a new workspace (--db names the new file; it must not exist).
    Restore {
        /// The backup file to restore from; only read.
        #[arg(long, value_name = "BACKUP")]
        from: PathBuf,
    },
    /// Run the full integrity check and recount the workspace's totals; a damaged workspace is
    /// reported (and opens read-only).
    Check,
    /// Privacy: erase a person, purge old raw payloads, privacy settings, the erasure log.
    Privacy {
        #[command(subcommand)]
        cmd: PrivacyCommand,
    },
    /// Order revenue vs attributed vs unattributed per source and day, with the gap explained.
    Reconcile(ReconcileArgs),
    /// Check that a run's credits sum exactly to the net revenue of its attributed orders.
    Conservation {
        /// The run to check (default: the latest complete run of the workspace's model).
        #[arg(long)]
        run: Option<i64>,
    },
    /// What moved per creator between two runs.
    WhatMoved {
        #[arg(long, value_name = "RUN")]
        before: i64,
        #[arg(long, value_name = "RUN")]
        after: i64,
    },
    /// Raw events, distinct records and restated versions per source.
    Duplicates,
    /// Health per source: ok, stale, failing or needs_reconnecting (the platform refused the
    /// credential: `lookback source reconnect NAME` fixes it), with the credential's expiry.
    Health {
        /// Hours after the last success at which a source is stale (default: 6, as the window).
        #[arg(long)]
        stale_after_hours: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Erase a person by any key: their whole identity component is removed or anonymized.
    Erase(EraseArgs),
    /// Blank raw payloads older than the retention setting (canonical rows and credits stay).
    Purge,
    /// Show or change the privacy settings.
    Settings {
        /// Keep PII fields of raw payloads (names, phones, IPs, user agents, addresses).
        #[arg(long, value_name = "on|off")]
        store_raw_pii: Option<OnOff>,
        /// Days to keep raw payloads before `purge` blanks them, or `off`.
        #[arg(long, value_name = "DAYS|off")]
        retention_days: Option<String>,
    },
    /// The erasure audit log (what was erased and when, never who).
    Log,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct EraseArgs {
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    customer_id: Option<String>,
    #[arg(long)]
    anonymous_id: Option<String>,
    #[arg(long)]
    device_id: Option<String>,
    #[arg(long)]
    person_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// First day (YYYY-MM-DD, reporting zone); default: 30 days before --to.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day, inclusive; default: the last day with data.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Top contributors to name per cause (default: 5, as the window).
    #[arg(long)]
    top: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs one trust command on the workspace `db` (for `restore`: the new workspace).
pub fn run_trust_command(db: &Path, cmd: TrustCommand) -> Result<()> {
    match cmd {
        TrustCommand::Backup { out } => {
            let summary = trust::backup(db, &out)?;
            println!("{}", trust::describe_backup(db, &summary));
        }
        TrustCommand::Restore { from } => {
            let summary = trust::restore(&from, db)?;
            println!(
                "restored {} into new workspace {} ({} bytes)",
                from.display(),
                summary.path.display(),
                summary.bytes
            );
        }
        TrustCommand::Check => {
            trust::check(db, lookback_app::clock::now_ms())?;
            println!("{}", trust::describe_check_passed(db));
        }
        TrustCommand::Privacy { cmd } => run_privacy(db, cmd)?,
        TrustCommand::Reconcile(args) => {
            let selection = ViewSelection {
                from: views::parse_day(args.from.as_deref(), "from")?,
                to: views::parse_day(args.to.as_deref(), "to")?,
                ..ViewSelection::default()
            };
            let store = trust::open_for_reading(db)?;
            let report = views::reconcile_report(&store, &selection, args.top, now_ms())?;
            print_reconciliation(&report, args.format)?;
            if let Some(conservation) = &report.conservation
                && !conservation.holds()
            {
                bail!(
                    "run {} violates credit conservation on {} orders (see `lookback conservation`)",
                    conservation.run_id,
                    conservation.violations.len()
                );
            }
        }
        TrustCommand::Conservation { run } => {
            let (run_id, report) = trust::conservation(&trust::open_for_reading(db)?, run)?;
            if report.holds() {
                println!(
                    "ok: run {run_id} conserves credit (Σ credits = Σ net revenue of attributed orders, exactly)"
                );
            } else {
                for v in &report.violations {
                    println!(
                        "order {}  net {}  credited {}  ({} credit rows)",
                        v.order_id, v.net_minor, v.credited_minor, v.credit_rows
                    );
                }
                bail!(
                    "run {run_id} violates credit conservation on {} orders",
                    report.violations.len()
                );
            }
        }
        TrustCommand::WhatMoved { before, after } => {
            let moves = trust::what_moved(&trust::open_for_reading(db)?, before, after)?;
            if moves.is_empty() {
                println!("nothing moved between run {before} and run {after}");
            }
            for m in moves {
                println!(
                    "{:<24} {:>12} → {:>12}  ({:+})",
                    m.creator_id.as_deref().unwrap_or("(no creator)"),
                    m.before_minor,
                    m.after_minor,
                    m.delta_minor
                );
            }
        }
        TrustCommand::Duplicates => {
            for d in trust::duplicates(&trust::open_for_reading(db)?)? {
                println!(
                    "{:<20} {} raw events · {} records · {} restated versions",
                    d.source, d.raw_events, d.distinct_records, d.restated_versions
                );
            }
        }
        TrustCommand::Health {
            stale_after_hours,
            format,
        } => {
            let store = Store::open(db)?;
            let now = now_ms();
            let health = trust::health_states(&store, now, stale_after_hours)?;
            print_health(&health, format, now)?;
        }
    }
    Ok(())
}

fn print_health(health: &trust::SourceHealth, format: Format, now: i64) -> Result<()> {
    let window_days = health.window_days;
    let api_version = |kind: &str| lookback_app::sources::api_version_status(kind, now);
    match format {
        Format::Json => {
            let rows: Vec<_> = health
                .sources
                .iter()
                .map(|(s, kind)| (s, kind, api_version(kind)))
                .map(|(s, kind, (version, version_warning))| json!({"source_id": s.source_id, "name": s.name, "state": s.state.as_str(),
                    "last_success_at_ms": s.last_success_at_ms, "lag_ms": s.lag_ms, "last_error": s.last_error,
                    "unresolved_dead_letters": s.unresolved_dead_letters, "records_last_24h": s.records_last_24h,
                    "usual_daily_records": s.usual_daily_records, "volume_drop": s.volume_drop,
                    "window_days": window_days, "sync_runs": s.sync_runs, "failed_runs": s.failed_runs,
                    "error_rate": s.error_rate_text(), "retries": s.retries, "unknown_fields": s.unknown_fields,
                    "schema_dead_letters": s.schema_dead_letters,
                    "needs_reconnect_since_ms": s.needs_reconnect_since_ms,
                    "needs_reconnect_reason": s.needs_reconnect_reason,
                    "action": (s.state == HealthState::NeedsReconnecting)
                        .then(|| format!("lookback source reconnect {}", s.name)),
                    "credential_expiry": s.credential_expiry.as_str(),
                    "credential_expires_at_ms": s.credential_expiry.expires_at_ms(),
                    "credential_policy": lookback_app::sources::credential_policy(s.credential_expiry, kind)
                        .map(|l| l.in_words),
                    "api_version": version,
                    "api_version_warning": version_warning}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        Format::Csv => bail!(
            "write health as CSV with `lookback export health --out FILE.csv` (with its provenance sidecar)"
        ),
        Format::Table => {
            println!(
                "runs, errors, retries and schema drift over the last {window_days} days; volume: last 24 h vs the median day of the {} before",
                health.usual_days
            );
            for (s, kind) in &health.sources {
                let credential = match s.credential_expiry {
                    CredentialExpiry::Unknown => {
                        lookback_app::sources::credential_policy(s.credential_expiry, kind)
                            .map(|l| format!("  credential: {}", l.in_words))
                            .unwrap_or_default()
                    }
                    CredentialExpiry::Never => "  credential never expires".to_owned(),
                    CredentialExpiry::At { expires_at_ms } => {
                        format!("  credential expires {}", instant(expires_at_ms))
                    }
                    CredentialExpiry::Soon { expires_at_ms } => format!(
                        "  CREDENTIAL EXPIRES {} (make a new one: lookback source reconnect {})",
                        instant(expires_at_ms),
                        s.name
                    ),
                };
                let action = if s.state == HealthState::NeedsReconnecting {
                    format!("  → run `lookback source reconnect {}`", s.name)
                } else {
                    String::new()
                };
                println!(
                    "{:<20} {:<8} lag {}  last 24 h {} (usual {}){}  runs {} failed {} (error rate {})  retries {}  unknown fields {}  schema dead letters {}  dead letters {}{}",
                    s.source_id,
                    s.state.as_str(),
                    s.lag_ms
                        .map(|l| format!("{} min", l / 60_000))
                        .unwrap_or_else(|| "never synced".into()),
                    s.records_last_24h,
                    s.usual_daily_records
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| "not known yet".into()),
                    if s.volume_drop { "  VOLUME DROP" } else { "" },
                    s.sync_runs,
                    s.failed_runs,
                    s.error_rate_text().unwrap_or_else(|| "—".into()),
                    s.retries,
                    s.unknown_fields,
                    s.schema_dead_letters,
                    s.unresolved_dead_letters,
                    s.last_error
                        .as_ref()
                        .map(|e| format!("  error: {e}"))
                        .unwrap_or_default()
                );
                if !credential.is_empty() || !action.is_empty() {
                    println!("{:<20} {credential}{action}", "");
                }
                if let (_, Some(warning)) = api_version(kind) {
                    println!("{:<20}   API VERSION: {warning}", "");
                }
            }
        }
    }
    Ok(())
}

fn run_privacy(db: &Path, cmd: PrivacyCommand) -> Result<()> {
    match cmd {
        PrivacyCommand::Erase(args) => {
            let key = if let Some(v) = args.email {
                ErasureKey::Email(v)
            } else if let Some(v) = args.customer_id {
                ErasureKey::CustomerId(v)
            } else if let Some(v) = args.anonymous_id {
                ErasureKey::AnonymousId(v)
            } else if let Some(v) = args.device_id {
                ErasureKey::DeviceId(v)
            } else if let Some(v) = args.person_id {
                ErasureKey::PersonId(v)
            } else {
                bail!(
                    "name the person: --email, --customer-id, --anonymous-id, --device-id or --person-id"
                );
            };
            let receipt = trust::erase(db, &key, now_ms())?;
            for line in trust::describe_erasure(&receipt) {
                println!("{line}");
            }
        }
        PrivacyCommand::Purge => {
            let summary = trust::purge(db, now_ms())?;
            println!("{}", trust::describe_purge(&summary));
        }
        PrivacyCommand::Settings {
            store_raw_pii,
            retention_days,
        } => {
            let retention_days = retention_days
                .as_deref()
                .map(trust::parse_retention_days)
                .transpose()?;
            let settings = trust::privacy_settings(
                db,
                store_raw_pii.map(|flag| matches!(flag, OnOff::On)),
                retention_days,
            )?;
            println!(
                "store_raw_pii {}",
                if settings.store_raw_pii { "on" } else { "off" }
            );
            println!(
                "raw_payload_retention_days {}",
                settings
                    .raw_payload_retention_days
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "off".into())
            );
        }
        PrivacyCommand::Log => {
            for e in trust::erasure_log(db)? {
                let c = &e.counts;
                println!(
                    "#{} at {} by {} · marker {} · {} touches, {} orders, {} links, {} raw events, {} dead letters, {} runs",
                    e.erasure_id,
                    e.erased_at_ms,
                    e.requested_key_type,
                    e.marker,
                    c.touches_deleted,
                    c.orders_anonymized,
                    c.identity_links_deleted,
                    c.raw_events_deleted,
                    c.dead_letters_deleted,
                    c.runs_deleted
                );
            }
        }
    }
    Ok(())
}

fn print_reconciliation(report: &Reconciliation, format: Format) -> Result<()> {
    let gaps_json = |gaps: &std::collections::BTreeMap<GapCause, (u64, i64)>| {
        gaps.iter()
            .map(|(c, (n, a))| {
                (
                    c.as_str().to_string(),
                    json!({"orders": n, "amount_minor": a}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    };
    match format {
        Format::Json => {
            let value = json!({
                "from": report.from_day, "to": report.to_day, "timezone": report.timezone,
                "reporting_currency": report.reporting_currency, "model": report.model,
                "run_id": report.run.as_ref().map(|r| r.run_id), "run_is_current": report.run_is_current,
                "rows": report.rows.iter().map(|r| json!({
                    "source": r.source, "day": r.day, "currency": r.currency, "orders": r.orders,
                    "gross_minor": r.gross_minor, "net_minor": r.net_minor,
                    "known_to_attribution_minor": r.known_to_attribution_minor,
                    "attributed_minor": r.attributed_minor, "unattributed_minor": r.unattributed_minor,
                    "gaps": gaps_json(&r.gaps)})).collect::<Vec<_>>(),
                "gaps": report.gaps.iter().map(|g| json!({
                    "cause": g.cause.as_str(), "orders": g.orders, "amounts": g.amounts,
                    "top": g.top.iter().map(|c| json!({"order_id": c.order_id, "source": c.source, "day": c.day,
                        "amount_minor": c.amount_minor, "currency": c.currency})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                "conservation_violations": report.conservation.as_ref().map(|c| c.violations.len()),
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Csv => {
            // The same rows and columns as `lookback export reconcile` and the window's Export
            // CSV (lookback-report writes all three).
            lookback_report::write_reconcile_csv(report, std::io::stdout().lock())?;
        }
        Format::Table => {
            match &report.run {
                Some(run) => println!(
                    "model {} · run {}{} · {} → {} ({}) · attribution amounts in {}",
                    report.model,
                    run.run_id,
                    if report.run_is_current {
                        ""
                    } else {
                        " (stale: newer data is not attributed yet)"
                    },
                    report.from_day,
                    report.to_day,
                    report.timezone,
                    report.reporting_currency
                ),
                None => println!(
                    "model {} · no run yet (open a view or run `lookback report` to attribute) · {} → {}",
                    report.model, report.from_day, report.to_day
                ),
            }
            println!(
                "{:<14} {:<10} {:<4} {:>6} {:>12} {:>12} {:>12} {:>12}",
                "source", "day", "cur", "orders", "net", "known", "attributed", "unattributed"
            );
            for r in &report.rows {
                println!(
                    "{:<14} {:<10} {:<4} {:>6} {:>12} {:>12} {:>12} {:>12}",
                    r.source,
                    r.day,
                    r.currency,
                    r.orders,
                    r.net_minor,
                    r.known_to_attribution_minor,
                    r.attributed_minor,
                    r.unattributed_minor
                );
            }
            for g in &report.gaps {
                let amounts = g
                    .amounts
                    .iter()
                    .map(|(c, a)| format!("{c} {a}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let top = g
                    .top
                    .iter()
                    .map(|c| format!("{} ({})", c.order_id, c.amount_minor))
                    .collect::<Vec<_>>()
                    .join(", ");
                println!(
                    "gap {:<28} {} orders · {amounts} · top: {top}",
                    g.cause.as_str(),
                    g.orders
                );
            }
            if let Some(c) = &report.conservation {
                println!(
                    "credit conservation: {}",
                    if c.holds() {
                        "ok".to_string()
                    } else {
                        format!("VIOLATED on {} orders", c.violations.len())
                    }
                );
            }
        }
    }
    Ok(())
}

/// An instant as the CLI prints it (RFC 3339, UTC).
fn instant(ms: i64) -> String {
    lookback_core::time::format_instant_ms(ms).unwrap_or_else(|_| ms.to_string())
}
