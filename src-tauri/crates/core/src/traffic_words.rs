//! Traffic rule sets in words, for people: what a rule matches, and what changed from one rule
//! set to the next ("rule chat-preview now suspicious instead of bot; burst window 10 s → 20 s").
//! The model log, `lookback model log` and the window's rule editor all say it this way.

use crate::traffic::{Rule, RuleSet, RuleTest};

/// "a, b or c".
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// What a rule matches, in words (the burst window comes from its set).
pub fn test_in_words(test: &RuleTest, burst_window_seconds: i64) -> String {
    match test {
        RuleTest::PlatformVerdict { verdicts } => {
            format!("the platform's own verdict is {}", one_of(verdicts))
        }
        RuleTest::AgentFamily { contains_any, .. } => {
            format!("the user agent contains {}", one_of(contains_any))
        }
        RuleTest::NoAgent => "request headers arrived without a user agent".to_owned(),
        RuleTest::Prefetch => "a prefetch or preview request header".to_owned(),
        RuleTest::MissingBrowserHeaders { headers } => {
            format!("request headers arrived without {}", one_of(headers))
        }
        RuleTest::SoonAfterCarrier { within_seconds } => {
            format!("a click within {within_seconds} s of the post or e-mail going out")
        }
        RuleTest::Burst { earlier_clicks } => format!(
            "{} or more clicks of one link by one visitor within {burst_window_seconds} s",
            earlier_clicks + 1
        ),
        RuleTest::ScannerSweep {
            within_seconds,
            min_touches,
            quiet_days,
        } => format!(
            "a visitor's only touches: {min_touches} or more on one content within {within_seconds} s, no order, nothing more for {quiet_days} days (at re-classification)"
        ),
    }
}

/// What changed in a rule's test, in words (`None` when nothing did).
fn test_change(id: &str, before: &RuleTest, after: &RuleTest) -> Option<String> {
    if before == after {
        return None;
    }
    let lists = |what: &str, old: &[String], new: &[String]| {
        let added: Vec<String> = new.iter().filter(|n| !old.contains(n)).cloned().collect();
        let removed: Vec<String> = old.iter().filter(|o| !new.contains(o)).cloned().collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("{what} added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("{what} removed {}", removed.join(", ")));
        }
        if parts.is_empty() {
            parts.push(format!("{what} reordered"));
        }
        format!("rule {id}: {}", parts.join(", "))
    };
    Some(match (before, after) {
        (
            RuleTest::SoonAfterCarrier { within_seconds: a },
            RuleTest::SoonAfterCarrier { within_seconds: b },
        ) => format!("rule {id} after-send window {a} s → {b} s"),
        (RuleTest::Burst { earlier_clicks: a }, RuleTest::Burst { earlier_clicks: b }) => format!(
            "rule {id} needs {} clicks in a burst instead of {}",
            b + 1,
            a + 1
        ),
        (
            RuleTest::ScannerSweep {
                within_seconds: w1,
                min_touches: m1,
                quiet_days: q1,
            },
            RuleTest::ScannerSweep {
                within_seconds: w2,
                min_touches: m2,
                quiet_days: q2,
            },
        ) => {
            let mut parts = Vec::new();
            if w1 != w2 {
                parts.push(format!("sweep window {w1} s → {w2} s"));
            }
            if m1 != m2 {
                parts.push(format!("at least {m1} → {m2} touches"));
            }
            if q1 != q2 {
                parts.push(format!("quiet {q1} → {q2} days"));
            }
            format!("rule {id} {}", parts.join(", "))
        }
        (
            RuleTest::AgentFamily {
                family: f1,
                contains_any: a,
            },
            RuleTest::AgentFamily {
                family: f2,
                contains_any: b,
            },
        ) if f1 == f2 => lists("user agents", a, b),
        (RuleTest::PlatformVerdict { verdicts: a }, RuleTest::PlatformVerdict { verdicts: b }) => {
            lists("verdicts", a, b)
        }
        (
            RuleTest::MissingBrowserHeaders { headers: a },
            RuleTest::MissingBrowserHeaders { headers: b },
        ) => lists("headers", a, b),
        _ => format!("rule {id} now matches: {}", test_in_words(after, 0)),
    })
}

