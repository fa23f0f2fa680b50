//! Where each touch's traffic class is kept (migration 0019, issue 15): the class on the touch,
//! the rule and the signals beside it (`touch_traffic`), and the workspace's rule sets
//! (`traffic_rule_sets`). The rules themselves are lookback-core's `traffic`.
//!
//! Two ways in:
//! - at ingest, the path that wrote a touch hands its payload's signals (read before the
//!   payload was minimized) to a [`TouchClassifier`], which adds the timing signals from the
//!   store and the burst it has seen, classifies, and records the verdict. The CSV import of
//!   touches decides each row's verdict before writing it ([`TouchVerdict`], on its reading
//!   thread, where the burst counts every click of the file, stored already or not) and
//!   inserts the row with its class;
//! - [`Store::adopt_traffic_rules`] appends a rule set and re-classifies every touch under it,
//!   from the kept signals and the canonical rows, in one transaction.
//!
//! At ingest a burst is counted over the touches one classifier saw (an import file, a sync
//! run, the receiver's lifetime); re-classification counts it over every touch, in time order.
//! A scanner's sweep (a visitor's whole activity: a few touches within seconds, then nothing)
//! can only be known afterwards, so only re-classification decides it:
//! [`Store::reclassify_traffic`] re-runs the rule set in force (`lookback traffic reclassify`).
//!
//! Architecture Invariant: re-classifying under the rule set in force changes nothing that
//! ingest decided, except bursts that straddled two imports or deliveries and scanner sweeps.

use std::collections::{BTreeMap, HashMap};

use lookback_core::traffic::{
    BurstCounter, Classification, RuleSet, TrafficClass, TrafficSignals, VisitorSweep,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::touch_names::{TouchName, names_by_id};
use crate::{Store, StoreError, StoreResult, Touch, WriteTx};

/// The version a workspace without a stored rule set uses: the built-in set.
pub const BUILT_IN_RULES_VERSION: u32 = 1;

/// A rule set the workspace adopted, with who adopted it, when and why.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficRuleChange {
    pub version: u32,
    pub rules: RuleSet,
    /// `None` for the built-in set a workspace starts with.
    pub adopted_at_ms: Option<i64>,
    pub adopted_by: String,
    pub reason: String,
}

/// What a re-classification moved: touches per (class before, class after), and how many it
/// read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reclassification {
    pub version: u32,
    pub touches: u64,
    pub moved: BTreeMap<(TrafficClass, TrafficClass), u64>,
}

/// The class stored as `code` in a touch row.
pub(crate) fn class_of(code: i64) -> StoreResult<TrafficClass> {
    TrafficClass::from_code(code).ok_or_else(|| StoreError::InvalidValue {
        field: "touches.traffic_class",
        detail: format!("{code} is not a class"),
    })
}

/// Touches per source, channel and class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficCount {
    pub source: String,
    pub channel: String,
    pub class: TrafficClass,
    /// The family most of these touches came from when they are not human (`None` if none).
    pub top_family: Option<String>,
    pub touches: u64,
}

/// The rule set in force on `conn`'s workspace and its version.
fn rules_in_force(conn: &Connection) -> StoreResult<(u32, RuleSet)> {
    let stored: Option<(u32, String)> = conn
        .query_row(
            "SELECT version, rules FROM traffic_rule_sets ORDER BY version DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match stored {
        None => Ok((BUILT_IN_RULES_VERSION, RuleSet::built_in())),
        Some((version, text)) => {
            let rules = RuleSet::from_json(&text).map_err(|e| StoreError::InvalidValue {
                field: "traffic rule set",
                detail: format!("version {version} in the workspace: {e}"),
            })?;
            Ok((version, rules))
        }
    }
}

/// Classifies touches as an ingest path writes them, remembering recent clicks for bursts and
/// the publication times of content for the timing rule.
pub struct TouchClassifier {
    version: u32,
    rules: RuleSet,
    bursts: BurstCounter,
    /// Publication times by content id, read as touches name them; all of them at once for a
    /// detached classifier ([`TouchClassifier::load_detached`]).
    published_at: HashMap<String, Option<i64>>,
    /// Whether `published_at` holds every content row of the workspace, so that the classifier
    /// needs no connection.
    detached: bool,
    /// The whole activity of visitors who could be a scanner's sweep, by visitor (the first
    /// identity key, as for bursts): worked out at re-classification only, empty at ingest.
    sweeps: HashMap<String, VisitorSweep>,
}

