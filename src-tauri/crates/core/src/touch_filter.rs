//! Which touches a run reads, by traffic class (issue 15): every view, chart and export is of
//! one [`TouchFilter`]. It is a model parameter (`ModelParams::touches`), so a run, its cache
//! entry and its provenance always say which touches it credited.
//!
//! Semantics: an excluded touch is in no journey, so it takes no credit; an order whose only
//! touches are excluded has no journey and is unattributed. Each run still credits every
//! attributed order's net revenue exactly.

use std::fmt;

use crate::error::{CoreError, Result};
use crate::traffic::TrafficClass;

/// Which traffic classes a run admits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TouchFilter {
    /// Human and suspicious touches; bot touches left out (the default).
    #[default]
    NoBots,
    /// Only human touches.
    Human,
    /// Every touch, whatever its class.
    All,
}

impl TouchFilter {
    /// Every filter, in the order the CLI and the window list them.
    pub const ALL: [TouchFilter; 3] = [TouchFilter::NoBots, TouchFilter::Human, TouchFilter::All];

    /// The CLI and stored name: `no-bots`, `human`, `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            TouchFilter::NoBots => "no-bots",
            TouchFilter::Human => "human",
            TouchFilter::All => "all",
        }
    }

    /// Parses a CLI or stored name (case-insensitive; `_` is accepted for `-`).
    pub fn parse(name: &str) -> Result<TouchFilter> {
        let normalized = name.trim().to_ascii_lowercase().replace('_', "-");
        TouchFilter::ALL
            .into_iter()
            .find(|filter| filter.as_str() == normalized)
            .ok_or_else(|| CoreError::InvalidModelParams {
                reason: format!("touches must be no-bots, human or all, not {name:?}"),
            })
    }

    /// The most-suspect class admitted: a touch is read when its class is at most this one.
    pub fn max_class(self) -> TrafficClass {
        match self {
            TouchFilter::NoBots => TrafficClass::Suspicious,
            TouchFilter::Human => TrafficClass::Human,
            TouchFilter::All => TrafficClass::Bot,
        }
    }

    /// Whether a touch of `class` is read.
    pub fn admits(self, class: TrafficClass) -> bool {
        class <= self.max_class()
    }

    /// What the filter does, in words, for provenance lines and the window.
    pub fn in_words(self) -> &'static str {
        match self {
            TouchFilter::NoBots => "bot touches excluded",
            TouchFilter::Human => "only human touches",
            TouchFilter::All => "all touches",
        }
    }

    /// The filter a stored run's canonical parameters name. A run stored before the filter
    /// existed has no `touches` key and read every touch, so it is [`TouchFilter::All`] here
    /// (unlike a model *setting* without the key, which takes the default). Unreadable text is
    /// `None`.
    pub fn of_run_parameters(parameters: &str) -> Option<TouchFilter> {
        let value: serde_json::Value = serde_json::from_str(parameters).ok()?;
        match value.as_object()?.get("touches") {
            None => Some(TouchFilter::All),
            Some(name) => TouchFilter::parse(name.as_str()?).ok(),
        }
    }
}

impl fmt::Display for TouchFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_admits_its_classes() {
        use TrafficClass::{Bot, Human, Suspicious};
        let admitted = |filter: TouchFilter| -> Vec<TrafficClass> {
            TrafficClass::ALL
                .into_iter()
                .filter(|&c| filter.admits(c))
                .collect()
        };
        assert_eq!(admitted(TouchFilter::NoBots), vec![Human, Suspicious]);
        assert_eq!(admitted(TouchFilter::Human), vec![Human]);
        assert_eq!(admitted(TouchFilter::All), vec![Human, Suspicious, Bot]);
        assert_eq!(TouchFilter::default(), TouchFilter::NoBots);
    }

    #[test]
    fn names_parse_back_and_unknown_ones_are_refused() {
        for filter in TouchFilter::ALL {
            assert_eq!(TouchFilter::parse(filter.as_str()).unwrap(), filter);
        }
        assert_eq!(
            TouchFilter::parse(" No_Bots ").unwrap(),
            TouchFilter::NoBots
        );
        let error = TouchFilter::parse("bots").unwrap_err().to_string();
        assert!(error.contains("no-bots, human or all"), "{error}");
    }

    #[test]
    fn a_run_stored_without_the_key_read_every_touch() {
        let old = r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40]}"#;
        assert_eq!(TouchFilter::of_run_parameters(old), Some(TouchFilter::All));
        let new = r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40],"touches":"human"}"#;
        assert_eq!(
            TouchFilter::of_run_parameters(new),
            Some(TouchFilter::Human)
        );
        assert_eq!(TouchFilter::of_run_parameters("not json"), None);
    }
}
