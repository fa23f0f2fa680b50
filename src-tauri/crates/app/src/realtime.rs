//! The webhook receiver and alert checks as the window runs them: started and stopped from the
//! Real time screen, reporting each stored or normalized event so open views refresh, and
//! checking alert rules on their own thread. No tauri here: the window passes in how to notify
//! and how to tell the UI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use std::time::Duration;
use tokio_util::sync::CancellationToken;

use anyhow::{Context, Result};
use lookback_alerts::{AlertKind, Channel, DeliveryPolicy, Notifier, RuleRequest, SlackNotifier};
use lookback_store::Store;
use lookback_sync::webhooks::{self, RealtimeEvent, ReceiverConfig, RunningReceiver};

use crate::error::AppError;
use crate::wire as ipc;

/// How often the window checks alert rules while the receiver runs.
const ALERT_INTERVAL: Duration = Duration::from_secs(30);

/// Makes the notifier for desktop alerts (a fresh one per check).
pub type DesktopNotifierFactory = Arc<dyn Fn() -> Box<dyn Notifier> + Send + Sync>;
/// Told about every stored or normalized delivery.
pub type ChangeListener = Arc<dyn Fn(&RealtimeEvent) + Send + Sync>;

/// A running receiver with its alert thread.
pub struct Listener {
    receiver: RunningReceiver,
    stopping: CancellationToken,
    alerts: Option<std::thread::JoinHandle<()>>,
    stored: Arc<AtomicI64>,
    /// How many webhook secrets it verifies deliveries with (none: every delivery gets 401).
    secret_count: usize,
}

/// Where and how the receiver listens, and how often alerts are checked meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct ListenerOptions {
    pub bind: SocketAddr,
    /// Accepted distance between a signed timestamp and this machine's clock.
    pub tolerance: Duration,
    /// Largest accepted body (larger deliveries get 413).
    pub max_body_bytes: usize,
    pub alert_interval: Duration,
}

impl ListenerOptions {
    /// The defaults (the window's), listening on `bind`.
    pub fn on(bind: SocketAddr) -> ListenerOptions {
        ListenerOptions {
            bind,
            tolerance: webhooks::DEFAULT_TOLERANCE,
            max_body_bytes: webhooks::DEFAULT_MAX_BODY_BYTES,
            alert_interval: ALERT_INTERVAL,
        }
    }
}

impl Listener {
    /// Starts receiving for the workspace at `db`, with the secrets in the keyring, and checks
    /// alerts on a thread of its own (a slow Slack retry never delays an acknowledgement) — the
    /// one job behind `lookback listen` and the window's **Start receiving**.
    pub async fn start(
        db: &Path,
        options: ListenerOptions,
        desktop: DesktopNotifierFactory,
        on_change: ChangeListener,
    ) -> Result<Listener> {
        let secrets = webhooks::load_webhook_secrets(&Store::open(db)?)?;
        let secret_count = secrets.len();
        let mut config = ReceiverConfig::new(secrets);
        config.bind = options.bind;
        config.tolerance = options.tolerance;
        config.max_body_bytes = options.max_body_bytes;
        let receiver = webhooks::start_receiver(db, config)
            .await
            .with_context(|| format!("listening on {}", options.bind))?;
        tracing::info!(port = receiver.local_addr().port(), "listener started");
        let stored = Arc::new(AtomicI64::new(0));
        let mut events = receiver.subscribe();
        let counter = Arc::clone(&stored);
        tokio::spawn(async move {
            while let Ok(event) = events.recv().await {
                if matches!(event, RealtimeEvent::Stored { .. }) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                on_change(&event);
            }
        });
        let stopping = CancellationToken::new();
        let alerts = {
            let stopping = stopping.clone();
            let db: PathBuf = db.to_path_buf();
            std::thread::spawn(move || {
                alert_loop(&db, options.alert_interval, &stopping, &*desktop)
            })
        };
        Ok(Listener {
            receiver,
            stopping,
            alerts: Some(alerts),
            stored,
            secret_count,
        })
    }

    /// Verifies deliveries with `secrets` from now on (the secrets were just added or removed
    /// in this window; the receiver's own watch would notice within seconds).
    pub fn use_secrets(&self, secrets: HashMap<String, Vec<lookback_sync::Secret>>) {
        let shared = self.receiver.secrets();
        if let Ok(mut map) = shared.write() {
            *map = secrets
                .into_iter()
                .map(|(source, list)| (source, Arc::new(list)))
                .collect();
        }
    }

    /// How many webhook secrets it verifies deliveries with; with none, every one gets 401.
    pub fn secret_count(&self) -> usize {
        self.secret_count
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.receiver.local_addr()
    }

