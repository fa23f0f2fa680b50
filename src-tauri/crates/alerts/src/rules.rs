//! Alert rules and their evaluation: pure functions of (rule, facts read from the store, now).
//!
//! What a creator "earned" depends on the rule:
//! - creator revenue is what the workspace's current model credited the creator's touches with
//!   (the run the views show for that model, brought up to date before the check — see
//!   [`ModelRun`]), so an alert and the ROAS view agree;
//! - a large order from a creator link is the order whose click id leads to the creator's link
//!   ([`LINK_ATTRIBUTION`]): deterministic, known seconds after the order, no model involved.
//!
//! Each finding carries the key `(rule, subject, window)` that makes its notification unique:
//! - creator revenue in a rolling 24 h: subject = creator, window = the UTC day the window ends
//!   on, so a creator over the threshold is announced once a day, not on every check;
//! - single order over X from a creator link: subject = the order id, window = `order`;
//! - a source failing for N minutes: subject = the source, window = when it last succeeded
//!   (one notification per outage);
//! - a source whose credential the platform refused (needs reconnecting): subject = the
//!   source, window = the first refusal of the outage, announced at once whatever the
//!   threshold (waiting fixes nothing), saying how to reconnect — never as a sync failure;
//! - dead letters above N: subject = the source (or `all`), window = the UTC day.

use lookback_core::money::{Currency, format_minor};
use lookback_core::settlement::is_provisional;
use lookback_core::time::{DAY_MS, format_instant_ms};
use lookback_store::{AlertRule, CreatorCreditOrder, CreatorLinkOrder, Source, SourceCredential};
use serde_json::json;

/// How a large-order alert ties an order to a creator: the order's click id matched to a
/// creator link's touch.
pub const LINK_ATTRIBUTION: &str = "creator link (click id)";

/// The attribution creator-revenue rules read: the workspace's current model over the store as
/// it is at the check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelRun {
    /// The stored run the credits come from, `None` when they were computed for this check
    /// (see `lookback_engine::creator_credits_between`).
    pub run_id: Option<i64>,
    /// The store's input watermark the credits are for.
    pub input_watermark: String,
    /// The model's name (`last_touch`, `markov`, ...).
    pub model: String,
    /// Its parameters as canonical JSON.
    pub parameters: String,
    /// The run's reporting currency: credits are in it.
    pub currency: String,
}

/// The rolling window of creator revenue.
pub const REVENUE_WINDOW_MS: i64 = DAY_MS;

/// The kinds of rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A creator's attributed net revenue in a rolling 24 h reaches the threshold.
    CreatorRevenue,
    /// One order through a creator's link is at least the threshold.
    LargeOrder,
    /// A source's sync has been failing for at least `threshold` minutes (a refused
    /// credential is announced as "needs reconnecting" instead, at once).
    SyncFailing,
    /// More than `threshold` dead letters are unresolved.
    DeadLetters,
    /// A source's data health (`lookback_trust::source_health_states`) is stale or failing
    /// with no success for at least `threshold` minutes, or its volume dropped, or it needs
    /// reconnecting (announced at once).
    SourceHealth,
}

impl AlertKind {
    pub const ALL: &'static [AlertKind] = &[
        AlertKind::CreatorRevenue,
        AlertKind::LargeOrder,
        AlertKind::SyncFailing,
        AlertKind::DeadLetters,
        AlertKind::SourceHealth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::CreatorRevenue => "creator_revenue",
            AlertKind::LargeOrder => "large_order",
            AlertKind::SyncFailing => "sync_failing",
            AlertKind::DeadLetters => "dead_letters",
            AlertKind::SourceHealth => "source_health",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == text.replace('-', "_"))
    }

    /// Whether the threshold is money (minor units of the rule's currency).
    pub fn is_money(self) -> bool {
        matches!(self, AlertKind::CreatorRevenue | AlertKind::LargeOrder)
    }
}

