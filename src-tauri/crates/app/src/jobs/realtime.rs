//! The Real time jobs as the window calls them: the session's webhook receiver (open views
//! refresh as deliveries are normalized) and the alert rules.

use std::net::SocketAddr;
use std::sync::Arc;

use lookback_sync::webhooks::RealtimeEvent;

use crate::error::{AppError, AppResult};
use crate::events::AppEvent;
use crate::realtime::*;
use crate::session::{Session, blocking};
use crate::wire as ipc;

/// Starts the receiver on `bind` (loopback unless the user typed another address) for the
/// open workspace; desktop alerts go through what `desktop` makes. Already running: its status.
pub async fn start_listener_job(
    session: &Session,
    bind: String,
    desktop: DesktopNotifierFactory,
) -> AppResult<ipc::ListenerStatus> {
    let address: SocketAddr = bind.trim().parse().map_err(|_| {
        AppError::invalid(
            "address",
            format!("{bind:?} is not an address such as 127.0.0.1:8787"),
        )
    })?;
    let db = session.workspace_path()?;
    let mut slot = session.listener().lock().await;
    if let Some(running) = slot.as_ref() {
        return Ok(running.status());
    }
    let events = session.clone();
    let listener = Listener::start(
        &db,
        ListenerOptions::on(address),
        desktop,
        Arc::new(move |event| {
            // Views refresh when a delivery has been normalized into canonical rows.
            if matches!(event, RealtimeEvent::Normalized(s) if s.handled > 0) {
                events.emit(AppEvent::WorkspaceChanged);
            }
        }),
    )
    .await?;
    let status = listener.status();
    *slot = Some(listener);
    Ok(status)
}

/// Stops the receiver, finishing acknowledged deliveries.
pub async fn stop_listener_job(session: &Session) -> AppResult<ipc::ListenerStatus> {
    let running = session.listener().lock().await.take();
    if let Some(listener) = running {
        listener.stop().await;
    }
    Ok(stopped())
}

/// Whether the receiver runs, where, and how many deliveries it stored.
pub async fn listener_status_job(session: &Session) -> AppResult<ipc::ListenerStatus> {
    Ok(session
        .listener()
        .lock()
        .await
        .as_ref()
        .map(Listener::status)
        .unwrap_or_else(stopped))
}

/// The workspace's alert rules.
pub async fn alert_rules_job(session: &Session) -> AppResult<Vec<ipc::AlertRuleRow>> {
    session.on_workspace(|open| alert_rules(&open.store)).await
}

/// The alert notifications sent or waiting, as `lookback alert list` lists them.
pub async fn alert_notifications_job(
    session: &Session,
) -> AppResult<Vec<ipc::AlertNotificationRow>> {
    session
        .on_workspace(|open| alert_notification_rows(&open.store))
        .await
}

/// Adds an alert rule as the user wrote it.
pub async fn add_alert_rule_job(
    session: &Session,
    rule: ipc::NewAlertRule,
) -> AppResult<Vec<ipc::AlertRuleRow>> {
    session
        .on_workspace(move |open| add_alert_rule(&mut open.store, &rule, crate::clock::now_ms()))
        .await
}

/// Removes an alert rule.
pub async fn remove_alert_rule_job(
    session: &Session,
    rule_id: i64,
) -> AppResult<Vec<ipc::AlertRuleRow>> {
    session
        .on_workspace(move |open| {
            remove_alert_rule(&mut open.store, rule_id, crate::clock::now_ms())
        })
        .await
}

/// The workspace's webhook secrets (never their values).
pub async fn webhook_secrets_job(session: &Session) -> AppResult<Vec<ipc::WebhookSecretRow>> {
    session
        .on_workspace(|open| webhook_secret_rows(&open.store))
        .await
}

/// Adds a webhook secret typed into the window (into the OS keyring); a running receiver
/// verifies with it at once.
pub async fn add_webhook_secret_job(
    session: &Session,
    request: ipc::NewWebhookSecret,
) -> AppResult<Vec<ipc::WebhookSecretRow>> {
    let rows = session
        .on_workspace(move |open| {
            add_webhook_secret_row(&mut open.store, &request, crate::clock::now_ms())
        })
        .await?;
    refresh_listener_secrets(session).await?;
    Ok(rows)
}

/// Removes one webhook secret; a running receiver stops accepting it at once.
pub async fn remove_webhook_secret_job(
    session: &Session,
    secret_ref: String,
) -> AppResult<Vec<ipc::WebhookSecretRow>> {
    let rows = session
        .on_workspace(move |open| remove_webhook_secret_row(&mut open.store, &secret_ref))
        .await?;
    refresh_listener_secrets(session).await?;
    Ok(rows)
}

/// Hands the session's running receiver the workspace's current secrets.
async fn refresh_listener_secrets(session: &Session) -> AppResult<()> {
    let slot = session.listener().lock().await;
    let Some(listener) = slot.as_ref() else {
        return Ok(());
    };
    let secrets = session
        .on_workspace(|open| Ok(lookback_sync::webhooks::load_webhook_secrets(&open.store)?))
        .await?;
    listener.use_secrets(secrets);
    Ok(())
}

/// Whether a Slack incoming-webhook URL is stored (never the URL).
pub async fn slack_url_stored_job() -> AppResult<bool> {
    blocking(|| Ok(slack_url_stored()?)).await
}

/// Stores the Slack incoming-webhook URL typed into the window in the OS keyring.
pub async fn set_slack_url_job(url: String) -> AppResult<bool> {
    blocking(move || {
        set_slack_url(&lookback_sync::Secret::new(url))?;
        Ok(true)
    })
    .await
}

/// Evaluates every alert rule now and delivers what is due (desktop through `desktop`, Slack
/// when a URL is stored) — the window's **Check now**, as `lookback alert check`.
pub async fn check_alerts_job(
    session: &Session,
    desktop: DesktopNotifierFactory,
) -> AppResult<ipc::AlertCheckSummary> {
    session
        .on_workspace(move |open| {
            let runtime = crate::runtime::worker_runtime()?;
            let s = check_alerts_once(&mut open.store, &runtime, desktop())?;
            Ok(ipc::AlertCheckSummary {
                findings: s.findings,
                claimed: s.claimed,
                sent: s.sent,
                failed: s.failed,
                waiting: s.undeliverable,
            })
        })
        .await
}
