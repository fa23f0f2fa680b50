//! Changing the workspace's attribution model: the one job behind `lookback model set` and the
//! window's **Make default**. Every change is logged with who made it, when and why; a change
//! without a reason is refused, naming the field.

use lookback_core::attribution::{Model, ModelParams};
use lookback_store::{ModelChange, Store};

use crate::error::{AppError, AppResult};

/// Makes `model` with `params` the workspace's model, appending to the model log. `profile`
/// names who changed it (else the system user); `reason` is required.
pub fn change_model(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    profile: Option<&str>,
    reason: &str,
    now_ms: i64,
) -> AppResult<ModelChange> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why the model changes: the model log keeps the reason",
        ));
    }
    let who = lookback_engine::changed_by(profile);
    Ok(lookback_engine::set_model(
        store, model, params, &who, reason, now_ms,
    )?)
}
