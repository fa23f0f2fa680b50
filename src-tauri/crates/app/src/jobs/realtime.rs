//! The Real time jobs as the window calls them: the session's webhook receiver (open views
//! refresh as deliveries are normalized) and the alert rules.

use std::net::SocketAddr;
use std::sync::Arc;

use lookback_sync::webhooks::RealtimeEvent;

use crate::error::{AppError, AppResult};
use crate::events::AppEvent;
use crate::realtime::*;
use crate::session::Session;
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
