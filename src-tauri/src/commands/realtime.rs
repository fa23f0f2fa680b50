//! Commands behind the Real time screen: start and stop the local webhook receiver (open views
//! refresh as events arrive), and the alert rules, delivered as system notifications.

use std::net::SocketAddr;
use std::sync::Arc;

use lookback_alerts::{Channel, Notifier, SendFuture};
use lookback_store::AlertNotification;
use tauri::{AppHandle, Emitter, Manager};

use super::{now_ms, on_workspace_blocking, with_workspace};
use crate::app_state::WindowState;
use crate::ipc::{self, ErrorKind, IpcError};
use crate::realtime::{self, Listener};

/// Desktop alerts through the system's notifications, also shown inside the window.
struct SystemNotifier(AppHandle);

impl Notifier for SystemNotifier {
    fn channel(&self) -> Channel {
        Channel::Desktop
    }

    fn send<'a>(&'a self, n: &'a AlertNotification) -> SendFuture<'a> {
        Box::pin(async move {
            use tauri_plugin_notification::NotificationExt;
            let _ = self.0.emit("alert", format!("{} — {}", n.title, n.body));
            self.0
                .notification()
                .builder()
                .title(&n.title)
                .body(&n.body)
                .show()
                .map_err(|e| e.to_string())
        })
    }
}

/// Starts the receiver on `bind` (loopback unless the user typed another address).
#[tauri::command]
pub async fn start_listener(app: AppHandle, bind: String) -> Result<ipc::ListenerStatus, IpcError> {
    let bind: SocketAddr = bind.trim().parse().map_err(|_| {
        IpcError::new(
            ErrorKind::InvalidInput,
            format!("{bind:?} is not an address such as 127.0.0.1:8787"),
        )
    })?;
    let db = with_workspace(&app.state::<WindowState>(), |open| Ok(open.path.clone()))?;
    let state = app.state::<WindowState>();
    let mut slot = state.listener.lock().await;
    if let Some(running) = slot.as_ref() {
        return Ok(running.status());
    }
    let notify_app = app.clone();
    let emit_app = app.clone();
    let listener = Listener::start(
        &db,
        bind,
        Arc::new(move || Box::new(SystemNotifier(notify_app.clone())) as Box<dyn Notifier>),
        Arc::new(move |event| {
            // Views refresh when a delivery has been normalized into canonical rows.
            if matches!(event, lookback_sync::webhooks::RealtimeEvent::Normalized(s) if s.handled > 0) {
                let _ = emit_app.emit("workspace-changed", ());
            }
        }),
    )
    .await?;
    let status = listener.status();
    *slot = Some(listener);
    Ok(status)
}

#[tauri::command]
pub async fn stop_listener(app: AppHandle) -> Result<ipc::ListenerStatus, IpcError> {
    let running = app.state::<WindowState>().listener.lock().await.take();
    if let Some(listener) = running {
        listener.stop().await;
    }
    Ok(realtime::stopped())
}

#[tauri::command]
pub async fn listener_status(app: AppHandle) -> Result<ipc::ListenerStatus, IpcError> {
    Ok(app
        .state::<WindowState>()
        .listener
        .lock()
        .await
        .as_ref()
        .map(Listener::status)
        .unwrap_or_else(realtime::stopped))
}

#[tauri::command]
pub async fn alert_rules(app: AppHandle) -> Result<Vec<ipc::AlertRuleRow>, IpcError> {
    on_workspace_blocking(app, |open| realtime::alert_rules(&open.store)).await
}

#[tauri::command]
pub async fn add_alert_rule(
    app: AppHandle,
    rule: ipc::NewAlertRule,
) -> Result<Vec<ipc::AlertRuleRow>, IpcError> {
    on_workspace_blocking(app, move |open| {
        realtime::add_alert_rule(&mut open.store, &rule, now_ms())
    })
    .await
}

#[tauri::command]
pub async fn remove_alert_rule(
    app: AppHandle,
    rule_id: i64,
) -> Result<Vec<ipc::AlertRuleRow>, IpcError> {
    on_workspace_blocking(app, move |open| {
        realtime::remove_alert_rule(&mut open.store, rule_id, now_ms())
    })
    .await
}