/// A new touch's traffic verdict, decided before the touch is written: the class its row is
/// inserted with ([`WriteTx::log_touch`]), and the rule and signals
/// [`TouchVerdict::record`] keeps beside it once the touch turned out new. The CSV import
/// decides it on its reading thread ([`TouchClassifier::decide`]), so that its writer only
/// writes.
#[derive(Clone, Debug)]
pub struct TouchVerdict {
    version: u32,
    decided: (Classification, TrafficSignals),
}

impl TouchVerdict {
    /// The class the touch's row is inserted with.
    pub fn class(&self) -> TrafficClass {
        self.decided.0.class
    }

    /// Keeps the rule and signals of `touch_id`, just inserted in `tx` with
    /// [`TouchVerdict::class`] (no row for a human touch whose signals say nothing).
    pub fn record(&self, tx: &WriteTx<'_>, touch_id: &str) -> StoreResult<()> {
        write_verdict(
            &tx.tx,
            touch_id,
            self.version,
            &self.decided,
            self.class(),
            true,
        )
    }
}

impl TouchClassifier {
    /// A classifier under the rule set in force in `tx`'s workspace.
    pub fn load(tx: &WriteTx<'_>) -> StoreResult<TouchClassifier> {
        let (version, rules) = rules_in_force(&tx.tx)?;
        Ok(TouchClassifier::new(version, rules))
    }

    /// A classifier that needs no connection once made, for a thread beside the writer: the
    /// rule set in force and the publication time of every content row are read now. Only
    /// for a transaction that writes no content (a CSV import of touches).
    pub fn load_detached(tx: &WriteTx<'_>) -> StoreResult<TouchClassifier> {
        let mut classifier = TouchClassifier::load(tx)?;
        let mut stmt = tx
            .tx
            .prepare("SELECT content_id, published_at_ms FROM content")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        for row in rows {
            let (content_id, at): (String, Option<i64>) = row?;
            classifier.published_at.insert(content_id, at);
        }
        classifier.detached = true;
        Ok(classifier)
    }

    fn new(version: u32, rules: RuleSet) -> TouchClassifier {
        TouchClassifier {
            version,
            rules,
            bursts: BurstCounter::default(),
            published_at: HashMap::new(),
            detached: false,
            sweeps: HashMap::new(),
        }
    }

    /// Decides the verdict of `touch`, about to be written, from its payload's `signals` plus
    /// the timing and burst signals (a detached classifier only). The burst counts every
    /// touch decided, new to the workspace or not.
    pub fn decide(&mut self, touch: &Touch, signals: TrafficSignals) -> TouchVerdict {
        debug_assert!(self.detached, "only a detached classifier decides alone");
        let decided = self
            .classify(None, touch, signals)
            .expect("a detached classifier reads nothing");
        TouchVerdict {
            version: self.version,
            decided,
        }
    }

    /// The rule set this classifier applies (to read a payload's signals with).
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Classifies `touch`, just inserted in `tx`, from its payload's `signals` plus the timing
    /// and burst signals, and records the verdict. Returns the class.
    pub fn record(
        &mut self,
        tx: &mut WriteTx<'_>,
        touch: &Touch,
        signals: TrafficSignals,
    ) -> StoreResult<TrafficClass> {
        let verdict = self.classify(Some(&tx.tx), touch, signals)?;
        write_verdict(
            &tx.tx,
            &touch.touch_id,
            self.version,
            &verdict,
            TrafficClass::Human,
            true,
        )?;
        Ok(verdict.0.class)
    }