/// Something a rule found that deserves a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: i64,
    pub subject: String,
    pub window_key: String,
    pub title: String,
    pub body: String,
    /// Creator, order id, model, amounts, provisional or settled, window.
    pub context: serde_json::Value,
}

/// What a rule is evaluated against; the caller reads it from the store.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Orders through creator links placed in the rule's window (see [`rule_window`]).
    pub orders: Vec<CreatorLinkOrder>,
    /// The current model's run, for creator-revenue rules.
    pub run: Option<ModelRun>,
    /// What each creator was credited with, per order placed in the rule's window, in `run`.
    pub credits: Vec<CreatorCreditOrder>,
    pub sources: Vec<Source>,
    /// The sources' credential facts, for sync-failing rules (a refused credential is not a
    /// sync failure).
    pub credentials: Vec<SourceCredential>,
    /// Unresolved dead letters, in the rule's subject (or all sources).
    pub unresolved_dead_letters: i64,
    /// Every source's data health at the check, for source-health rules.
    pub health: Vec<lookback_trust::SourceHealthState>,
    /// The workspace's settlement window, to say whether money is provisional.
    pub settlement_days: u32,
}

/// The order window `[from, to)` a money rule reads at `now_ms`: the 24 h ending `grace` ago.
/// The grace window lets late facts (a refund, a click id that arrives after the order, a
/// reattribution) land before the rule judges.
pub fn rule_window(rule: &AlertRule, now_ms: i64) -> (i64, i64) {
    let to = now_ms - rule.grace_minutes.max(0) * 60_000;
    (to - REVENUE_WINDOW_MS, to)
}

/// The currency of a money rule (USD when the rule names none).
fn rule_currency(rule: &AlertRule) -> Currency {
    rule.currency
        .as_deref()
        .and_then(|c| Currency::parse(c).ok())
        .unwrap_or(Currency::USD)
}

fn utc_day(at_ms: i64) -> String {
    format_instant_ms(at_ms)
        .map(|t| t[..10].to_owned())
        .unwrap_or_else(|_| at_ms.to_string())
}

/// Whether an order counts for a money rule: settled-only rules take paid orders without an
/// open dispute; `include_provisional` adds pending and disputed orders (never failed ones).
fn counts(rule: &AlertRule, status: &str, disputed: bool) -> bool {
    let failed = matches!(status, "failed" | "canceled" | "cancelled");
    if rule.include_provisional {
        !failed
    } else {
        status == "paid" && !disputed
    }
}

fn net(order: &CreatorLinkOrder) -> i64 {
    (order.gross_minor - order.deducted_minor).max(0)
}

/// Evaluates one rule at `now_ms`.
pub fn evaluate(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    let Some(kind) = AlertKind::parse(&rule.kind) else {
        return Vec::new();
    };
    match kind {
        AlertKind::CreatorRevenue => creator_revenue(rule, facts, now_ms),
        AlertKind::LargeOrder => large_orders(rule, facts, now_ms),
        AlertKind::SyncFailing => sync_failing(rule, facts, now_ms),
        AlertKind::DeadLetters => dead_letters(rule, facts, now_ms),
        AlertKind::SourceHealth => source_health(rule, facts, now_ms),
    }
}

