//! The attribution jobs of the CLI and the window's model switch: the workspace's model and
//! its parameters, parameter overrides as typed, the model log, and the credits and learned
//! weights of a run (`lookback report credits|weights`). A preview model runs (or reuses) its
//! run without changing the workspace's model. The clock is read by callers and passed in.

use anyhow::Result;
use lookback_core::attribution::{Model, ModelParams, PositionWeights};
use lookback_core::time::NaiveDate;
use lookback_core::touch_filter::TouchFilter;
use lookback_report::{CreditKey, CreditsReport, WeightsReport};
use lookback_store::{ModelChange, Store};

use crate::error::AppError;

/// The workspace's model and its parameters (the default last-touch model until one is set).
pub fn workspace_model(store: &Store) -> Result<(Model, ModelParams)> {
    Ok(lookback_engine::current_model(store)?)
}

/// Every change of the workspace's model, newest first.
pub fn model_changes(store: &Store) -> Result<Vec<ModelChange>> {
    Ok(store.model_changes()?)
}

/// The model log: changes of model and of traffic rules, newest first.
pub fn change_log(store: &Store) -> Result<Vec<lookback_store::LoggedChange>> {
    Ok(store.change_log()?)
}

/// Single parameters to override, as typed; `None` keeps the base's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamOverrides {
    /// Lookback window in days.
    pub window_days: Option<u32>,
    /// Half-life of the time-decay model, in days.
    pub half_life_days: Option<u32>,
    /// Position-based weights `first,middle,last` in percent, summing to 100.
    pub position_weights: Option<String>,
    /// Which touches the run reads (`--touches`).
    pub touches: Option<TouchFilter>,
}

impl ParamOverrides {
    /// `base` with these overrides, validated (`invalid_input` naming the parameter).
    pub fn apply(&self, mut params: ModelParams) -> Result<ModelParams> {
        if let Some(days) = self.window_days {
            params.lookback_days = days;
        }
        if let Some(days) = self.half_life_days {
            params.half_life_days = days;
        }
        if let Some(text) = &self.position_weights {
            params.position_weights = parse_position_weights(text)?;
        }
        if let Some(touches) = self.touches {
            params.touches = touches;
        }
        params.validate()?;
        Ok(params)
    }
}

/// Position-based weights as typed: three whole percentages like `40,20,40`.
pub fn parse_position_weights(text: &str) -> Result<PositionWeights> {
    let invalid = || {
        AppError::invalid(
            "position_weights",
            format!("{text:?} must be three whole percentages like 40,20,40"),
        )
    };
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    let [first, middle, last] = parts[..] else {
        return Err(invalid().into());
    };
    Ok(PositionWeights {
        first,
        middle,
        last,
    })
}

/// The workspace's parameters with `overrides` applied: what `model set` makes the model's.
pub fn params_for(store: &Store, overrides: &ParamOverrides) -> Result<ModelParams> {
    let (_, current) = workspace_model(store)?;
    overrides.apply(current)
}

/// The reason a model change is logged with; required, it is what the log is for.
pub fn require_reason(reason: Option<&str>) -> Result<&str> {
    Ok(reason.ok_or_else(|| {
        AppError::invalid(
            "reason",
            "model set needs --reason TEXT: every model change is logged with why",
        )
    })?)
}

fn day(text: Option<&str>, field: &str) -> Result<Option<NaiveDate>> {
    Ok(text
        .map(|t| {
            NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
                AppError::invalid(field, format!("{t:?} is not a day of the form YYYY-MM-DD"))
            })
        })
        .transpose()?)
}

/// What a credits report is of.
#[derive(Debug, Clone)]
pub struct CreditsRequest<'a> {
    pub by: CreditKey,
    /// A preview model; `None`: the workspace's.
    pub model: Option<Model>,
    pub overrides: ParamOverrides,
    /// First and last order day (YYYY-MM-DD, reporting zone), inclusive; either may be open.
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub settled_only: bool,
    /// Which day selects a credit: its order's (cash) or its touch's (accrual).
    pub basis: lookback_report::CreditBasis,
}

/// Credited revenue and conversions of the model's run (computed or reused), by `by`. Without
/// days, every order; with one, the other end is open.
pub fn credits(
    store: &mut Store,
    request: &CreditsRequest<'_>,
    now_ms: i64,
) -> Result<CreditsReport> {
    let (current, current_params) = workspace_model(store)?;
    let model = request.model.unwrap_or(current);
    let params = request.overrides.apply(current_params)?;
    let from = day(request.from, "from")?;
    let to = day(request.to, "to")?;
    let range = match (from, to) {
        (None, None) => None,
        (from, to) => Some((
            from.unwrap_or(NaiveDate::MIN),
            to.unwrap_or(NaiveDate::MAX.pred_opt().unwrap_or(NaiveDate::MAX)),
        )),
    };
    let summary = lookback_engine::run_model(store, model, &params, now_ms)?;
    Ok(lookback_report::credits_by_basis(
        store,
        summary.run_id,
        request.by,
        range,
        request.settled_only,
        request.basis,
    )?)
}

/// The channel weights the data-driven `model` learned, on the workspace's parameters with
/// `overrides`; a rule-based model is `invalid_input`.
pub fn weights(
    store: &mut Store,
    model: Model,
    overrides: &ParamOverrides,
    now_ms: i64,
) -> Result<WeightsReport> {
    if !model.is_data_driven() {
        return Err(AppError::invalid(
            "model",
            format!("{model} learns no weights; only markov and shapley do"),
        )
        .into());
    }
    let params = params_for(store, overrides)?;
    let summary = lookback_engine::run_model(store, model, &params, now_ms)?;
    Ok(lookback_report::weights(store, summary.run_id)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn kind(err: anyhow::Error) -> (ErrorKind, String) {
        let err = AppError::from(err);
        (err.kind, err.message)
    }

    #[test]
    fn position_weights_are_three_percentages_and_bad_ones_name_the_field() {
        let w = parse_position_weights("40, 20,40").unwrap();
        assert_eq!((w.first, w.middle, w.last), (40, 20, 40));
        for bad in ["40,60", "a,b,c", "40,20,40,0"] {
            let (k, message) = kind(parse_position_weights(bad).unwrap_err());
            assert_eq!(k, ErrorKind::InvalidInput);
            assert!(message.starts_with("position_weights: "), "{message}");
        }
    }

    #[test]
    fn overrides_replace_single_parameters_and_a_missing_reason_is_invalid_input() {
        let base = ModelParams::default();
        let overrides = ParamOverrides {
            window_days: Some(7),
            ..ParamOverrides::default()
        };
        let params = overrides.apply(base).unwrap();
        assert_eq!(params.lookback_days, 7);
        assert_eq!(params.half_life_days, base.half_life_days);
        let (k, message) = kind(require_reason(None).unwrap_err());
        assert_eq!(k, ErrorKind::InvalidInput);
        assert!(message.starts_with("reason: "), "{message}");
    }
}