    /// Classifies `touch`; `conn` reads the publication times not read yet. A detached
    /// classifier has none (`None`): it read every content row when it was made.
    fn classify(
        &mut self,
        conn: Option<&Connection>,
        touch: &Touch,
        mut signals: TrafficSignals,
    ) -> StoreResult<(Classification, TrafficSignals)> {
        if let Some(content_id) = &touch.content_id {
            if !self.published_at.contains_key(content_id) {
                let at: Option<i64> = match conn {
                    Some(conn) => conn
                        .prepare_cached(
                            "SELECT published_at_ms FROM content WHERE content_id = ?1",
                        )?
                        .query_row([content_id], |row| row.get(0))
                        .optional()?
                        .flatten(),
                    None => None,
                };
                self.published_at.insert(content_id.clone(), at);
            }
            signals.seconds_after_carrier = self.published_at[content_id]
                .map(|published| (touch.occurred_at_ms - published).div_euclid(1000));
        }
        signals.visitor_sweep = visitor_key(touch).and_then(|v| self.sweeps.get(v).copied());
        if let Some((visitor, link)) = burst_key(touch) {
            signals.earlier_clicks_in_burst = self.bursts.observe(
                visitor,
                link,
                touch.occurred_at_ms,
                self.rules.burst_window_seconds * 1000,
            );
        }
        Ok((self.rules.classify(&signals), signals))
    }
}

/// Who clicked and what: the touch's first identity key and its link (content, else campaign,
/// else click id). A touch with neither is never part of a burst.
fn burst_key(touch: &Touch) -> Option<(&str, &str)> {
    let visitor = visitor_key(touch)?;
    let link = touch
        .content_id
        .as_deref()
        .or(touch.campaign_id.as_deref())
        .or(touch.click_id.as_deref())?;
    Some((visitor, link))
}

/// Who made a touch, for bursts and sweeps: its first identity key.
fn visitor_key(touch: &Touch) -> Option<&str> {
    let id = &touch.identity;
    id.person_id
        .as_deref()
        .or(id.anonymous_id.as_deref())
        .or(id.email_sha256.as_deref())
        .or(id.customer_id.as_deref())
        .or(id.device_id.as_deref())
}

/// The whole activity of every visitor with at least `min_touches` touches, all within
/// `within_seconds` of the first (the loosest of the set's sweep rules): only they can be a
/// sweep. A touch on no content or campaign counts as a carrier of its own; a visitor ordered
/// when an order carries the visitor's key in any identity field or the click id of one of the
/// visitor's touches.
fn visitor_sweeps(
    conn: &Connection,
    within_seconds: i64,
    min_touches: u32,
) -> StoreResult<HashMap<String, VisitorSweep>> {
    // A pass over the touches, not the span 0025 keeps: re-classification runs inside write
    // transactions (the demo's, an import's) whose own touches reach the span only at commit.
    let latest: Option<i64> =
        conn.query_row("SELECT MAX(occurred_at_ms) FROM touches", [], |row| {
            row.get(0)
        })?;
    let Some(latest) = latest else {
        return Ok(HashMap::new());
    };
    let mut stmt = conn.prepare(
        "SELECT visitor, COUNT(*), MIN(occurred_at_ms), MAX(occurred_at_ms),
                COUNT(DISTINCT carrier) + SUM(carrier IS NULL),
                MAX(ordered_click) OR visitor IN (
                    SELECT key FROM (SELECT person_id AS key FROM orders
                        UNION ALL SELECT anonymous_id FROM orders
                        UNION ALL SELECT email_sha256 FROM orders
                        UNION ALL SELECT customer_id FROM orders
                        UNION ALL SELECT device_id FROM orders)
                    WHERE key IS NOT NULL)
         FROM (SELECT COALESCE(person_id, anonymous_id, email_sha256, customer_id, device_id)
                        AS visitor,
                      occurred_at_ms, COALESCE(content_id, campaign_id) AS carrier,
                      click_id IS NOT NULL AND click_id IN
                        (SELECT click_id FROM orders WHERE click_id IS NOT NULL) AS ordered_click
               FROM touches)
         WHERE visitor IS NOT NULL GROUP BY visitor
         HAVING COUNT(*) >= ?1 AND MAX(occurred_at_ms) - MIN(occurred_at_ms) <= ?2",
    )?;
    let rows = stmt.query_map(params![min_touches, within_seconds * 1000], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, bool>(5)?,
        ))
    })?;
    let mut sweeps = HashMap::new();
    for row in rows {
        let (visitor, touches, first, last, carriers, ordered) = row?;
        let sweep = VisitorSweep {
            touches: u32::try_from(touches).unwrap_or(u32::MAX),
            span_seconds: (last - first).div_euclid(1000),
            carriers: u32::try_from(carriers).unwrap_or(u32::MAX),
            quiet_seconds: (latest - last).div_euclid(1000),
            ordered,
        };
        sweeps.insert(visitor, sweep);
    }
    Ok(sweeps)
}

