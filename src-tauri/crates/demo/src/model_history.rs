//! The demo team's history of attribution-model changes: who changed the workspace's model,
//! when (days before the demo's end), from what to what and why. The demo crate only tells the
//! story; `lookback_app::workspace::create_demo` records each change through the same job a
//! user's change goes through (`models::change_model`), so the log is written exactly as a real
//! one. The story ends where the demo's views stand (last touch, 30-day window), so every figure
//! of a fresh demo stays what it was.

use lookback_core::attribution::{Model, ModelParams, PositionWeights};

use crate::DemoConfig;
use crate::calendar::{DAY_MS, HOUR_MS};

/// One change of the demo workspace's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoModelChange {
    pub at_ms: i64,
    pub changed_by: &'static str,
    pub model: Model,
    pub params: ModelParams,
    pub reason: &'static str,
}

/// The changes, oldest first, placed within the 90 days before `cfg.end_at_ms` (the demo's last
/// quarter: the team settled on its model recently).
pub fn model_history(cfg: &DemoConfig) -> Vec<DemoModelChange> {
    let at =
        |days_before_end: i64, hour: i64| cfg.end_at_ms - days_before_end * DAY_MS + hour * HOUR_MS;
    let params = |lookback_days: u32, half_life_days: u32, weights: (u32, u32, u32)| ModelParams {
        lookback_days,
        half_life_days,
        position_weights: PositionWeights {
            first: weights.0,
            middle: weights.1,
            last: weights.2,
        },
        ..ModelParams::default()
    };
    vec![
        DemoModelChange {
            at_ms: at(84, 10),
            changed_by: "priya (growth)",
            model: Model::Linear,
            params: params(30, 7, (40, 20, 40)),
            reason: "Creators asked why their posts earn nothing when a retargeting ad closes the sale; trying an even split across the journey.",
        },
        DemoModelChange {
            at_ms: at(61, 15),
            changed_by: "priya (growth)",
            model: Model::TimeDecay,
            params: params(30, 7, (40, 20, 40)),
            reason: "Linear paid for month-old posts as much as yesterday's click; weight recent touches more (7-day half-life).",
        },
        DemoModelChange {
            at_ms: at(38, 11),
            changed_by: "daniel (finance)",
            model: Model::PositionBased,
            params: params(30, 7, (40, 20, 40)),
            reason: "For the quarter's payout review: credit the creator who introduced the buyer and the touch that closed the sale, 40/20/40.",
        },
        DemoModelChange {
            at_ms: at(13, 9),
            changed_by: "daniel (finance)",
            model: Model::LastTouch,
            params: params(30, 7, (40, 20, 40)),
            reason: "Creator contracts pay commission on last touch within 30 days; settle on that and keep the other models on the Compare screen.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_lies_within_the_demo_oldest_first_and_every_change_changes_something() {
        let cfg = DemoConfig::default();
        let history = model_history(&cfg);
        assert!((3..=5).contains(&history.len()));
        let start = cfg.end_at_ms - crate::DEMO_DAYS * DAY_MS;
        let mut previous = (Model::LastTouch, ModelParams::default());
        let mut last_at = start;
        for change in &history {
            assert!(change.at_ms > last_at && change.at_ms < cfg.end_at_ms);
            assert!(change.params.validate().is_ok());
            assert_ne!((change.model, change.params), previous);
            assert!(!change.reason.trim().is_empty() && !change.changed_by.trim().is_empty());
            last_at = change.at_ms;
            previous = (change.model, change.params);
        }
    }
}
