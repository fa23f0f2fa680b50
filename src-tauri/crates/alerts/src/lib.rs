//! lookback-alerts: threshold alerts over a workspace — rules a person writes, evaluated as
//! pure functions of what the store holds and `now`, delivered to the desktop or Slack at
//! least once and never twice.
//!
//! Code map:
//! - [`rules`]: the kinds of rule, [`rules::evaluate`] (pure), the notification key of each.
//! - [`delivery`]: the [`Notifier`] trait, the stderr and Slack notifiers, and
//!   [`check_and_deliver`]: claim rows before sending, retry with backoff, dead-letter at the end.
//! - this module: adding and validating rules.
//!
//! Architecture Invariants:
//! - A notification row keyed by (rule, subject, window) is committed before anything is sent.
//! - Evaluation reads no clock: `now_ms` is a parameter.
//! - The Slack URL lives only in the OS keyring; HTTP goes through lookback-sync.

pub mod delivery;
pub mod rules;

use lookback_store::{NewAlertRule, Store, StoreError};

pub use delivery::{
    Channel, CheckSummary, DeliveryPolicy, Notifier, SLACK_URL_REF, SendFuture, SlackNotifier,
    StderrNotifier, check_and_deliver, claim_findings, load_slack_url, set_slack_url,
};
pub use rules::{AlertKind, Facts, Finding, LINK_ATTRIBUTION, ModelRun, evaluate};

/// Everything that can go wrong with alert rules and their delivery.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A rule as written cannot be evaluated (a bad kind, currency, threshold or channel).
    #[error("invalid alert rule: {0}")]
    InvalidRule(String),

    /// No active rule has this id.
    #[error("no alert rule {0} (see `lookback alert list`)")]
    UnknownRule(i64),

    /// The keyring refused to store or read the Slack URL (the URL is never in the message).
    #[error(transparent)]
    Credentials(#[from] lookback_sync::SyncError),

    /// The workspace store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The sources' data health, which source-health rules read, could not be computed.
    #[error(transparent)]
    Health(#[from] lookback_trust::TrustError),

    /// The current model's run, which creator-revenue rules read, could not be brought up to date.
    #[error("attribution run for the alert rules: {0}")]
    Engine(#[from] lookback_engine::EngineError),
}

/// A rule as the CLI or the window asks for it.
#[derive(Debug, Clone)]
pub struct RuleRequest {
    pub kind: AlertKind,
    /// Creator id (money kinds) or source (sync, dead letters); `None` = all.
    pub subject: Option<String>,
    /// Minor units for money kinds, minutes for `sync_failing`, a count for `dead_letters`.
    pub threshold: i64,
    pub currency: Option<String>,
    pub include_provisional: bool,
    pub grace_minutes: i64,
    pub channel: Channel,
}

/// Reads a threshold as a person writes it: a decimal in major units of `currency` (default:
/// the workspace's reporting currency) for money kinds, a whole number otherwise. Returns the
/// threshold in minor units (or as is) and the currency a money rule is in.
pub fn parse_threshold(
    store: &Store,
    kind: AlertKind,
    text: &str,
    currency: Option<&str>,
) -> Result<(i64, Option<String>), AlertError> {
    if !kind.is_money() {
        let count = text.trim().parse::<i64>().map_err(|_| {
            AlertError::InvalidRule(format!("threshold {text:?} is not a whole number"))
        })?;
        return Ok((count, None));
    }
    let code = match currency.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => code.to_owned(),
        None => store.reporting_currency()?,
    };
    let currency = lookback_core::money::Currency::parse(&code)
        .map_err(|e| AlertError::InvalidRule(format!("currency: {e}")))?;
    let minor = lookback_core::money::parse_major_decimal(text.trim(), currency)
        .map_err(|e| AlertError::InvalidRule(format!("threshold: {e}")))?;
    Ok((minor, Some(currency.code().to_owned())))
}

/// Validates and stores a rule; returns its id.
pub fn add_rule(store: &mut Store, request: &RuleRequest, now_ms: i64) -> Result<i64, AlertError> {
    if request.threshold < 0 || request.grace_minutes < 0 {
        return Err(AlertError::InvalidRule(
            "threshold and grace must not be negative".to_owned(),
        ));
    }
    let currency = match (&request.currency, request.kind.is_money()) {
        (Some(code), true) => Some(
            lookback_core::money::Currency::parse(code)
                .map_err(|e| AlertError::InvalidRule(format!("currency: {e}")))?
                .code()
                .to_owned(),
        ),
        (None, true) => Some(store.reporting_currency()?),
        (_, false) => None,
    };
    if request.kind == AlertKind::CreatorRevenue {
        let reporting = store.reporting_currency()?;
        if currency.as_deref() != Some(reporting.as_str()) {
            return Err(AlertError::InvalidRule(format!(
                "creator revenue is attributed in the workspace's reporting currency, so the threshold must be in {reporting}"
            )));
        }
    }
    let rule = NewAlertRule {
        kind: request.kind.as_str().to_owned(),
        subject: request.subject.clone(),
        threshold: request.threshold,
        currency,
        include_provisional: request.include_provisional,
        grace_minutes: request.grace_minutes,
        channel: request.channel.as_str().to_owned(),
        created_at_ms: now_ms,
    };
    Ok(store.write(|tx| tx.insert_alert_rule(&rule))?)
}

/// Retires a rule; its notifications stay as history.
pub fn remove_rule(store: &mut Store, rule_id: i64, now_ms: i64) -> Result<(), AlertError> {
    if store.write(|tx| tx.remove_alert_rule(rule_id, now_ms))? {
        Ok(())
    } else {
        Err(AlertError::UnknownRule(rule_id))
    }
}
