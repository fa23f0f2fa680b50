//! Intervals beside data-driven figures, for the CLI and the window alike: the learned weights
//! with their bootstrap intervals (`lookback report weights --intervals`, the Compare models
//! screen's "Show intervals") and the revenue intervals of a ROAS view's keys (`lookback view
//! roas --intervals`, the ROAS screen's toggle). The bootstrap runs on the workspace's journeys
//! as they are now, beside the run (computed or reused) whose figures it qualifies.

use anyhow::Result;
use lookback_core::attribution::Model;
use lookback_core::bootstrap::{
    BootstrapSettings, Confidence, DEFAULT_LEVEL, DEFAULT_RESAMPLES, DEFAULT_SEED,
};
use lookback_report::{self as report, RevenueIntervalsView, WeightsReport};
use lookback_store::Store;

use super::selection::ViewSelection;
use crate::attribution::ParamOverrides;
use crate::error::{AppError, AppResult};
use crate::wire as ipc;
use crate::workspace::money;

/// Bootstrap settings from what was typed (absent: 200 resamples, 90%, seed 14), checked.
pub fn settings(
    resamples: Option<u32>,
    level: Option<f64>,
    seed: Option<u64>,
) -> AppResult<BootstrapSettings> {
    let settings = BootstrapSettings {
        resamples: resamples.unwrap_or(DEFAULT_RESAMPLES),
        level: level.unwrap_or(DEFAULT_LEVEL),
        seed: seed.unwrap_or(DEFAULT_SEED),
    };
    settings.validate().map_err(|e| {
        let reason = match e {
            lookback_core::CoreError::InvalidModelParams { reason } => reason,
            other => other.to_string(),
        };
        let field = if reason.contains("resamples") {
            "resamples"
        } else {
            "level"
        };
        AppError::invalid(field, reason)
    })?;
    Ok(settings)
}

/// The weights `model` learned (on the workspace's parameters with `overrides`), each with its
/// interval.
pub fn weights_with_intervals(
    store: &mut Store,
    model: Model,
    overrides: &ParamOverrides,
    settings: &BootstrapSettings,
    now_ms: i64,
) -> Result<WeightsReport> {
    let mut weights = crate::attribution::weights(store, model, overrides, now_ms)?;
    let params = crate::attribution::params_for(store, overrides)?;
    let boot = lookback_engine::run_bootstrap(store, model, &params, settings, now_ms)?;
    report::attach_weight_intervals(&mut weights, &boot);
    Ok(weights)
}

/// The revenue interval of each key of a ROAS selection under its data-driven model. A
/// rule-based model, a bucketed view or a platform view is `invalid_input`, saying why.
pub fn roas_intervals(
    store: &mut Store,
    sel: &ViewSelection,
    settings: &BootstrapSettings,
    now_ms: i64,
) -> Result<RevenueIntervalsView> {
    let (model, params) = sel.model_and_params(store)?;
    if !model.is_data_driven() {
        return Err(AppError::invalid(
            "intervals",
            format!(
                "intervals are for the data-driven models (markov, shapley); this view's model is {model}"
            ),
        )
        .into());
    }
    if sel.bucket.is_some() {
        return Err(AppError::invalid(
            "intervals",
            "intervals are per key over the whole range; leave out the day/week/month buckets",
        )
        .into());
    }
    if report::intervals::interval_key(sel.by).is_none() {
        return Err(AppError::invalid(
            "intervals",
            "intervals are by creator, campaign, channel or content, not by platform",
        )
        .into());
    }
    let run_id = lookback_engine::run_model(store, model, &params, now_ms)?.run_id;
    let boot = lookback_engine::run_bootstrap(store, model, &params, settings, now_ms)?;
    Ok(report::revenue_intervals_view(
        store,
        &sel.query(run_id),
        &boot,
    )?)
}

fn too_few(confidence: Confidence) -> bool {
    confidence == Confidence::TooFew
}

fn settings_wire(settings: &BootstrapSettings) -> ipc::IntervalSettings {
    ipc::IntervalSettings {
        resamples: settings.resamples,
        level: settings.level,
        seed: settings.seed.to_string(),
        too_few_words: Confidence::TOO_FEW_WORDS.to_owned(),
    }
}

/// The Compare models screen's weights of `model` with intervals (default settings).
pub fn weight_intervals_view(
    store: &mut Store,
    model: ipc::ModelName,
    now_ms: i64,
) -> Result<ipc::WeightIntervalsView> {
    let settings = BootstrapSettings::default();
    let r = weights_with_intervals(
        store,
        Model::from(model),
        &ParamOverrides::default(),
        &settings,
        now_ms,
    )?;
    let intervals = r
        .intervals
        .as_ref()
        .map(|i| i.rows.as_slice())
        .unwrap_or(&[]);
    Ok(ipc::WeightIntervalsView {
        model,
        run_id: r.run.run_id,
        settings: settings_wire(&settings),
        rows: r
            .rows
            .iter()
            .zip(intervals)
            .map(|(w, i)| ipc::WeightIntervalRow {
                channel: w.channel.clone(),
                weight: w.weight,
                low: i.low,
                high: i.high,
                conversions: i64::try_from(w.conversions).unwrap_or(i64::MAX),
                too_few: too_few(i.confidence),
            })
            .collect(),
    })
}

/// The ROAS screen's revenue intervals of the request's keys (default settings).
pub fn roas_intervals_view(
    store: &mut Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<ipc::RevenueIntervalsView> {
    let settings = BootstrapSettings::default();
    let sel = ViewSelection::from_request(request)?;
    let view = roas_intervals(store, &sel, &settings, now_ms)?;
    let currency = view.run.reporting_currency.code();
    Ok(ipc::RevenueIntervalsView {
        run_id: view.run.run_id,
        by: view.by.into(),
        settings: settings_wire(&settings),
        rows: view
            .rows
            .iter()
            .map(|r| {
                Ok(ipc::RevenueIntervalRow {
                    key: r.key.clone(),
                    label: r.label.clone(),
                    low: money(r.low_minor, currency)?,
                    high: money(r.high_minor, currency)?,
                    orders: i64::try_from(r.orders).unwrap_or(i64::MAX),
                    too_few: too_few(r.confidence),
                })
            })
            .collect::<Result<_>>()?,
    })
}
