//! Delivering notifications: claim (insert `pending`) before sending, send through the
//! rule's channel, record the attempt; retry with backoff, and after the last failed attempt
//! mark the row `failed` and write a dead letter.
//!
//! At least once, never twice: the row keyed by (rule, subject, window) is committed before the
//! first send, so a second `check`, a restart or a retry finds it and never sends a second
//! notification for the same fact. The one gap left is a crash between a successful send and
//! the commit of `sent`; the next run sends that one again (the at-least-once side).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use lookback_store::{AlertNotification, NewAlertNotification, NewDeadLetter, Store};
use lookback_sync::Secret;
use lookback_sync::outbound::post_json;

use crate::AlertError;
use crate::rules::{AlertKind, Facts, Finding, ModelRun, evaluate, rule_window};

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The OS notification centre (the window) or stderr (the CLI).
    Desktop,
    /// A Slack incoming webhook whose URL is in the keyring.
    Slack,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Desktop => "desktop",
            Channel::Slack => "slack",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        match text {
            "desktop" => Some(Channel::Desktop),
            "slack" => Some(Channel::Slack),
            _ => None,
        }
    }
}

/// The future a notifier returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Sends one notification through one channel. The error is a message for the dead letter; it
/// must never contain a secret.
pub trait Notifier: Send + Sync {
    fn channel(&self) -> Channel;
    fn send<'a>(&'a self, notification: &'a AlertNotification) -> SendFuture<'a>;
}

/// The CLI's desktop notifier: one line on stderr. The window provides its own notifier that
/// calls tauri's notification plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrNotifier;

impl Notifier for StderrNotifier {
    fn channel(&self) -> Channel {
        Channel::Desktop
    }

    fn send<'a>(&'a self, notification: &'a AlertNotification) -> SendFuture<'a> {
        Box::pin(async move {
            eprintln!("alert: {} — {}", notification.title, notification.body);
            Ok(())
        })
    }
}

/// Posts to a Slack incoming webhook: `{"text": ...}` with the title in bold and the context.
pub struct SlackNotifier {
    url: Secret,
    timeout: Duration,
}

