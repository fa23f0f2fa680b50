//! Bot and prefetch traffic (issue 15): the jobs behind `lookback traffic …` — how many touches
//! each class holds per source and channel, the rule sets in force and their log, and adopting
//! a new rule set (which re-classifies every touch and is logged like a change of model: who,
//! when, from which version to which, why).

use std::collections::BTreeMap;
use std::path::Path;

use lookback_core::touch_filter::TouchFilter;
use lookback_core::traffic::{RuleSet, TrafficClass};
use lookback_store::{Reclassification, Store, TrafficRuleChange};

use crate::error::{AppError, AppResult};

/// Touches of one source and channel by class, the revenue the workspace model credits to each
/// class when every touch counts, and the family most non-human touches came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelTraffic {
    pub source: String,
    pub channel: String,
    pub human: u64,
    pub suspicious: u64,
    pub bot: u64,
    /// Credited revenue (reporting currency, minor units) to human, suspicious and bot touches.
    pub credited_minor: [i64; 3],
    /// The family of most of the suspicious and bot touches (`None` when none is known).
    pub top_family: Option<String>,
}

impl ChannelTraffic {
    pub fn touches(&self) -> u64 {
        self.human + self.suspicious + self.bot
    }

    /// The share of touches that are not a person's (suspicious or bot), 0–1.
    pub fn non_human_share(&self) -> f64 {
        match self.touches() {
            0 => 0.0,
            all => (self.suspicious + self.bot) as f64 / all as f64,
        }
    }
}

/// How much of the workspace's traffic is people's, per source and channel.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficSummary {
    /// The rule set the classes were decided under.
    pub rules_version: u32,
    /// The run whose credits are split by class: the workspace model's, with its parameters,
    /// over every touch (bots included) as the workspace is now.
    pub run_id: i64,
    pub model: String,
    pub currency: String,
    pub rows: Vec<ChannelTraffic>,
}

impl TrafficSummary {
    /// Which rule set decided the classes and which run's credit is split, in words.
    pub fn provenance(&self) -> String {
        format!(
            "traffic classes under rule set version {}; credit from run {} ({}, all touches)",
            self.rules_version, self.run_id, self.model
        )
    }
}

/// The row of (`source`, `channel`), empty until counted.
fn channel_entry<'a>(
    rows: &'a mut BTreeMap<(String, String), ChannelTraffic>,
    source: &str,
    channel: &str,
) -> &'a mut ChannelTraffic {
    rows.entry((source.to_owned(), channel.to_owned()))
        .or_insert_with(|| ChannelTraffic {
            source: source.to_owned(),
            channel: channel.to_owned(),
            human: 0,
            suspicious: 0,
            bot: 0,
            credited_minor: [0; 3],
            top_family: None,
        })
}

fn class_index(class: TrafficClass) -> usize {
    match class {
        TrafficClass::Human => 0,
        TrafficClass::Suspicious => 1,
        TrafficClass::Bot => 2,
    }
}

/// Touches and credited revenue per source and channel by class, sources and channels in name
/// order. The credit is the workspace model's over every touch, bots included, at `now_ms`
/// (its run is reused, or computed once and kept like any run).
pub fn traffic_summary(store: &mut Store, now_ms: i64) -> AppResult<TrafficSummary> {
    let mut rows: BTreeMap<(String, String), ChannelTraffic> = BTreeMap::new();
    // The family of the largest non-human class wins.
    let mut family_weight: BTreeMap<(String, String), u64> = BTreeMap::new();
    for count in store.traffic_counts()? {
        let entry = channel_entry(&mut rows, &count.source, &count.channel);
        let touches = match count.class {
            TrafficClass::Human => &mut entry.human,
            TrafficClass::Suspicious => &mut entry.suspicious,
            TrafficClass::Bot => &mut entry.bot,
        };
        *touches += count.touches;
        if let Some(family) = count.top_family {
            let weight = family_weight
                .entry((count.source, count.channel))
                .or_default();
            if count.touches > *weight {
                *weight = count.touches;
                entry.top_family = Some(family);
            }
        }
    }
    // The credit each class holds when every touch counts: under the default filter bots hold
    // nothing, which would hide what leaving them out takes away.
    let (model, mut params) = crate::attribution::workspace_model(store)?;
    params.touches = TouchFilter::All;
    let run = lookback_engine::run_model(store, model, &params, now_ms)?;
    for (source, channel, class, minor) in store.credited_by_traffic(run.run_id)? {
        channel_entry(&mut rows, &source, &channel).credited_minor[class_index(class)] += minor;
    }
    Ok(TrafficSummary {
        rules_version: store.traffic_rules()?.0,
        currency: run.reporting_currency.code().to_owned(),
        run_id: run.run_id,
        model: model.as_str().to_owned(),
        rows: rows.into_values().collect(),
    })
}

/// Reads a rule set from `file`; an error names the file and what is wrong in it (the rule by
/// position and id, and the field).
pub fn read_rules_file(file: &Path) -> AppResult<RuleSet> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        AppError::invalid("rules file", format!("cannot read {}: {e}", file.display()))
    })?;
    RuleSet::from_json(&text)
        .map_err(|e| AppError::invalid("rules file", format!("{}: {e}", file.display())))
}

/// Adopts `rules` as the workspace's next rule set and re-classifies every touch under it.
/// `profile` names who changed it (else the OS user); `reason` is required. `progress` hears
/// (touches done, touches in all).
pub fn adopt_rules(
    store: &mut Store,
    rules: &RuleSet,
    profile: Option<&str>,
    reason: &str,
    now_ms: i64,
    progress: &mut dyn FnMut(u64, u64),
) -> AppResult<Reclassification> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why the traffic rules change: the log keeps the reason",
        ));
    }
    let who = lookback_engine::changed_by(profile);
    Ok(store.adopt_traffic_rules(rules, &who, reason, now_ms, progress)?)
}

/// Re-classifies every touch under the rule set in force (no new version): what only hindsight
/// decides — a scanner's sweep, bursts that straddled two imports — catches up.
pub fn reclassify(
    store: &mut Store,
    progress: &mut dyn FnMut(u64, u64),
) -> AppResult<Reclassification> {
    Ok(store.reclassify_traffic(progress)?)
}

/// Every rule set the workspace used, oldest first (the built-in one first).
pub fn rule_history(store: &Store) -> AppResult<Vec<TrafficRuleChange>> {
    Ok(store.traffic_rule_history()?)
}

/// The traffic summary as it crosses to the window: the same figures `lookback traffic summary`
/// prints, with its provenance in words.
pub fn traffic_view(store: &mut Store, now_ms: i64) -> AppResult<crate::wire::TrafficView> {
    let summary = traffic_summary(store, now_ms)?;
    let money =
        |minor: i64| crate::workspace::money(minor, &summary.currency).map_err(AppError::from);
    let mut rows = Vec::with_capacity(summary.rows.len());
    for r in &summary.rows {
        rows.push(crate::wire::TrafficRow {
            source: r.source.clone(),
            channel: r.channel.clone(),
            touches: r.touches(),
            human: r.human,
            suspicious: r.suspicious,
            bot: r.bot,
            not_human_share: r.non_human_share(),
            top_family: r.top_family.clone(),
            credited_human: money(r.credited_minor[0])?,
            credited_suspicious: money(r.credited_minor[1])?,
            credited_bot: money(r.credited_minor[2])?,
        });
    }
    Ok(crate::wire::TrafficView {
        provenance: summary.provenance(),
        rules_version: summary.rules_version,
        run_id: Some(summary.run_id),
        rows,
    })
}
