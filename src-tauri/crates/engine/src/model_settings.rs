//! The workspace's attribution model: reading it, and changing it — always with a log entry.
//!
//! Conventions:
//! - The lookback window is a model parameter (`ModelParams::lookback_days`), and the stored
//!   parameters are authoritative for runs. [`set_model`] mirrors it into the workspace's
//!   `lookback_days` setting so the two never disagree; a workspace whose model was never set
//!   (stored parameters `{}`) takes its lookback from that setting and every other parameter
//!   from core's defaults.
//! - The lookback of a model setting is 1–3650 days, the range core accepts for any run, so
//!   whatever can be previewed can be saved.
//! - "Who" is the profile name the caller passes, else the OS user (`$USER`, then `$USERNAME`),
//!   else `unknown` — never empty, because the log requires a name.

use lookback_core::attribution::{Model, ModelParams};
use lookback_store::{ModelChange, ModelChangeRequest, Store};

use crate::EngineError;

/// The most lookback days the workspace setting accepts.
const MAX_SETTING_LOOKBACK_DAYS: u32 = 3650;

/// Who is making a change: `profile` if given and not blank, else the OS user.
pub fn changed_by(profile: Option<&str>) -> String {
    if let Some(name) = profile.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The workspace's current model and its parameters (see the module docs for `{}`).
pub fn current_model(store: &Store) -> Result<(Model, ModelParams), EngineError> {
    let settings = store.settings()?;
    let model = Model::parse(&settings.model).map_err(|e| EngineError::InvalidSetting {
        field: "model",
        detail: e.to_string(),
    })?;
    let text = settings.model_parameters.trim();
    let params = if text.is_empty() || text == "{}" {
        ModelParams {
            lookback_days: settings.lookback_days,
            ..ModelParams::default()
        }
    } else {
        ModelParams::parse_canonical(text).map_err(|e| EngineError::InvalidSetting {
            field: "model_parameters",
            detail: e.to_string(),
        })?
    };
    Ok((model, params))
}

/// Changes the workspace's model to `model` with `params`, appending who, when, from, to, the
/// parameters and the reason to the model log in the same transaction, then mirrors the
/// lookback into the workspace setting.
///
/// Refused before anything is written: invalid parameters, a lookback outside 1–3650 days, or a
/// blank `changed_by` or `reason`.
pub fn set_model(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    changed_by: &str,
    reason: &str,
    now_ms: i64,
) -> Result<ModelChange, EngineError> {
    params.validate()?;
    if params.lookback_days > MAX_SETTING_LOOKBACK_DAYS {
        return Err(EngineError::InvalidModelChange {
            reason: format!(
                "a lookback window of {} days is longer than the {MAX_SETTING_LOOKBACK_DAYS} days a workspace allows",
                params.lookback_days
            ),
        });
    }
    if reason.trim().is_empty() {
        return Err(EngineError::InvalidModelChange {
            reason: "a reason is required (it goes into the model log)".into(),
        });
    }
    if changed_by.trim().is_empty() {
        return Err(EngineError::InvalidModelChange {
            reason: "who made the change is required".into(),
        });
    }
    let change = store.set_model_with_log(&ModelChangeRequest {
        changed_at_ms: now_ms,
        changed_by: changed_by.trim().to_owned(),
        to_model: model.as_str().to_owned(),
        parameters_after: params.to_canonical_string(),
        reason: reason.trim().to_owned(),
    })?;
    // A second transaction: if it fails, the stored parameters still say which lookback runs use,
    // so attribution and the log stay right; only the mirrored setting would lag.
    store.set_lookback_days(params.lookback_days)?;
    Ok(change)
}
