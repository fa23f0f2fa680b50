//! What a view, chart or export is of: one typed [`ViewSelection`] that the window's wire
//! `ViewRequest` and the CLI's flags both convert into, and the decisions taken on it — which
//! model and parameters a view runs, which models a comparison puts side by side (one default,
//! for both), the query and the event range. No tauri, no clap flags here.

use anyhow::Result;
use lookback_core::attribution::{Model, ModelParams, PositionWeights};
use lookback_core::time::{NaiveDate, TimeBucket};
use lookback_core::touch_filter::TouchFilter;
use lookback_report::{CreditBasis, EventRange, ViewKey, ViewQuery};
use lookback_store::Store;

use crate::error::{AppError, AppResult};
use crate::wire as ipc;

/// What a view is of: the grouping, the model (a preview, or the workspace's), the models a
/// comparison puts side by side, the days, the buckets, settled orders only, the creator, the
/// basis that dates credits, and which touches the runs read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSelection {
    pub by: ViewKey,
    /// Preview this model instead of the workspace's (never changes the workspace's model).
    pub model: Option<Model>,
    /// The parameters of the preview and of compared models; `None`: the workspace's.
    pub params: Option<ModelParams>,
    /// The models a comparison puts side by side, in order; fewer than two: the default (see
    /// [`compared_models`]).
    pub models: Vec<Model>,
    /// First and last day, inclusive, in the reporting zone.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// ROAS rows by day, week or month; `None`: one row per key.
    pub bucket: Option<TimeBucket>,
    /// Only settled orders' revenue.
    pub settled_only: bool,
    /// The creator of the creator view.
    pub creator: Option<String>,
    /// Which day a credit counts on: its order's (cash) or its touch's (accrual).
    pub basis: CreditBasis,
    /// Which touches the runs read; `None`: the workspace's setting (bot touches left out
    /// unless `lookback model set --touches` changed it), previews included.
    pub touches: Option<TouchFilter>,
}

impl Default for ViewSelection {
    fn default() -> Self {
        ViewSelection {
            by: ViewKey::Creator,
            model: None,
            params: None,
            models: Vec::new(),
            from: None,
            to: None,
            bucket: None,
            settled_only: false,
            creator: None,
            basis: CreditBasis::Cash,
            touches: None,
        }
    }
}

/// A day `YYYY-MM-DD`, or nothing when `text` is absent or empty; `field` names it in the error.
pub fn parse_day(text: Option<&str>, field: &str) -> AppResult<Option<NaiveDate>> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
                AppError::invalid(field, format!("{t:?} is not a day of the form YYYY-MM-DD"))
            })
        })
        .transpose()
}

/// One model by name (`linear`, `position-based`, …).
pub fn parse_model(name: &str) -> AppResult<Model> {
    Model::parse(name.trim()).map_err(|e| AppError::invalid("model", e))
}

/// Models named in a comma-separated list, in order; blanks are skipped.
pub fn parse_models<S: AsRef<str>>(names: &[S]) -> AppResult<Vec<Model>> {
    names
        .iter()
        .flat_map(|n| n.as_ref().split(','))
        .filter(|m| !m.trim().is_empty())
        .map(parse_model)
        .collect()
}

/// A model choice from the window: the model and its parameters, checked. A choice carries no
/// touch filter: the parameters have the default one, and a view's request says its own.
pub fn model_of(choice: &ipc::ModelChoice) -> Result<(Model, ModelParams)> {
    let model = Model::from(choice.model);
    let [first, middle, last] = choice.position_weights;
    let params = ModelParams {
        lookback_days: choice.window_days,
        half_life_days: choice.half_life_days,
        position_weights: PositionWeights {
            first,
            middle,
            last,
        },
        touches: TouchFilter::default(),
    };
    params.validate()?;
    Ok((model, params))
}