impl SlackNotifier {
    pub fn new(url: Secret) -> SlackNotifier {
        SlackNotifier {
            url,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Notifier for SlackNotifier {
    fn channel(&self) -> Channel {
        Channel::Slack
    }

    fn send<'a>(&'a self, notification: &'a AlertNotification) -> SendFuture<'a> {
        Box::pin(async move {
            let text = format!("*{}*\n{}", notification.title, notification.body);
            let context: serde_json::Value =
                serde_json::from_str(&notification.context).unwrap_or_default();
            let body = serde_json::json!({"text": text, "lookback": context}).to_string();
            post_json(&self.url, &body, self.timeout)
                .await
                .map_err(|failure| failure.detail)
        })
    }
}

/// The keyring reference of the Slack incoming-webhook URL.
pub const SLACK_URL_REF: &str = "alerts:slack-webhook";

/// Stores the Slack incoming-webhook URL in the keyring.
pub fn set_slack_url(url: &Secret) -> Result<(), AlertError> {
    lookback_sync::credentials::store_secret(SLACK_URL_REF, url)?;
    Ok(())
}

/// Reads the Slack incoming-webhook URL from the keyring, if one is set.
pub fn load_slack_url() -> Result<Option<Secret>, AlertError> {
    match lookback_sync::credentials::load_secret(SLACK_URL_REF, "slack") {
        Ok(url) => Ok(Some(url)),
        Err(lookback_sync::SyncError::MissingCredential { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// How failed sends are retried.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Attempts per notification before it is `failed` and dead-lettered.
    pub max_attempts: i64,
    /// Backoff before attempt n+1: `base × 2^(n−1)`, at most `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl DeliveryPolicy {
    fn delay(&self, attempts_made: i64) -> Duration {
        let exponent = u32::try_from((attempts_made - 1).clamp(0, 20)).unwrap_or(20);
        self.base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay)
    }
}

/// What one check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// Findings of all rules (including ones notified before).
    pub findings: u64,
    /// New notification rows claimed by this check.
    pub claimed: u64,
    pub sent: u64,
    /// Notifications that failed for good (dead-lettered) in this check.
    pub failed: u64,
    /// Notifications whose channel has no notifier configured (left pending).
    pub undeliverable: u64,
}

/// What several rules read, computed once per check: the current model's creator credits over
/// the union of the creator-revenue rules' windows (each rule keeps its own window when it
/// judges), and every source's data health.
#[derive(Default)]
struct SharedFacts {
    credited: Option<(ModelRun, Vec<lookback_store::CreatorCreditOrder>)>,
    health: Vec<lookback_trust::SourceHealthState>,
}

impl SharedFacts {
    /// Creator credits come from the stored run the views show when it is current, else are
    /// computed for this check without writing a run, so a check every 30 s while webhooks
    /// arrive does not grow the file.
    fn load(
        store: &mut Store,
        rules: &[lookback_store::AlertRule],
        now_ms: i64,
    ) -> Result<SharedFacts, AlertError> {
        let of_kind = |kind: AlertKind| rules.iter().filter(move |r| r.kind == kind.as_str());
        let mut shared = SharedFacts::default();
        let windows: Vec<(i64, i64)> = of_kind(AlertKind::CreatorRevenue)
            .map(|rule| rule_window(rule, now_ms))
            .collect();
        if let (Some(from), Some(to)) = (
            windows.iter().map(|w| w.0).min(),
            windows.iter().map(|w| w.1).max(),
        ) {
            let (model, params) = lookback_engine::current_model(store)?;
            let credited =
                lookback_engine::creator_credits_between(store, model, &params, now_ms, from, to)?;
            let run = ModelRun {
                run_id: credited.run_id,
                input_watermark: credited.input_watermark,
                model: model.as_str().to_owned(),
                parameters: params.to_canonical_string(),
                currency: credited.reporting_currency.code().to_owned(),
            };
            shared.credited = Some((run, credited.credits));
        }
        if of_kind(AlertKind::SourceHealth).next().is_some() {
            shared.health = lookback_trust::source_health_states(
                store,
                now_ms,
                lookback_trust::HealthPolicy::default(),
            )?;
        }
        Ok(shared)
    }
}

/// Reads what `rule` needs at `now_ms` (what several rules share comes from `shared`).
fn load_facts(
    store: &Store,
    rule: &lookback_store::AlertRule,
    shared: &SharedFacts,
    now_ms: i64,
) -> Result<Facts, AlertError> {
    let mut facts = Facts {
        settlement_days: store.settlement_days()?,
        ..Default::default()
    };
    let (from, to) = rule_window(rule, now_ms);
    match AlertKind::parse(&rule.kind) {
        Some(AlertKind::CreatorRevenue) => {
            if let Some((run, credits)) = &shared.credited {
                facts.run = Some(run.clone());
                facts.credits = credits.clone();
            }
        }
        Some(AlertKind::LargeOrder) => facts.orders = store.creator_link_orders(from, to)?,
        Some(AlertKind::SyncFailing) => {
            facts.sources = store.sources()?;
            facts.credentials = store.source_credentials()?;
        }
        Some(AlertKind::DeadLetters) => {
            facts.unresolved_dead_letters =
                store.unresolved_dead_letter_total(rule.subject.as_deref())?
        }
        Some(AlertKind::SourceHealth) => facts.health = shared.health.clone(),
        None => {}
    }
    Ok(facts)
}

/// Evaluates every rule at `now_ms` and claims a notification row for each new finding, in
/// one transaction. Returns (findings, newly claimed).
pub fn claim_findings(store: &mut Store, now_ms: i64) -> Result<(u64, u64), AlertError> {
    let mut findings: Vec<(Finding, String)> = Vec::new();
    let rules = store.alert_rules()?;
    let shared = SharedFacts::load(store, &rules, now_ms)?;
    for rule in &rules {
        let facts = load_facts(store, rule, &shared, now_ms)?;
        findings.extend(
            evaluate(rule, &facts, now_ms)
                .into_iter()
                .map(|f| (f, rule.channel.clone())),
        );
    }
    let total = findings.len() as u64;
    let claimed = store.write(|tx| {
        let mut claimed = 0u64;
        for (finding, channel) in &findings {
            let new = tx.claim_notification(&NewAlertNotification {
                rule_id: finding.rule_id,
                subject: finding.subject.clone(),
                window_key: finding.window_key.clone(),
                channel: channel.clone(),
                title: finding.title.clone(),
                body: finding.body.clone(),
                context: finding.context.to_string(),
                created_at_ms: now_ms,
            })?;
            claimed += u64::from(new.is_some());
        }
        Ok::<_, AlertError>(claimed)
    })?;
    Ok((total, claimed))
}

/// Evaluates the rules, claims new notifications, and delivers every due one: failed sends are
/// retried in place after the policy's backoff (the sleeps use tokio's clock), each attempt
/// recorded before the next, until sent or failed for good. `clock` gives the wall time for
/// the rows.
pub async fn check_and_deliver(
    store: &mut Store,
    notifiers: &[&dyn Notifier],
    policy: &DeliveryPolicy,
    now_ms: i64,
    clock: &(dyn Fn() -> i64 + Sync),
) -> Result<CheckSummary, AlertError> {
    let (findings, claimed) = claim_findings(store, now_ms)?;
    let mut summary = CheckSummary {
        findings,
        claimed,
        ..Default::default()
    };
    for notification in store.due_notifications(now_ms)? {
        let Some(notifier) = Channel::parse(&notification.channel)
            .and_then(|c| notifiers.iter().find(|n| n.channel() == c))
        else {
            summary.undeliverable += 1;
            continue;
        };
        let mut attempts = notification.attempts;
        loop {
            let result = notifier.send(&notification).await;
            attempts += 1;
            let at = clock();
            match result {
                Ok(()) => {
                    store.write(|tx| {
                        tx.record_notification_attempt(
                            notification.notification_id,
                            "sent",
                            at,
                            None,
                            at,
                        )
                    })?;
                    summary.sent += 1;
                    break;
                }
                Err(error) if attempts >= policy.max_attempts => {
                    store.write(|tx| {
                        tx.record_notification_attempt(
                            notification.notification_id,
                            "failed",
                            at,
                            Some(&error),
                            at,
                        )?;
                        tx.insert_dead_letter(&NewDeadLetter {
                            source: "alerts".to_owned(),
                            stream: notification.channel.clone(),
                            location: format!(
                                "alert rule {} notification {}",
                                notification.rule_id, notification.notification_id
                            ),
                            reason: format!(
                                "{} delivery failed {attempts} times; last error: {error}",
                                notification.channel
                            ),
                            payload: notification.context.clone(),
                            created_at_ms: at,
                        })?;
                        Ok::<_, lookback_store::StoreError>(())
                    })?;
                    summary.failed += 1;
                    break;
                }
                Err(error) => {
                    let delay = policy.delay(attempts);
                    let next = at + delay.as_millis() as i64;
                    store.write(|tx| {
                        tx.record_notification_attempt(
                            notification.notification_id,
                            "pending",
                            next,
                            Some(&error),
                            at,
                        )
                    })?;
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
    Ok(summary)
}