    pub fn status(&self) -> ipc::ListenerStatus {
        ipc::ListenerStatus {
            listening: true,
            address: Some(format!("http://{}", self.receiver.local_addr())),
            stored: self.stored.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, finishes acknowledged deliveries, and stops the alert checks.
    pub async fn stop(mut self) {
        self.stopping.cancel();
        self.receiver.shutdown().await;
        if let Some(alerts) = self.alerts.take() {
            let _ = tokio::task::spawn_blocking(move || alerts.join()).await;
        }
        tracing::info!("listener stopped");
    }
}

/// The status shown when nothing is listening.
pub fn stopped() -> ipc::ListenerStatus {
    ipc::ListenerStatus {
        listening: false,
        address: None,
        stored: 0,
    }
}

/// Adds a webhook secret of `source` (to the OS keyring; older ones stay valid until removed,
/// which is how a rotation works). Answers how many secrets of it are now valid.
pub fn add_webhook_secret(
    store: &mut Store,
    source: &str,
    secret: &lookback_sync::Secret,
    now_ms: i64,
) -> Result<usize> {
    if secret.is_empty() {
        return Err(AppError::invalid("secret", "the webhook secret is empty").into());
    }
    webhooks::add_webhook_secret(store, source, secret, now_ms)?;
    Ok(store.webhook_secret_refs(Some(source))?.len())
}

/// The window's webhook secrets: every source's, never their values.
pub fn webhook_secret_rows(store: &Store) -> Result<Vec<ipc::WebhookSecretRow>> {
    Ok(webhook_secrets(store, None)?
        .into_iter()
        .map(|r| ipc::WebhookSecretRow {
            source: r.source,
            secret_ref: r.secret_ref,
            added_at_ms: r.added_at_ms,
        })
        .collect())
}

/// The window's **Add secret** (and **Rotate**, which adds a newer secret beside the old one):
/// [`add_webhook_secret`] with the form's fields. Returns the secrets.
pub fn add_webhook_secret_row(
    store: &mut Store,
    request: &ipc::NewWebhookSecret,
    now_ms: i64,
) -> Result<Vec<ipc::WebhookSecretRow>> {
    let secret = lookback_sync::Secret::new(request.secret.as_str());
    add_webhook_secret(store, request.source.trim(), &secret, now_ms)?;
    webhook_secret_rows(store)
}

/// Removes one webhook secret (the window's **Remove**, the end of a rotation); refuses one
/// the workspace does not have. Returns the secrets left.
pub fn remove_webhook_secret_row(
    store: &mut Store,
    secret_ref: &str,
) -> Result<Vec<ipc::WebhookSecretRow>> {
    if !webhooks::remove_webhook_secret(store, secret_ref)? {
        return Err(AppError::invalid("secret", format!("no webhook secret {secret_ref}")).into());
    }
    webhook_secret_rows(store)
}

/// The webhook secrets (never their values) of `source`, or of every source.
pub fn webhook_secrets(
    store: &Store,
    source: Option<&str>,
) -> Result<Vec<lookback_store::WebhookSecretRef>> {
    Ok(store.webhook_secret_refs(source)?)
}

/// Removes every webhook secret of `source`; refuses when it has none. Answers how many went.
pub fn remove_webhook_secrets(store: &mut Store, source: &str) -> Result<usize> {
    let removed = webhooks::remove_webhook_secrets(store, source)?;
    if removed == 0 {
        return Err(AppError::invalid("source", format!("no webhook secrets for {source}")).into());
    }
    Ok(removed)
}

/// Keeps the Slack incoming-webhook URL in the OS keyring; it must be an https URL (or a
/// loopback one, for tests).
pub fn set_slack_url(url: &lookback_sync::Secret) -> Result<()> {
    let text = url.expose();
    if !text.starts_with("https://") && !text.starts_with("http://127.0.0.1") {
        return Err(AppError::invalid("url", "the Slack URL must start with https://").into());
    }
    Ok(lookback_alerts::set_slack_url(url)?)
}

/// Whether a Slack incoming-webhook URL is in the OS keyring (the window never reads it back).
pub fn slack_url_stored() -> Result<bool> {
    Ok(lookback_alerts::load_slack_url()?.is_some())
}

/// The alert notifications sent, failed or waiting, for `lookback alert list`.
pub fn alert_notifications(store: &Store) -> Result<Vec<lookback_store::AlertNotification>> {
    Ok(store.alert_notifications()?)
}

/// The alert notification history for the window (the rows `lookback alert list` prints
/// after the rules).
pub fn alert_notification_rows(store: &Store) -> Result<Vec<ipc::AlertNotificationRow>> {
    Ok(alert_notifications(store)?
        .into_iter()
        .map(|n| ipc::AlertNotificationRow {
            notification_id: n.notification_id,
            rule_id: n.rule_id,
            state: n.state,
            channel: n.channel,
            attempts: n.attempts,
            title: n.title,
            last_error: n.last_error,
        })
        .collect())
}

/// The workspace's alert rules.
pub fn alert_rules(store: &Store) -> Result<Vec<ipc::AlertRuleRow>> {
    store
        .alert_rules()?
        .into_iter()
        .map(|r| {
            let kind = AlertKind::parse(&r.kind)
                .with_context(|| format!("unknown alert kind {:?} in the store", r.kind))?;
            let channel = Channel::parse(&r.channel)
                .with_context(|| format!("unknown alert channel {:?} in the store", r.channel))?;
            Ok(ipc::AlertRuleRow {
                rule_id: r.rule_id,
                kind: kind.into(),
                subject: r.subject,
                threshold: r.threshold,
                currency: r.currency,
                include_provisional: r.include_provisional,
                grace_minutes: r.grace_minutes,
                channel: channel.into(),
            })
        })
        .collect()
}

/// An alert rule as the user writes it (the window's form or `lookback alert add`): a money
/// threshold is a decimal in major units.
#[derive(Debug, Clone)]
pub struct AlertRuleToAdd {
    pub kind: AlertKind,
    pub subject: Option<String>,
    pub threshold: String,
    pub currency: Option<String>,
    pub include_provisional: bool,
    pub grace_minutes: i64,
    pub channel: Channel,
}

/// Adds an alert rule — the one job behind `lookback alert add` and the window's **Add rule**.
/// Returns its id.
pub fn add_rule(store: &mut Store, rule: AlertRuleToAdd, now_ms: i64) -> Result<i64> {
    let (threshold, currency) = lookback_alerts::parse_threshold(
        store,
        rule.kind,
        &rule.threshold,
        rule.currency.as_deref(),
    )?;
    let request = RuleRequest {
        kind: rule.kind,
        subject: rule.subject.filter(|s| !s.trim().is_empty()),
        threshold,
        currency,
        include_provisional: rule.include_provisional,
        grace_minutes: rule.grace_minutes,
        channel: rule.channel,
    };
    Ok(lookback_alerts::add_rule(store, &request, now_ms)?)
}

/// The window's **Add rule**: [`add_rule`] with the form's fields. Returns the rules.
pub fn add_alert_rule(
    store: &mut Store,
    rule: &ipc::NewAlertRule,
    now_ms: i64,
) -> Result<Vec<ipc::AlertRuleRow>> {
    let to_add = AlertRuleToAdd {
        kind: rule.kind.into(),
        subject: rule.subject.clone(),
        threshold: rule.threshold.clone(),
        currency: rule.currency.clone(),
        include_provisional: rule.include_provisional,
        grace_minutes: rule.grace_minutes,
        channel: rule.channel.into(),
    };
    add_rule(store, to_add, now_ms)?;
    alert_rules(store)
}

/// Removes an alert rule — `lookback alert remove` and the window's **Remove** — and returns
/// the rules left.
pub fn remove_alert_rule(
    store: &mut Store,
    rule_id: i64,
    now_ms: i64,
) -> Result<Vec<ipc::AlertRuleRow>> {
    lookback_alerts::remove_rule(store, rule_id, now_ms)?;
    alert_rules(store)
}

fn notifiers(desktop: Box<dyn Notifier>) -> Result<Vec<Box<dyn Notifier>>> {
    let mut notifiers: Vec<Box<dyn Notifier>> = vec![desktop];
    // A keyring without a Slack URL is normal; a keyring that cannot be reached only matters
    // to Slack rules, whose notifications then wait (pending) for a later check.
    if let Ok(Some(url)) = lookback_alerts::load_slack_url() {
        notifiers.push(Box::new(SlackNotifier::new(url)));
    }
    Ok(notifiers)
}

/// Checks the alert rules once and delivers what fired: desktop notifications through
/// `desktop`, Slack when a URL is in the keyring.
pub fn check_alerts_once(
    store: &mut lookback_store::Store,
    runtime: &tokio::runtime::Runtime,
    desktop: Box<dyn Notifier>,
) -> Result<lookback_alerts::CheckSummary> {
    let notifiers = notifiers(desktop)?;
    let refs: Vec<&dyn Notifier> = notifiers.iter().map(|n| n.as_ref()).collect();
    let summary = runtime.block_on(lookback_alerts::check_and_deliver(
        store,
        &refs,
        &DeliveryPolicy::default(),
        crate::clock::now_ms(),
        &crate::clock::now_ms,
    ))?;
    Ok(summary)
}

/// Checks alert rules every `interval` until `stopping`, on its own connection, delivering
/// desktop notifications through what `desktop` makes (stderr for the CLI, the system's
/// notifications for the window) and Slack when a URL is in the keyring.
pub fn alert_loop(
    db: &Path,
    interval: Duration,
    stopping: &CancellationToken,
    desktop: &dyn Fn() -> Box<dyn Notifier>,
) {
    let runtime = match crate::runtime::worker_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("alerts disabled: cannot start their runtime: {error}");
            return;
        }
    };
    let mut store = match crate::workspace::open(db) {
        Ok(store) => store,
        Err(error) => {
            tracing::error!("alerts disabled: the workspace did not open: {error:#}");
            return;
        }
    };
    while !stopping.is_cancelled() {
        if let Err(error) = check_alerts_once(&mut store, &runtime, desktop()) {
            tracing::warn!("alert check failed: {error:#}");
        }
        let mut waited = Duration::ZERO;
        while waited < interval && !stopping.is_cancelled() {
            std::thread::sleep(Duration::from_millis(200));
            waited += Duration::from_millis(200);
        }
    }
}
