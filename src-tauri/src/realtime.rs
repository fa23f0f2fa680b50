//! The webhook receiver and alert checks as the window runs them: started and stopped from the
//! Real time screen, reporting each stored or normalized event so open views refresh, and
//! checking alert rules on their own thread. No tauri here: the window passes in how to notify
//! and how to tell the UI.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use lookback_alerts::{AlertKind, Channel, Notifier, RuleRequest};
use lookback_store::Store;
use lookback_sync::webhooks::{self, RealtimeEvent, ReceiverConfig, RunningReceiver};

use crate::ipc;

/// How often the window checks alert rules while the receiver runs.
const ALERT_INTERVAL: Duration = Duration::from_secs(30);

/// Makes the notifier for desktop alerts (a fresh one per check).
pub type DesktopNotifierFactory = Arc<dyn Fn() -> Box<dyn Notifier> + Send + Sync>;
/// Told about every stored or normalized delivery.
pub type ChangeListener = Arc<dyn Fn(&RealtimeEvent) + Send + Sync>;

/// A running receiver with its alert thread.
pub struct Listener {
    receiver: RunningReceiver,
    stopping: Arc<AtomicBool>,
    alerts: Option<std::thread::JoinHandle<()>>,
    stored: Arc<AtomicI64>,
}

impl Listener {
    /// Starts receiving on `bind` for the workspace at `db`, with the secrets in the keyring.
    pub async fn start(
        db: &Path,
        bind: SocketAddr,
        desktop: DesktopNotifierFactory,
        on_change: ChangeListener,
    ) -> Result<Listener> {
        let secrets = webhooks::load_webhook_secrets(&Store::open(db)?)?;
        let mut config = ReceiverConfig::new(secrets);
        config.bind = bind;
        let receiver = webhooks::start_receiver(db, config)
            .await
            .with_context(|| format!("listening on {bind}"))?;
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
        let stopping = Arc::new(AtomicBool::new(false));
        let alerts = {
            let stopping = Arc::clone(&stopping);
            let db: PathBuf = db.to_path_buf();
            std::thread::spawn(move || {
                crate::cli_realtime::alert_loop(&db, ALERT_INTERVAL, &stopping, &*desktop)
            })
        };
        Ok(Listener {
            receiver,
            stopping,
            alerts: Some(alerts),
            stored,
        })
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
        self.stopping.store(true, Ordering::SeqCst);
        self.receiver.shutdown().await;
        if let Some(alerts) = self.alerts.take() {
            let _ = tokio::task::spawn_blocking(move || alerts.join()).await;
        }
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

/// The workspace's alert rules.
pub fn alert_rules(store: &Store) -> Result<Vec<ipc::AlertRuleRow>> {
    Ok(store
        .alert_rules()?
        .into_iter()
        .map(|r| ipc::AlertRuleRow {
            rule_id: r.rule_id,
            kind: r.kind,
            subject: r.subject,
            threshold: r.threshold,
            currency: r.currency,
            include_provisional: r.include_provisional,
            grace_minutes: r.grace_minutes,
            channel: r.channel,
        })
        .collect())
}

/// Adds a rule as the user wrote it: a money threshold is a decimal in major units.
pub fn add_alert_rule(
    store: &mut Store,
    rule: &ipc::NewAlertRule,
    now_ms: i64,
) -> Result<Vec<ipc::AlertRuleRow>> {
    let kind = AlertKind::parse(&rule.kind)
        .with_context(|| format!("unknown alert kind {:?}", rule.kind))?;
    let channel = Channel::parse(&rule.channel)
        .with_context(|| format!("unknown channel {:?}", rule.channel))?;
    let (threshold, currency) =
        lookback_alerts::parse_threshold(store, kind, &rule.threshold, rule.currency.as_deref())?;
    let request = RuleRequest {
        kind,
        subject: rule.subject.clone().filter(|s| !s.trim().is_empty()),
        threshold,
        currency,
        include_provisional: rule.include_provisional,
        grace_minutes: rule.grace_minutes,
        channel,
    };
    lookback_alerts::add_rule(store, &request, now_ms)?;
    alert_rules(store)
}

pub fn remove_alert_rule(
    store: &mut Store,
    rule_id: i64,
    now_ms: i64,
) -> Result<Vec<ipc::AlertRuleRow>> {
    lookback_alerts::remove_rule(store, rule_id, now_ms)?;
    alert_rules(store)
}