fn creator_revenue(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    let Some(run) = &facts.run else {
        return Vec::new();
    };
    let currency = rule_currency(rule);
    if run.currency != currency.code() {
        // Credits are in the reporting currency; `add_rule` refuses other currencies, so this
        // is a rule from before the reporting currency changed. It judges nothing.
        return Vec::new();
    }
    let (from, to) = rule_window(rule, now_ms);
    // Per creator: (credited, provisional part, orders).
    let mut totals: std::collections::BTreeMap<&str, (i64, i64, u32)> = Default::default();
    for order in &facts.credits {
        if order.occurred_at_ms < from
            || order.occurred_at_ms >= to
            || !counts(rule, &order.status, order.disputed)
        {
            continue;
        }
        if rule
            .subject
            .as_deref()
            .is_some_and(|s| s != order.creator_id)
        {
            continue;
        }
        let entry = totals.entry(order.creator_id.as_str()).or_default();
        entry.0 += order.credited_minor;
        entry.2 += 1;
        if order.provisional || order.status != "paid" {
            entry.1 += order.credited_minor;
        }
    }
    let model = match run.run_id {
        Some(run_id) => format!("{} {} (run {run_id})", run.model, run.parameters),
        None => format!("{} {}", run.model, run.parameters),
    };
    totals
        .into_iter()
        .filter(|(_, (total, ..))| *total >= rule.threshold)
        .map(|(creator, (total, provisional_minor, orders))| Finding {
            rule_id: rule.rule_id,
            subject: creator.to_owned(),
            window_key: utc_day(to),
            title: format!("{creator} reached {} {} in 24 h", format_minor(total, currency), currency.code()),
            body: format!(
                "Creator {creator}: {} {} attributed from {orders} order(s) in the 24 h to {} ({} of it provisional); threshold {} {}; model: {model}.",
                format_minor(total, currency),
                currency.code(),
                format_instant_ms(to).unwrap_or_default(),
                format_minor(provisional_minor, currency),
                format_minor(rule.threshold, currency),
                currency.code(),
            ),
            context: json!({
                "rule_id": rule.rule_id, "kind": rule.kind, "creator": creator, "model": run.model,
                "parameters": run.parameters, "run_id": run.run_id,
                "input_watermark": run.input_watermark,
                "amount_minor": total, "provisional_minor": provisional_minor, "currency": currency.code(),
                "threshold_minor": rule.threshold, "orders": orders,
                "settled_only": !rule.include_provisional, "window_from_ms": from, "window_to_ms": to,
            }),
        })
        .collect()
}

fn large_orders(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    let currency = rule_currency(rule);
    let (from, to) = rule_window(rule, now_ms);
    facts
        .orders
        .iter()
        .filter(|o| o.occurred_at_ms >= from && o.occurred_at_ms < to && o.currency == currency.code() && counts(rule, &o.status, o.disputed))
        .filter(|o| rule.subject.as_deref().is_none_or(|s| s == o.creator_id))
        .filter(|o| net(o) >= rule.threshold)
        .map(|o| {
            let provisional = is_provisional(o.occurred_at_ms, now_ms, facts.settlement_days, o.disputed) || o.status != "paid";
            let state = if provisional { "provisional" } else { "settled" };
            Finding {
                rule_id: rule.rule_id,
                subject: o.order_id.clone(),
                window_key: "order".to_owned(),
                title: format!("Order {} of {} {} via {}", o.order_id, format_minor(net(o), currency), currency.code(), o.creator_id),
                body: format!(
                    "Order {} ({state}) of {} {} net through creator {}'s link at {}; threshold {} {}; attribution: {LINK_ATTRIBUTION}.",
                    o.order_id,
                    format_minor(net(o), currency),
                    currency.code(),
                    o.creator_id,
                    format_instant_ms(o.occurred_at_ms).unwrap_or_default(),
                    format_minor(rule.threshold, currency),
                    currency.code(),
                ),
                context: json!({
                    "rule_id": rule.rule_id, "kind": rule.kind, "creator": o.creator_id, "order_id": o.order_id,
                    "attribution": LINK_ATTRIBUTION, "amount_minor": net(o), "gross_minor": o.gross_minor,
                    "currency": currency.code(), "threshold_minor": rule.threshold, "provisional": provisional,
                    "status": o.status,
                }),
            }
        })
        .collect()
}

/// The one action that fixes a refused credential, in the words of both front ends.
pub fn reconnect_hint(source_name: &str) -> String {
    format!(
        "Reconnect it: Sources → Reconnect in the window, or `lookback source reconnect {source_name}` (a new secret replaces the old one; the data and checkpoints stay)."
    )
}

