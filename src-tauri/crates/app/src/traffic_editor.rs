//! The window's traffic rule editor (issue 15): the rule set in force with each rule in words,
//! its history, and adopting the set in force with a manager's edits — a rule enabled or
//! disabled, its class, its window, the burst window — as the next version. Adopting goes
//! through [`crate::traffic::adopt_rules`], the path `lookback traffic set-rules` takes (a new
//! version, every touch re-classified in one transaction, inputs marked changed).

use lookback_core::traffic::{RuleSet, RuleTest, TrafficClass};
use lookback_core::traffic_words::{rule_set_changes, test_in_words, version_change_in_words};
use lookback_store::Store;

use crate::error::{AppError, AppResult};
use crate::wire as ipc;

fn class_name(class: TrafficClass) -> ipc::TrafficClassName {
    match class {
        TrafficClass::Human => ipc::TrafficClassName::Human,
        TrafficClass::Suspicious => ipc::TrafficClassName::Suspicious,
        TrafficClass::Bot => ipc::TrafficClassName::Bot,
    }
}

fn class_of(name: ipc::TrafficClassName) -> TrafficClass {
    match name {
        ipc::TrafficClassName::Human => TrafficClass::Human,
        ipc::TrafficClassName::Suspicious => TrafficClass::Suspicious,
        ipc::TrafficClassName::Bot => TrafficClass::Bot,
    }
}

/// The window a rule's test has that the editor may change, if any.
fn window_of(test: &RuleTest) -> Option<i64> {
    match test {
        RuleTest::SoonAfterCarrier { within_seconds }
        | RuleTest::ScannerSweep { within_seconds, .. } => Some(*within_seconds),
        _ => None,
    }
}

/// The rule set in force, each rule in words, and every version newest first.
pub fn traffic_rules_view(store: &Store) -> AppResult<ipc::TrafficRulesView> {
    let history = crate::traffic::rule_history(store)?;
    let current = history
        .last()
        .ok_or_else(|| AppError::invalid("traffic rules", "the workspace has no rule set"))?;
    let rules = &current.rules;
    let mut versions = Vec::with_capacity(history.len());
    for (i, change) in history.iter().enumerate() {
        versions.push(ipc::TrafficRuleVersion {
            version: change.version,
            adopted_at_ms: change.adopted_at_ms,
            adopted_by: change.adopted_by.clone(),
            reason: change.reason.clone(),
            changes: match i.checked_sub(1) {
                None => "the built-in rules".to_owned(),
                Some(prev) => rule_set_changes(&history[prev].rules, &change.rules).join("; "),
            },
        });
    }
    versions.reverse();
    Ok(ipc::TrafficRulesView {
        version: current.version,
        adopted_at_ms: current.adopted_at_ms,
        adopted_by: current.adopted_by.clone(),
        burst_window_seconds: rules.burst_window_seconds,
        rules: rules
            .rules
            .iter()
            .map(|rule| ipc::TrafficRuleView {
                id: rule.id.clone(),
                enabled: rule.enabled,
                class: class_name(rule.class),
                score: rule.score,
                matches: test_in_words(&rule.test, rules.burst_window_seconds),
                description: rule.description.clone(),
                source: rule.source.clone(),
                window_seconds: window_of(&rule.test),
            })
            .collect(),
        history: versions,
    })
}

/// `rules` with `change`'s edits applied, checked as a rule set file is (an error names the
/// rule and the field).
pub fn edited_rules(rules: &RuleSet, change: &ipc::TrafficRulesChange) -> AppResult<RuleSet> {
    let mut edited = rules.clone();
    edited.burst_window_seconds = change.burst_window_seconds;
    for edit in &change.rules {
        let rule = edited
            .rules
            .iter_mut()
            .find(|r| r.id == edit.id)
            .ok_or_else(|| {
                AppError::invalid("rule", format!("no rule `{}` in the set in force", edit.id))
            })?;
        rule.enabled = edit.enabled;
        rule.class = class_of(edit.class);
        match (&mut rule.test, edit.window_seconds) {
            (_, None) => {}
            (
                RuleTest::SoonAfterCarrier { within_seconds }
                | RuleTest::ScannerSweep { within_seconds, .. },
                Some(seconds),
            ) => {
                if seconds < 0 {
                    return Err(AppError::invalid(
                        "window_seconds",
                        format!("rule `{}`: a whole number of seconds from 0", edit.id),
                    ));
                }
                *within_seconds = seconds;
            }
            (_, Some(_)) => {
                return Err(AppError::invalid(
                    "window_seconds",
                    format!("rule `{}` has no window to change", edit.id),
                ));
            }
        }
    }
    // The same checks a rules file passes.
    RuleSet::from_json(&edited.to_json()).map_err(|e| AppError::invalid("traffic rules", e))
}

fn class_counts(store: &Store) -> AppResult<ipc::TrafficClassCounts> {
    let mut counts = ipc::TrafficClassCounts::default();
    for count in store.traffic_counts()? {
        match count.class {
            TrafficClass::Human => counts.human += count.touches,
            TrafficClass::Suspicious => counts.suspicious += count.touches,
            TrafficClass::Bot => counts.bot += count.touches,
        }
    }
    Ok(counts)
}

/// Adopts the set in force with `change`'s edits as the next version, with its reason, and
/// says what moved. Refused when the edits change nothing.
pub fn adopt_rule_edits(
    store: &mut Store,
    change: &ipc::TrafficRulesChange,
    profile: Option<&str>,
    now_ms: i64,
) -> AppResult<ipc::TrafficRulesAdopted> {
    let (from_version, rules) = store.traffic_rules()?;
    let edited = edited_rules(&rules, change)?;
    let changes = rule_set_changes(&rules, &edited);
    if edited == rules {
        return Err(AppError::invalid(
            "traffic rules",
            "nothing changed: enable or disable a rule, change a class or a window first",
        ));
    }
    let before = class_counts(store)?;
    let summary = crate::traffic::adopt_rules(
        store,
        &edited,
        profile,
        &change.reason,
        now_ms,
        &mut |_, _| {},
    )?;
    let in_words = version_change_in_words(from_version, summary.version, &changes);
    reclassified(store, from_version, in_words, before, &summary)
}

/// Runs the rules in force again over every touch, as `lookback traffic reclassify` does: what
/// only a re-classification decides (a scanner's sweep: clicks followed by a week of nothing)
/// is decided for the touches that arrived since the last one. No rule changes, so nothing is
/// logged; the inputs are marked changed when a touch moves.
pub fn reclassify_now(store: &mut Store) -> AppResult<ipc::TrafficRulesAdopted> {
    let before = class_counts(store)?;
    let summary = crate::traffic::reclassify(store, &mut |_, _| {})?;
    let in_words = format!(
        "Every touch re-classified under the rules in force (version {}); no rule changed.",
        summary.version
    );
    reclassified(store, summary.version, in_words, before, &summary)
}

/// What a re-classification moved, as the editor shows it.
fn reclassified(
    store: &Store,
    from_version: u32,
    in_words: String,
    before: ipc::TrafficClassCounts,
    summary: &lookback_store::Reclassification,
) -> AppResult<ipc::TrafficRulesAdopted> {
    Ok(ipc::TrafficRulesAdopted {
        from_version,
        to_version: summary.version,
        in_words,
        touches: summary.touches,
        before,
        after: class_counts(store)?,
        moved: summary
            .moved
            .iter()
            .filter(|((from, to), n)| from != to && **n > 0)
            .map(|((from, to), n)| ipc::TrafficMove {
                from: class_name(*from),
                to: class_name(*to),
                touches: *n,
            })
            .collect(),
    })
}