/// Whether the signals say anything a later rule set could read, so they are worth a row.
fn worth_keeping(signals: &TrafficSignals) -> bool {
    signals.agent_family.is_some()
        || signals.platform_verdict.is_some()
        || signals.prefetch
        || signals
            .missing_browser_headers
            .as_ref()
            .is_some_and(|missing| !missing.is_empty())
        || (signals.missing_browser_headers.is_some() && !signals.agent_present)
}

/// The family most of a non-human count's touches came from (the first by name among equals);
/// `None` for human touches or when no family is known.
fn top_family(class: TrafficClass, families: &[(String, u64)]) -> Option<String> {
    if class == TrafficClass::Human {
        return None;
    }
    families
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(family, _)| family.clone())
}

/// Records a touch's verdict: its class on the touch (when it changes from `before`) and the
/// rule and signals beside it (or no row, for a human touch whose signals say nothing).
/// `just_inserted`: the touch was inserted in this transaction, so it has no such row to
/// delete (the delete trigger of 0019 removed any its id had before).
fn write_verdict(
    conn: &Connection,
    touch_id: &str,
    version: u32,
    (verdict, signals): &(Classification, TrafficSignals),
    before: TrafficClass,
    just_inserted: bool,
) -> StoreResult<()> {
    if verdict.class != before {
        conn.prepare_cached("UPDATE touch_rows SET traffic_class = ?2 WHERE touch_id = ?1")?
            .execute(params![touch_id, verdict.class.code()])?;
    }
    if verdict.class != TrafficClass::Human || worth_keeping(signals) {
        // Timing and burst are recomputed from the canonical rows on every re-classification,
        // so only what the payload said is kept.
        let kept = TrafficSignals {
            seconds_after_carrier: None,
            earlier_clicks_in_burst: 0,
            visitor_sweep: None,
            ..signals.clone()
        };
        conn.prepare_cached(
            "INSERT INTO touch_traffic (touch_id, rules_version, rule, family, score, signals)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (touch_id) DO UPDATE SET rules_version = excluded.rules_version,
                 rule = excluded.rule, family = excluded.family, score = excluded.score,
                 signals = excluded.signals",
        )?
        .execute(params![
            touch_id,
            version,
            verdict.rule,
            verdict.family,
            verdict.score,
            kept.to_json().to_string(),
        ])?;
    } else if !just_inserted
        && conn
            .prepare_cached("SELECT 1 FROM touch_traffic WHERE touch_id = ?1")?
            .exists([touch_id])?
    {
        // A touch inserted in this transaction has no row (0019's delete trigger removed any
        // old one); for the others, probed first: nearly every touch an import writes has
        // none, and a DELETE on a table with triggers (0026's) costs more than the probe.
        conn.prepare_cached("DELETE FROM touch_traffic WHERE touch_id = ?1")?
            .execute([touch_id])?;
    }
    Ok(())
}

impl Store {
    /// The rule set in force and its version (the built-in set as version 1 until the
    /// workspace adopts one).
    pub fn traffic_rules(&self) -> StoreResult<(u32, RuleSet)> {
        rules_in_force(&self.conn)
    }

    /// Every rule set the workspace used, oldest first, starting with the built-in one.
    pub fn traffic_rule_history(&self) -> StoreResult<Vec<TrafficRuleChange>> {
        let mut history = vec![TrafficRuleChange {
            version: BUILT_IN_RULES_VERSION,
            rules: RuleSet::built_in(),
            adopted_at_ms: None,
            adopted_by: "Lookback".to_owned(),
            reason: "the built-in rules a workspace starts with".to_owned(),
        }];
        let mut stmt = self.conn.prepare(
            "SELECT version, rules, adopted_at_ms, adopted_by, reason FROM traffic_rule_sets ORDER BY version",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, u32>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (version, text, at, by, reason) = row?;
            let rules = RuleSet::from_json(&text).map_err(|e| StoreError::InvalidValue {
                field: "traffic rule set",
                detail: format!("version {version} in the workspace: {e}"),
            })?;
            history.push(TrafficRuleChange {
                version,
                rules,
                adopted_at_ms: Some(at),
                adopted_by: by,
                reason,
            });
        }
        Ok(history)
    }