impl ViewSelection {
    /// The window's request: by, the model choice (a preview with its parameters), the days,
    /// the bucket and settled-only. The compared models and the creator come beside it.
    pub fn from_request(request: &ipc::ViewRequest) -> Result<ViewSelection> {
        let (model, params) = match &request.model {
            Some(choice) => {
                let (m, p) = model_of(choice)?;
                (Some(m), Some(p))
            }
            None => (None, None),
        };
        Ok(ViewSelection {
            by: request.by.into(),
            model,
            params,
            models: Vec::new(),
            from: parse_day(request.from.as_deref(), "from")?,
            to: parse_day(request.to.as_deref(), "to")?,
            bucket: request.bucket.map(TimeBucket::from),
            settled_only: request.settled_only,
            creator: None,
            basis: request.basis.unwrap_or_default().into(),
            touches: request.touches.map(TouchFilter::from),
        })
    }

    /// The model and parameters of a single-model view: the preview's, or the workspace's.
    /// A preview without parameters runs with the workspace's. The touches read are the
    /// selection's filter, else the workspace's (see [`ViewSelection::params_of`]).
    pub fn model_and_params(&self, store: &Store) -> Result<(Model, ModelParams)> {
        let (current, current_params) = lookback_engine::current_model(store)?;
        Ok((
            self.model.unwrap_or(current),
            self.params_of(&current_params),
        ))
    }

    /// The parameters a view runs with, given the workspace's: the selection's (a preview's),
    /// else the workspace's; with the selection's touch filter, else the workspace's — a
    /// preview of another model or window reads the same touches unless asked otherwise.
    pub fn params_of(&self, workspace: &ModelParams) -> ModelParams {
        ModelParams {
            touches: self.touches.unwrap_or(workspace.touches),
            ..self.params.unwrap_or(*workspace)
        }
    }

    /// The view query of `run_id`.
    pub fn query(&self, run_id: i64) -> ViewQuery {
        ViewQuery {
            run_id,
            by: self.by,
            from: self.from,
            to: self.to,
            bucket: self.bucket,
            settled_only: self.settled_only,
            basis: self.basis,
        }
    }

    /// The event range of event-level exports.
    pub fn range(&self) -> EventRange {
        EventRange {
            from: self.from,
            to: self.to,
            settled_only: self.settled_only,
            basis: self.basis,
        }
    }

    /// The creator the creator view is of.
    pub fn creator_id(&self) -> AppResult<&str> {
        self.creator
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| AppError::invalid("creator", "which creator? no creator was chosen"))
    }
}

/// The models a comparison puts side by side, with the parameters they run with (the
/// selection's, or the workspace's). The one default, for the window and the CLI: when fewer
/// than two models are named, the workspace's model and last-touch — or linear when the
/// workspace's model is last-touch.
pub fn compared_models(store: &Store, sel: &ViewSelection) -> Result<(Vec<Model>, ModelParams)> {
    let (current, current_params) = lookback_engine::current_model(store)?;
    let params = sel.params_of(&current_params);
    let models = if sel.models.len() >= 2 {
        sel.models.clone()
    } else if current == Model::LastTouch {
        vec![current, Model::Linear]
    } else {
        vec![current, Model::LastTouch]
    };
    Ok((models, params))
}

/// The run of a single-model view (see [`ViewSelection::model_and_params`]), computed or
/// reused from the cache. Never changes the workspace's model.
pub fn run_for(store: &mut Store, sel: &ViewSelection, now_ms: i64) -> Result<i64> {
    let (model, params) = sel.model_and_params(store)?;
    Ok(lookback_engine::run_model(store, model, &params, now_ms)?.run_id)
}

/// The runs of a comparison (see [`compared_models`]), in order.
pub fn compare_runs(store: &mut Store, sel: &ViewSelection, now_ms: i64) -> Result<Vec<i64>> {
    let (models, params) = compared_models(store, sel)?;
    models
        .into_iter()
        .map(|m| Ok(lookback_engine::run_model(store, m, &params, now_ms)?.run_id))
        .collect()
}