/// The finding for a source whose credential the platform refused at `since_ms`: one per
/// outage (window = the first refusal).
fn needs_reconnecting(
    rule: &AlertRule,
    source_id: &str,
    name: &str,
    since_ms: i64,
    reason: Option<&str>,
) -> Finding {
    Finding {
        rule_id: rule.rule_id,
        subject: source_id.to_owned(),
        window_key: format!("needs_reconnecting:{since_ms}"),
        title: format!("{name} needs reconnecting"),
        body: format!(
            "Source {name}: the platform refused its credential at {}{}. Nothing syncs until it is reconnected. {}",
            format_instant_ms(since_ms).unwrap_or_default(),
            reason.map(|r| format!(" ({r})")).unwrap_or_default(),
            reconnect_hint(name),
        ),
        context: json!({"rule_id": rule.rule_id, "kind": rule.kind, "source": name,
                        "problem": "needs_reconnecting", "state": "needs_reconnecting",
                        "needs_reconnect_since_ms": since_ms, "reason": reason,
                        "action": format!("lookback source reconnect {name}")}),
    }
}

fn sync_failing(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    facts
        .sources
        .iter()
        .filter(|s| rule.subject.as_deref().is_none_or(|subject| subject == s.source_id || subject == s.name))
        .filter_map(|s| {
            let refused = facts
                .credentials
                .iter()
                .find(|c| c.source_id == s.source_id)
                .and_then(|c| Some((c.needs_reconnect_since_ms?, c.needs_reconnect_reason.as_deref())));
            if let Some((since, reason)) = refused {
                return Some(needs_reconnecting(rule, &s.source_id, &s.name, since, reason));
            }
            let error = s.last_error.as_ref()?;
            let last_attempt = s.last_attempt_at_ms?;
            let since = s.last_success_at_ms.unwrap_or(s.created_at_ms);
            if last_attempt <= since || now_ms - since < rule.threshold * 60_000 {
                return None;
            }
            let minutes = (now_ms - since) / 60_000;
            Some(Finding {
                rule_id: rule.rule_id,
                subject: s.source_id.clone(),
                window_key: since.to_string(),
                title: format!("Sync of {} failing for {minutes} min", s.name),
                body: format!("Source {} ({}) has not synced successfully for {minutes} minutes. Last error: {error}", s.name, s.kind),
                context: json!({"rule_id": rule.rule_id, "kind": rule.kind, "source": s.name, "failing_since_ms": since,
                                "minutes": minutes, "last_error": error}),
            })
        })
        .collect()
}