/// What changed in one rule kept from `before` to `after`, in words.
fn rule_changes(before: &Rule, after: &Rule, out: &mut Vec<String>) {
    let id = &after.id;
    if before.enabled != after.enabled {
        out.push(format!(
            "rule {id} {}",
            if after.enabled { "enabled" } else { "disabled" }
        ));
    }
    if before.class != after.class {
        out.push(format!(
            "rule {id} now {} instead of {}",
            after.class.as_str(),
            before.class.as_str()
        ));
    }
    if before.score != after.score {
        out.push(format!(
            "rule {id} score {} → {}",
            before.score, after.score
        ));
    }
    out.extend(test_change(id, &before.test, &after.test));
    if before.description != after.description || before.source != after.source {
        out.push(format!("rule {id} reworded"));
    }
}

/// A change of rule set as the model log says it: "Traffic rules v1 → v2: rule chat-preview
/// now suspicious instead of bot; burst window 10 s → 20 s".
pub fn version_change_in_words(from_version: u32, to_version: u32, changes: &[String]) -> String {
    format!(
        "Traffic rules v{from_version} → v{to_version}: {}",
        changes.join("; ")
    )
}

/// What changed from the rule set `before` to `after`, one phrase per change, in the order of
/// `after`'s rules (removed ones last); "no rule changed" when nothing did.
pub fn rule_set_changes(before: &RuleSet, after: &RuleSet) -> Vec<String> {
    let mut out = Vec::new();
    if before.burst_window_seconds != after.burst_window_seconds {
        out.push(format!(
            "burst window {} s → {} s",
            before.burst_window_seconds, after.burst_window_seconds
        ));
    }
    for rule in &after.rules {
        match before.rules.iter().find(|r| r.id == rule.id) {
            Some(old) => rule_changes(old, rule, &mut out),
            None => out.push(format!(
                "rule {} added ({}: {})",
                rule.id,
                rule.class.as_str(),
                test_in_words(&rule.test, after.burst_window_seconds)
            )),
        }
    }
    for rule in &before.rules {
        if !after.rules.iter().any(|r| r.id == rule.id) {
            out.push(format!("rule {} removed", rule.id));
        }
    }
    let kept_order = |set: &RuleSet, other: &RuleSet| -> Vec<String> {
        set.rules
            .iter()
            .filter(|r| other.rules.iter().any(|o| o.id == r.id))
            .map(|r| r.id.clone())
            .collect()
    };
    if kept_order(before, after) != kept_order(after, before) {
        out.push("rules reordered".to_owned());
    }
    if out.is_empty() {
        out.push("no rule changed".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::TrafficClass;

    #[test]
    fn a_changed_class_window_and_disabled_rule_are_said_in_words() {
        let before = RuleSet::built_in();
        let mut after = before.clone();
        after.burst_window_seconds = 20;
        for rule in &mut after.rules {
            match rule.id.as_str() {
                "chat-preview" => rule.class = TrafficClass::Suspicious,
                "no-user-agent" => rule.enabled = false,
                "click-seconds-after-send" => {
                    rule.test = RuleTest::SoonAfterCarrier { within_seconds: 30 }
                }
                _ => {}
            }
        }
        assert_eq!(
            rule_set_changes(&before, &after),
            vec![
                "burst window 10 s → 20 s",
                "rule chat-preview now suspicious instead of bot",
                "rule no-user-agent disabled",
                "rule click-seconds-after-send after-send window 10 s → 30 s",
            ]
        );
        assert_eq!(rule_set_changes(&before, &before), vec!["no rule changed"]);
        let mut fewer = before.clone();
        let moved = fewer.rules.remove(0);
        fewer.rules.push(moved);
        fewer.rules.remove(1);
        assert_eq!(
            rule_set_changes(&before, &fewer),
            vec!["rule prefetch-header removed", "rules reordered"]
        );
    }
}
