//! The model log as people read it: every change that moves credit — a change of model and a
//! change of traffic rules (which decides which touches are people's) — in one list, newest
//! first, each with who, when, from what to what and why. The two stay in their own
//! append-only tables (`model_changes`, `traffic_rule_sets`); this only reads them together.

use lookback_core::traffic_words::{rule_set_changes, version_change_in_words};

use crate::{ModelChange, Store, StoreResult};

/// A change of traffic rule set, as the model log shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficRulesLogEntry {
    pub from_version: u32,
    pub to_version: u32,
    pub changed_at_ms: i64,
    pub changed_by: String,
    pub reason: String,
    /// What changed, one phrase per change ("rule chat-preview now suspicious instead of bot").
    pub changes: Vec<String>,
}

impl TrafficRulesLogEntry {
    /// "Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot; burst window
    /// 10 s → 20 s".
    pub fn in_words(&self) -> String {
        version_change_in_words(self.from_version, self.to_version, &self.changes)
    }
}

/// One entry of the model log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoggedChange {
    Model(ModelChange),
    TrafficRules(TrafficRulesLogEntry),
}

impl LoggedChange {
    pub fn changed_at_ms(&self) -> i64 {
        match self {
            LoggedChange::Model(c) => c.changed_at_ms,
            LoggedChange::TrafficRules(c) => c.changed_at_ms,
        }
    }
}

impl Store {
    /// Changes of model and of traffic rules, newest first. Each kind keeps its own order of
    /// appending; the two are interleaved by when they were made (a model change first when
    /// both carry the same instant).
    pub fn change_log(&self) -> StoreResult<Vec<LoggedChange>> {
        let models = self.model_changes()?;
        let history = self.traffic_rule_history()?;
        let mut rules: Vec<TrafficRulesLogEntry> = history
            .windows(2)
            .filter_map(|pair| {
                let (before, after) = (&pair[0], &pair[1]);
                Some(TrafficRulesLogEntry {
                    from_version: before.version,
                    to_version: after.version,
                    changed_at_ms: after.adopted_at_ms?,
                    changed_by: after.adopted_by.clone(),
                    reason: after.reason.clone(),
                    changes: rule_set_changes(&before.rules, &after.rules),
                })
            })
            .collect();
        rules.reverse();
        let mut log = Vec::with_capacity(models.len() + rules.len());
        let mut models = models.into_iter().peekable();
        let mut rules = rules.into_iter().peekable();
        loop {
            let take_model = match (models.peek(), rules.peek()) {
                (Some(m), Some(r)) => m.changed_at_ms >= r.changed_at_ms,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            log.push(if take_model {
                LoggedChange::Model(models.next().expect("peeked"))
            } else {
                LoggedChange::TrafficRules(rules.next().expect("peeked"))
            });
        }
        Ok(log)
    }
}
