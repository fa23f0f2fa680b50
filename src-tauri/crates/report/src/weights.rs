//! The weights view: the channel weights a Markov or Shapley run learned and split its credits
//! by, read back from `run_channel_weights` — exactly the numbers the run used, not a re-learning.

use lookback_store::Store;

use crate::ReportError;
use crate::credits::RunInfo;

/// One channel's learned weight.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRow {
    pub channel: String,
    /// The removal effect (Markov) or Shapley value.
    pub value: f64,
    /// `value` normalized over the run's channels; the weights sum to 1 when any value is positive.
    pub weight: f64,
    /// Converting paths the channel appears in.
    pub conversions: u64,
    /// All paths the channel appears in.
    pub paths: u64,
}

/// The weights of one data-driven run, largest weight first.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsReport {
    pub run: RunInfo,
    /// `removal_effect` for Markov, `shapley_value` for Shapley: the name of [`WeightRow::value`].
    pub value_name: &'static str,
    pub rows: Vec<WeightRow>,
    /// Bootstrap intervals of the weights, when asked for
    /// ([`crate::intervals::attach_weight_intervals`]).
    pub intervals: Option<crate::intervals::WeightIntervals>,
}

/// The learned weights of run `run_id`, which must be a complete markov or shapley run.
pub fn weights(store: &Store, run_id: i64) -> Result<WeightsReport, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let value_name = match run.model.as_str() {
        "markov" => "removal_effect",
        "shapley" => "shapley_value",
        other => {
            return Err(ReportError::NotDataDriven {
                model: other.to_owned(),
            });
        }
    };
    let rows = store
        .run_channel_weights(run_id)?
        .into_iter()
        .map(|w| WeightRow {
            channel: w.channel,
            value: w.value,
            weight: w.weight,
            conversions: w.conversions,
            paths: w.paths,
        })
        .collect();
    Ok(WeightsReport {
        run,
        value_name,
        rows,
        intervals: None,
    })
}