/// One finding per unhealthy episode of a source: stale or failing with its last success at
/// least `threshold` minutes ago (window = the state and that last success, so a source that
/// recovers and fails again is announced again), and one per UTC day with a volume drop.
fn source_health(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    use lookback_trust::HealthState;
    let mut findings = Vec::new();
    for h in &facts.health {
        if rule
            .subject
            .as_deref()
            .is_some_and(|s| s != h.source_id && s != h.name)
        {
            continue;
        }
        let context = |problem: &str| {
            json!({"rule_id": rule.rule_id, "kind": rule.kind, "source": h.name, "problem": problem,
                   "state": h.state.as_str(), "last_success_at_ms": h.last_success_at_ms,
                   "last_error": h.last_error, "records_last_24h": h.records_last_24h,
                   "usual_daily_records": h.usual_daily_records})
        };
        let unhealthy_minutes = h.lag_ms.map_or(i64::MAX, |lag| lag / 60_000);
        if let (HealthState::NeedsReconnecting, Some(since)) = (h.state, h.needs_reconnect_since_ms)
        {
            findings.push(needs_reconnecting(
                rule,
                &h.source_id,
                &h.name,
                since,
                h.needs_reconnect_reason.as_deref(),
            ));
        } else if h.state != HealthState::Ok && unhealthy_minutes >= rule.threshold {
            let since = h
                .last_success_at_ms
                .map_or_else(|| "never".to_owned(), |at| at.to_string());
            let last_success = h
                .last_success_at_ms
                .and_then(|at| format_instant_ms(at).ok())
                .unwrap_or_else(|| "never".to_owned());
            findings.push(Finding {
                rule_id: rule.rule_id,
                subject: h.source_id.clone(),
                window_key: format!("{}:{since}", h.state.as_str()),
                title: format!("{} is {}", h.name, h.state.as_str()),
                body: format!(
                    "Source {} is {}: last successful sync {last_success}{}. Views that rest on it may be out of date.",
                    h.name,
                    h.state.as_str(),
                    h.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default(),
                ),
                context: context(h.state.as_str()),
            });
        }
        if h.volume_drop {
            findings.push(Finding {
                rule_id: rule.rule_id,
                subject: h.source_id.clone(),
                window_key: format!("volume:{}", utc_day(now_ms)),
                title: format!("{} brought fewer records than usual", h.name),
                body: format!(
                    "Source {} brought {} records in the last 24 h against a usual day of {}; check the connection and the platform.",
                    h.name,
                    h.records_last_24h,
                    h.usual_daily_records.unwrap_or_default(),
                ),
                context: context("volume_drop"),
            });
        }
    }
    findings
}