    /// Adopts `rules` as the workspace's next rule set (its version is the one after the rule
    /// set in force, whatever `rules.version` says), logged with who, when and why, and
    /// re-classifies every touch under it — all in one transaction. `progress` hears
    /// (touches done, touches in all).
    pub fn adopt_traffic_rules(
        &mut self,
        rules: &RuleSet,
        adopted_by: &str,
        reason: &str,
        at_ms: i64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> StoreResult<Reclassification> {
        if reason.trim().is_empty() {
            return Err(StoreError::InvalidValue {
                field: "reason",
                detail: "say why the traffic rules change (it is logged with them)".to_owned(),
            });
        }
        let mut tx = self.begin()?;
        let (current, _) = rules_in_force(&tx.tx)?;
        let version = current + 1;
        let rules = RuleSet {
            version,
            ..rules.clone()
        };
        tx.tx
            .prepare_cached(
                "INSERT INTO traffic_rule_sets (version, rules, adopted_at_ms, adopted_by, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![version, rules.to_json(), at_ms, adopted_by, reason])?;
        let summary = reclassify(&tx.tx, version, &rules, progress)?;
        // Which touches a view counts can change, so every run computed before is stale.
        tx.mark_inputs_changed(summary.moved.keys().any(|(from, to)| from != to));
        tx.commit()?;
        Ok(summary)
    }

    /// Re-classifies every touch under the rule set in force, without a new version: what
    /// only hindsight decides (a scanner's sweep, bursts across imports) catches up with the
    /// touches that arrived since. In one transaction; marks the inputs changed when a touch
    /// changes class. `progress` hears (touches done, touches in all).
    pub fn reclassify_traffic(
        &mut self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> StoreResult<Reclassification> {
        let mut tx = self.begin()?;
        let summary = tx.reclassify_traffic(progress)?;
        tx.commit()?;
        Ok(summary)
    }

    /// Touches per source, channel and class, from the totals migration 0026 keeps (see
    /// `traffic_totals`): a few hundred rows, however many touches there are.
    pub fn traffic_counts(&self) -> StoreResult<Vec<TrafficCount>> {
        let mut counts: Vec<TrafficCount> = Vec::new();
        // Touches per family of the count being built, for its top family.
        let mut families: Vec<(String, u64)> = Vec::new();
        // The totals come sorted by source, channel, class, then family (none first).
        for total in self.traffic_totals()? {
            let same = counts.last().is_some_and(|c| {
                c.source == total.source && c.channel == total.channel && c.class == total.class
            });
            if !same {
                if let Some(count) = counts.last_mut() {
                    count.top_family = top_family(count.class, &families);
                }
                families.clear();
                counts.push(TrafficCount {
                    source: total.source,
                    channel: total.channel,
                    class: total.class,
                    top_family: None,
                    touches: 0,
                });
            }
            let count = counts.last_mut().expect("pushed above");
            count.touches += total.touches;
            if let Some(family) = total.family {
                families.push((family, total.touches));
            }
        }
        if let Some(count) = counts.last_mut() {
            count.top_family = top_family(count.class, &families);
        }
        Ok(counts)
    }

    /// Revenue `run_id` credited per source, channel and traffic class of the credited touch,
    /// in the run's reporting currency (minor units), sorted. Kept per run (0026): the first
    /// call for a run joins its credits with their touches and keeps the sums, later ones read
    /// them (see `traffic_totals`).
    pub fn credited_by_traffic(
        &mut self,
        run_id: i64,
    ) -> StoreResult<Vec<(String, String, TrafficClass, i64)>> {
        let by_id = self.run_traffic_credit_ids(run_id)?;
        let sources = names_by_id(&self.conn, TouchName::Source)?;
        let channels = names_by_id(&self.conn, TouchName::Channel)?;
        let mut credited = Vec::with_capacity(by_id.len());
        for (source_id, channel_id, code, minor) in by_id {
            credited.push((
                sources.get(&source_id).cloned().unwrap_or_default(),
                channels.get(&channel_id).cloned().unwrap_or_default(),
                class_of(code)?,
                minor,
            ));
        }
        credited.sort_by(|a, b| (&a.0, &a.1, a.2.code()).cmp(&(&b.0, &b.1, b.2.code())));
        Ok(credited)
    }

    /// The class, rule and family of one touch (`None` if no such touch).
    pub fn touch_traffic(&self, touch_id: &str) -> StoreResult<Option<Classification>> {
        Ok(self
            .conn
            .query_row(
                "SELECT t.traffic_class, f.rule, f.family, f.score FROM touches t
                 LEFT JOIN touch_traffic f ON f.touch_id = t.touch_id WHERE t.touch_id = ?1",
                [touch_id],
                |row| {
                    Ok(Classification {
                        class: TrafficClass::from_code(row.get(0)?).unwrap_or(TrafficClass::Human),
                        rule: row.get(1)?,
                        family: row.get(2)?,
                        score: row.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                    })
                },
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// [`Store::reclassify_traffic`] inside a transaction the caller commits (the demo
    /// re-classifies at the end of the one transaction that writes it).
    pub fn reclassify_traffic(
        &mut self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> StoreResult<Reclassification> {
        let (version, rules) = rules_in_force(&self.tx)?;
        let summary = reclassify(&self.tx, version, &rules, progress)?;
        self.mark_inputs_changed(summary.moved.keys().any(|(from, to)| from != to));
        Ok(summary)
    }
}

/// Re-classifies every touch under `rules`: the kept signals, the timing from content
/// publication, and bursts counted over all touches in time order.
fn reclassify(
    conn: &Connection,
    version: u32,
    rules: &RuleSet,
    progress: &mut dyn FnMut(u64, u64),
) -> StoreResult<Reclassification> {
    let total: u64 = conn.query_row("SELECT COUNT(*) FROM touches", [], |row| row.get(0))?;
    let mut classifier = TouchClassifier::new(version, rules.clone());
    if let Some((within_seconds, min_touches)) = rules.reads_visitor_sweep() {
        classifier.sweeps = visitor_sweeps(conn, within_seconds, min_touches)?;
    }
    let mut summary = Reclassification {
        version,
        ..Reclassification::default()
    };
    // Read everything first (ordered by time for the bursts), then write: the writes would
    // otherwise move rows under the reading cursor.
    let mut stmt = conn.prepare(
        "SELECT t.touch_id, t.occurred_at_ms, t.content_id, t.campaign_id, t.click_id,
                t.person_id, t.anonymous_id, t.email_sha256, t.customer_id, t.device_id,
                t.traffic_class, f.signals
         FROM touches t LEFT JOIN touch_traffic f ON f.touch_id = t.touch_id
         ORDER BY t.occurred_at_ms, t.touch_id",
    )?;
    let mut rows = stmt.query([])?;
    // Only the touches whose class or kept row changes are held for writing.
    let mut verdicts: Vec<(String, TrafficClass, (Classification, TrafficSignals))> = Vec::new();
    while let Some(row) = rows.next()? {
        let touch = Touch {
            touch_id: row.get(0)?,
            source: String::new(),
            occurred_at_ms: row.get(1)?,
            channel: String::new(),
            touch_type: String::new(),
            creator_id: None,
            campaign_id: row.get(3)?,
            ad_id: None,
            content_id: row.get(2)?,
            click_id: row.get(4)?,
            identity: crate::IdentityKeys {
                person_id: row.get(5)?,
                anonymous_id: row.get(6)?,
                email_sha256: row.get(7)?,
                customer_id: row.get(8)?,
                device_id: row.get(9)?,
            },
            raw_event_id: None,
        };
        let before = TrafficClass::from_code(row.get(10)?).unwrap_or(TrafficClass::Human);
        let kept: Option<String> = row.get(11)?;
        let signals = kept
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .map(|value| TrafficSignals::from_json(&value))
            .unwrap_or_default();
        let verdict = classifier.classify(Some(conn), &touch, signals)?;
        *summary.moved.entry((before, verdict.0.class)).or_default() += 1;
        summary.touches += 1;
        if verdict.0.class != before || kept.is_some() || worth_keeping(&verdict.1) {
            verdicts.push((touch.touch_id, before, verdict));
        }
        if summary.touches.is_multiple_of(50_000) {
            progress(summary.touches, total);
        }
    }
    drop(rows);
    for (touch_id, before, verdict) in &verdicts {
        write_verdict(conn, touch_id, version, verdict, *before, false)?;
    }
    progress(summary.touches, total);
    Ok(summary)
}