fn dead_letters(rule: &AlertRule, facts: &Facts, now_ms: i64) -> Vec<Finding> {
    if facts.unresolved_dead_letters <= rule.threshold {
        return Vec::new();
    }
    let scope = rule.subject.clone().unwrap_or_else(|| "all".to_owned());
    vec![Finding {
        rule_id: rule.rule_id,
        subject: scope.clone(),
        window_key: utc_day(now_ms),
        title: format!(
            "{} unresolved dead letters ({scope})",
            facts.unresolved_dead_letters
        ),
        body: format!(
            "{} records could not be used (threshold {}); see the Sources screen (each source's dead letters, with Replay) or `lookback export dead-letters`.",
            facts.unresolved_dead_letters, rule.threshold
        ),
        context: json!({"rule_id": rule.rule_id, "kind": rule.kind, "scope": scope, "count": facts.unresolved_dead_letters,
                        "threshold": rule.threshold}),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_323_200_000;

    fn rule(kind: AlertKind, threshold: i64) -> AlertRule {
        AlertRule {
            rule_id: 1,
            kind: kind.as_str().to_owned(),
            subject: None,
            threshold,
            currency: Some("USD".to_owned()),
            include_provisional: false,
            grace_minutes: 0,
            channel: "desktop".to_owned(),
            created_at_ms: 0,
        }
    }

    fn order(id: &str, creator: &str, at: i64, gross: i64, status: &str) -> CreatorLinkOrder {
        CreatorLinkOrder {
            order_id: id.to_owned(),
            creator_id: creator.to_owned(),
            occurred_at_ms: at,
            gross_minor: gross,
            currency: "USD".to_owned(),
            status: status.to_owned(),
            deducted_minor: 0,
            disputed: false,
        }
    }

    fn credit(id: &str, creator: &str, at: i64, credited: i64, status: &str) -> CreatorCreditOrder {
        CreatorCreditOrder {
            order_id: id.to_owned(),
            creator_id: creator.to_owned(),
            occurred_at_ms: at,
            credited_minor: credited,
            order_net_minor: credited * 2,
            provisional: true,
            status: status.to_owned(),
            disputed: false,
        }
    }

    fn run(currency: &str) -> Option<ModelRun> {
        Some(ModelRun {
            run_id: Some(7),
            input_watermark: "w1".to_owned(),
            model: "linear".to_owned(),
            parameters: "{}".to_owned(),
            currency: currency.to_owned(),
        })
    }

    #[test]
    fn creator_revenue_sums_the_models_credits_of_settled_orders_in_the_window_only() {
        let mut facts = Facts {
            settlement_days: 14,
            run: run("USD"),
            ..Default::default()
        };
        facts.credits = vec![
            credit("a", "ann", NOW - 1000, 6_000, "paid"),
            credit("b", "ann", NOW - 2000, 4_000, "pending"),
            credit("c", "ann", NOW - DAY_MS - 1, 9_000, "paid"),
            credit("a", "bob", NOW - 1000, 6_000, "paid"),
        ];
        let r = rule(AlertKind::CreatorRevenue, 10_000);
        assert!(
            evaluate(&r, &facts, NOW).is_empty(),
            "pending and out-of-window orders do not count"
        );
        let mut with_provisional = r.clone();
        with_provisional.include_provisional = true;
        let found = evaluate(&with_provisional, &facts, NOW);
        assert_eq!(
            found.len(),
            1,
            "bob's share of order a stays under the threshold"
        );
        assert_eq!(
            (
                found[0].subject.as_str(),
                found[0].context["amount_minor"].as_i64(),
                found[0].context["model"].as_str(),
                found[0].context["run_id"].as_i64(),
            ),
            ("ann", Some(10_000), Some("linear"), Some(7))
        );
        // A smaller credit (a refund, or a model that gives ann less) keeps her under it.
        facts.credits[0].credited_minor = 5_999;
        assert!(evaluate(&with_provisional, &facts, NOW).is_empty());
        facts.credits[0].credited_minor = 6_000;
        // The grace window moves the window back.
        let mut graced = with_provisional.clone();
        graced.grace_minutes = 60;
        assert!(evaluate(&graced, &facts, NOW).is_empty());
        // Without a run, or with credits in another currency, nothing is judged.
        assert!(
            evaluate(
                &with_provisional,
                &Facts {
                    run: None,
                    ..facts.clone()
                },
                NOW
            )
            .is_empty()
        );
        assert!(
            evaluate(
                &with_provisional,
                &Facts {
                    run: run("EUR"),
                    ..facts
                },
                NOW
            )
            .is_empty()
        );
    }

    #[test]
    fn large_orders_sync_failures_and_dead_letters() {
        let facts = Facts {
            orders: vec![
                order("big", "ann", NOW - 10, 50_000, "paid"),
                order("small", "ann", NOW - 10, 100, "paid"),
            ],
            sources: vec![Source {
                source_id: "s".into(),
                kind: "stripe".into(),
                name: "s".into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: NOW - DAY_MS,
                last_attempt_at_ms: Some(NOW - 1),
                last_success_at_ms: Some(NOW - 31 * 60_000),
                last_error: Some("HTTP 500".into()),
            }],
            unresolved_dead_letters: 5,
            settlement_days: 14,
            ..Default::default()
        };
        let found = evaluate(&rule(AlertKind::LargeOrder, 10_000), &facts, NOW);
        assert_eq!(
            found.iter().map(|f| f.subject.as_str()).collect::<Vec<_>>(),
            ["big"]
        );
        assert_eq!(found[0].context["provisional"], json!(true));
        assert_eq!(
            evaluate(&rule(AlertKind::SyncFailing, 30), &facts, NOW).len(),
            1
        );
        assert!(evaluate(&rule(AlertKind::SyncFailing, 45), &facts, NOW).is_empty());
        assert_eq!(
            evaluate(&rule(AlertKind::DeadLetters, 4), &facts, NOW).len(),
            1
        );
        assert!(evaluate(&rule(AlertKind::DeadLetters, 5), &facts, NOW).is_empty());
    }

    fn health(
        state: lookback_trust::HealthState,
        since: Option<i64>,
    ) -> lookback_trust::SourceHealthState {
        lookback_trust::SourceHealthState {
            source_id: "ads".into(),
            name: "ads".into(),
            state,
            last_success_at_ms: Some(NOW - 10 * 60_000),
            lag_ms: Some(10 * 60_000),
            last_error: Some("ads: the meta API refused the credential".into()),
            unresolved_dead_letters: 0,
            records_last_24h: 0,
            usual_daily_records: None,
            volume_drop: false,
            sync_runs: 1,
            failed_runs: 1,
            retries: 0,
            unknown_fields: 0,
            schema_dead_letters: 0,
            needs_reconnect_since_ms: since,
            needs_reconnect_reason: since.map(|_| "Meta error 190/463".into()),
            credential_expiry: lookback_trust::CredentialExpiry::Unknown,
        }
    }

    #[test]
    fn a_refused_credential_is_announced_at_once_once_per_outage_with_the_reconnect_action() {
        use lookback_trust::HealthState;
        let refused_at = NOW - 5 * 60_000;
        let facts = Facts {
            health: vec![health(HealthState::NeedsReconnecting, Some(refused_at))],
            ..Default::default()
        };
        // The threshold (an hour) is not waited for: only a new secret fixes a refusal.
        let found = evaluate(&rule(AlertKind::SourceHealth, 60), &facts, NOW);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].title, "ads needs reconnecting");
        assert_eq!(
            found[0].window_key,
            format!("needs_reconnecting:{refused_at}")
        );
        assert!(
            found[0].body.contains("lookback source reconnect ads"),
            "{}",
            found[0].body
        );
        assert!(found[0].body.contains("190/463"), "{}", found[0].body);
        assert_eq!(found[0].context["state"], json!("needs_reconnecting"));
        // Later checks of the same outage carry the same key (one notification); the next
        // outage starts at another refusal, so it is announced again.
        let later = evaluate(&rule(AlertKind::SourceHealth, 60), &facts, NOW + 3_600_000);
        assert_eq!(later[0].window_key, found[0].window_key);
        let next = Facts {
            health: vec![health(HealthState::NeedsReconnecting, Some(NOW + 1))],
            ..Default::default()
        };
        assert_ne!(
            evaluate(&rule(AlertKind::SourceHealth, 60), &next, NOW + 2)[0].window_key,
            found[0].window_key
        );
        // The same source merely failing for 10 minutes stays under the hour.
        let failing = Facts {
            health: vec![health(HealthState::Failing, None)],
            ..Default::default()
        };
        assert!(evaluate(&rule(AlertKind::SourceHealth, 60), &failing, NOW).is_empty());
    }

    #[test]
    fn a_sync_failing_rule_reports_a_refused_credential_as_needs_reconnecting() {
        let source = Source {
            source_id: "ads".into(),
            kind: "meta".into(),
            name: "ads".into(),
            base_url: None,
            account: None,
            credential_ref: None,
            created_at_ms: NOW - DAY_MS,
            last_attempt_at_ms: Some(NOW - 1),
            last_success_at_ms: Some(NOW - 2 * 60_000),
            last_error: Some("ads: the meta API refused the credential".into()),
        };
        let mut facts = Facts {
            sources: vec![source],
            credentials: vec![SourceCredential {
                source_id: "ads".into(),
                needs_reconnect_since_ms: Some(NOW - 1),
                needs_reconnect_reason: Some("HTTP 401".into()),
                ..SourceCredential::default()
            }],
            ..Default::default()
        };
        let found = evaluate(&rule(AlertKind::SyncFailing, 30), &facts, NOW);
        assert_eq!(found.len(), 1, "at once, not after 30 minutes");
        assert_eq!(found[0].title, "ads needs reconnecting");
        assert!(!found[0].title.contains("failing"));
        // Without the refusal it is an ordinary failure, under the 30 minutes.
        facts.credentials.clear();
        assert!(evaluate(&rule(AlertKind::SyncFailing, 30), &facts, NOW).is_empty());
    }
}
