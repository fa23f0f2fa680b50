//! Who is behind a touch: a person (`human`), an automated fetch (`bot`: a crawler, a link
//! preview, an e-mail security scanner, a prefetch) or something in between (`suspicious`).
//!
//! A touch is classified once, at ingest, *before* its payload is minimized: the user agent and
//! the request headers that decide it are personal fields that [`crate::pii::minimize`] redacts
//! right after. What the rules read is first reduced to [`TrafficSignals`], which hold nothing
//! personal (a user agent becomes the name of its family, headers become a few flags), so the
//! signals can be kept beside the touch and a later rule set can re-classify it without the raw
//! user agent.
//!
//! Rules are data ([`RuleSet`], JSON), versioned by the workspace: the first rule that matches
//! decides, in the order the set lists them. [`RuleSet::built_in`] is the set a new workspace
//! starts from; README ("Bot and prefetch traffic") documents every rule and where its facts
//! come from.
//!
//! A rule may be disabled (`enabled: false`, kept in the set, deciding nothing) and may have
//! class `human` (what it matches is a person's; the rules after it are not read).
//!
//! Architecture Invariant: classification is a pure function of the signals and the rule set,
//! so a touch re-classified under the rule set that first classified it gets the same verdict
//! from the same signals. (Re-classification may know more signals than ingest did: a visitor's
//! whole activity, [`TrafficSignals::visitor_sweep`], exists only then.)

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// What a touch's classification says about who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrafficClass {
    Human,
    Suspicious,
    Bot,
}

impl TrafficClass {
    pub const ALL: [TrafficClass; 3] = [
        TrafficClass::Human,
        TrafficClass::Suspicious,
        TrafficClass::Bot,
    ];

    /// The name the store, the CLI and CSVs use.
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficClass::Human => "human",
            TrafficClass::Suspicious => "suspicious",
            TrafficClass::Bot => "bot",
        }
    }

    pub fn parse(name: &str) -> Option<TrafficClass> {
        TrafficClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The store's integer for the class (`touches.traffic_class`).
    pub fn code(self) -> i64 {
        match self {
            TrafficClass::Human => 0,
            TrafficClass::Suspicious => 1,
            TrafficClass::Bot => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<TrafficClass> {
        TrafficClass::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// What the rules may read about one touch, none of it personal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrafficSignals {
    /// The family of the user agent when a rule set's user-agent rules named one
    /// (`slack-preview`, `outlook-safelinks`…); `None` when no user agent arrived or none
    /// matched.
    pub agent_family: Option<String>,
    /// Whether a user agent arrived at all (a click with none is not a browser's).
    pub agent_present: bool,
    /// The platform's own verdict as it sent it, lowercased (`bot`, `fraud`, `true`…), when it
    /// sends one.
    pub platform_verdict: Option<String>,
    /// Whether the request said it was a prefetch or a preview (`Purpose`, `Sec-Purpose`,
    /// `X-Moz`, `X-Purpose`).
    pub prefetch: bool,
    /// When request headers were delivered: the headers every browser sends that were missing
    /// (lowercase names). `None` when no headers were delivered.
    pub missing_browser_headers: Option<Vec<String>>,
    /// Seconds from the publication or sending of what carries the link (the post, the e-mail)
    /// to the click, when both are known.
    pub seconds_after_carrier: Option<i64>,
    /// How many clicks of the same link or click id by the same visitor arrived within the
    /// burst window before this one (0 for the first).
    pub earlier_clicks_in_burst: u32,
    /// Everything the workspace holds of this touch's visitor, when it could be a scanner's
    /// sweep ([`VisitorSweep`]). Known only at re-classification (at ingest the visitor's later
    /// activity is still in the future); never kept, recomputed each time.
    pub visitor_sweep: Option<VisitorSweep>,
}

/// A visitor's whole activity in the workspace, as the scanner-sweep rule reads it: how many
/// touches, how far apart the first and last are, on how many carriers (contents or
/// campaigns), how long the workspace has heard nothing of them since, and whether they ever
/// placed an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VisitorSweep {
    pub touches: u32,
    pub span_seconds: i64,
    pub carriers: u32,
    /// Seconds from the visitor's last touch to the latest touch the workspace holds.
    pub quiet_seconds: i64,
    pub ordered: bool,
}

impl TrafficSignals {
    /// The signals as a JSON object (what the store keeps beside a touch), with only the
    /// fields that say something.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(family) = &self.agent_family {
            map.insert("agent_family".into(), Value::from(family.as_str()));
        }
        map.insert("agent_present".into(), Value::from(self.agent_present));
        if let Some(verdict) = &self.platform_verdict {
            map.insert("platform_verdict".into(), Value::from(verdict.as_str()));
        }
        if self.prefetch {
            map.insert("prefetch".into(), Value::from(true));
        }
        if let Some(missing) = &self.missing_browser_headers {
            map.insert(
                "missing_browser_headers".into(),
                Value::from(missing.clone()),
            );
        }
        if let Some(seconds) = self.seconds_after_carrier {
            map.insert("seconds_after_carrier".into(), Value::from(seconds));
        }
        if self.earlier_clicks_in_burst > 0 {
            map.insert(
                "earlier_clicks_in_burst".into(),
                Value::from(self.earlier_clicks_in_burst),
            );
        }
        Value::Object(map)
    }

    /// Reads what [`TrafficSignals::to_json`] wrote; unknown or mistyped fields count as absent.
    pub fn from_json(value: &Value) -> TrafficSignals {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        TrafficSignals {
            agent_family: text("agent_family"),
            agent_present: value
                .get("agent_present")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            platform_verdict: text("platform_verdict"),
            prefetch: value
                .get("prefetch")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            missing_browser_headers: value
                .get("missing_browser_headers")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            seconds_after_carrier: value.get("seconds_after_carrier").and_then(Value::as_i64),
            earlier_clicks_in_burst: value
                .get("earlier_clicks_in_burst")
                .and_then(Value::as_u64)
                .map_or(0, |n| n.min(u64::from(u32::MAX)) as u32),
            visitor_sweep: None,
        }
    }
}

/// The verdict on one touch: its class, the rule that decided it (`None` for a human touch no
/// rule matched), the family of what made it, and how sure the rule is (0–1).
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    pub class: TrafficClass,
    pub rule: Option<String>,
    pub family: Option<String>,
    pub score: f64,
}

impl Classification {
    pub fn human() -> Classification {
        Classification {
            class: TrafficClass::Human,
            rule: None,
            family: None,
            score: 0.0,
        }
    }
}

/// What a rule tests.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleTest {
    /// The platform's verdict is one of these (lowercase).
    PlatformVerdict { verdicts: Vec<String> },
    /// The user agent belongs to this family: it contains one of these (case-insensitive).
    /// Read at ingest, while the user agent is still there.
    AgentFamily {
        family: String,
        contains_any: Vec<String>,
    },
    /// A click that arrived with no user agent at all.
    NoAgent,
    /// The request said it was a prefetch or a preview.
    Prefetch,
    /// Headers were delivered and at least one of these was missing.
    MissingBrowserHeaders { headers: Vec<String> },
    /// A click within this many seconds of what carries the link being published or sent.
    SoonAfterCarrier { within_seconds: i64 },
    /// At least this many earlier clicks of the same link by the same visitor in the burst
    /// window (the window itself is the rule set's `burst_window_seconds`).
    Burst { earlier_clicks: u32 },
    /// A visitor whose every touch — at least `min_touches`, all on one content or campaign —
    /// fell within `within_seconds` of the first, who never ordered and of whom the workspace
    /// has heard nothing for `quiet_days` since: a scanner opening every link of a message once.
    /// Decided at re-classification only ([`TrafficSignals::visitor_sweep`]).
    ScannerSweep {
        within_seconds: i64,
        min_touches: u32,
        quiet_days: i64,
    },
}

/// One rule: what it tests, the class and score it gives, and words for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    /// A disabled rule decides nothing; it stays in the set so it can be enabled again (the
    /// JSON's `enabled`, missing = true).
    pub enabled: bool,
    pub test: RuleTest,
    pub class: TrafficClass,
    pub score: f64,
    /// What the rule catches, in words.
    pub description: String,
    /// Where its facts come from (a platform's documentation, a standard).
    pub source: String,
}

/// A versioned, ordered list of rules: the first that matches decides.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    pub version: u32,
    /// Clicks of the same link by the same visitor closer than this count as one burst.
    pub burst_window_seconds: i64,
    pub rules: Vec<Rule>,
}

/// The built-in rule set, as JSON (a new workspace stores it as its version 1).
pub const BUILT_IN_RULES_JSON: &str = include_str!("traffic_rules.json");

impl RuleSet {
    /// The rule set a new workspace starts from.
    pub fn built_in() -> RuleSet {
        RuleSet::from_json(BUILT_IN_RULES_JSON).expect("the built-in traffic rules parse")
    }

    /// Parses a rule set; the error names the rule (by position and id) and the field.
    pub fn from_json(text: &str) -> Result<RuleSet, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let version = value
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v >= 1)
            .ok_or("field `version`: a whole number from 1")?;
        let burst_window_seconds = value
            .get("burst_window_seconds")
            .and_then(Value::as_i64)
            .filter(|s| (1..=3600).contains(s))
            .ok_or("field `burst_window_seconds`: a whole number of seconds, 1 to 3600")?;
        let list = value
            .get("rules")
            .and_then(Value::as_array)
            .ok_or("field `rules`: a list of rules")?;
        let mut rules = Vec::with_capacity(list.len());
        for (i, rule) in list.iter().enumerate() {
            let parsed = parse_rule(rule).map_err(|e| {
                let id = rule.get("id").and_then(Value::as_str).unwrap_or("?");
                format!("rule {} (`{id}`): {e}", i + 1)
            })?;
            if rules.iter().any(|r: &Rule| r.id == parsed.id) {
                return Err(format!(
                    "rule {} (`{}`): the id is used twice",
                    i + 1,
                    parsed.id
                ));
            }
            rules.push(parsed);
        }
        Ok(RuleSet {
            version,
            burst_window_seconds,
            rules,
        })
    }

    /// The rule set as JSON, in the form [`RuleSet::from_json`] reads.
    pub fn to_json(&self) -> String {
        let rules: Vec<Value> = self.rules.iter().map(rule_json).collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "version": self.version,
            "burst_window_seconds": self.burst_window_seconds,
            "rules": rules,
        }))
        .expect("a rule set serializes");
        text.push('\n');
        text
    }

    /// The family of a user agent under this set's user-agent rules, the first that matches.
    pub fn agent_family(&self, user_agent: &str) -> Option<&str> {
        let lower = user_agent.to_ascii_lowercase();
        self.rules.iter().find_map(|rule| match &rule.test {
            RuleTest::AgentFamily {
                family,
                contains_any,
            } if contains_any
                .iter()
                .any(|needle| lower.contains(needle.as_str())) =>
            {
                Some(family.as_str())
            }
            _ => None,
        })
    }

    /// Whether any enabled rule reads the visitor's whole activity (so re-classification must
    /// work it out).
    pub fn reads_visitor_sweep(&self) -> Option<(i64, u32)> {
        self.rules
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|r| match r.test {
                RuleTest::ScannerSweep {
                    within_seconds,
                    min_touches,
                    ..
                } => Some((within_seconds, min_touches)),
                _ => None,
            })
            .reduce(|(w1, m1), (w2, m2)| (w1.max(w2), m1.min(m2)))
    }

    /// Classifies one touch from its signals: the first enabled rule that matches decides.
    pub fn classify(&self, signals: &TrafficSignals) -> Classification {
        for rule in self.rules.iter().filter(|r| r.enabled) {
            let family = match &rule.test {
                RuleTest::PlatformVerdict { verdicts } => signals
                    .platform_verdict
                    .as_ref()
                    .filter(|v| verdicts.contains(v))
                    .map(|_| None),
                RuleTest::AgentFamily { family, .. } => (signals.agent_family.as_deref()
                    == Some(family.as_str()))
                .then(|| Some(family.clone())),
                RuleTest::NoAgent => (!signals.agent_present
                    && signals.missing_browser_headers.is_some())
                .then_some(None),
                RuleTest::Prefetch => signals.prefetch.then_some(None),
                RuleTest::MissingBrowserHeaders { headers } => signals
                    .missing_browser_headers
                    .as_ref()
                    .filter(|missing| missing.iter().any(|m| headers.contains(m)))
                    .map(|_| None),
                RuleTest::SoonAfterCarrier { within_seconds } => signals
                    .seconds_after_carrier
                    .filter(|s| (0..=*within_seconds).contains(s))
                    .map(|_| None),
                RuleTest::Burst { earlier_clicks } => {
                    (signals.earlier_clicks_in_burst >= *earlier_clicks).then_some(None)
                }
                RuleTest::ScannerSweep {
                    within_seconds,
                    min_touches,
                    quiet_days,
                } => signals
                    .visitor_sweep
                    .filter(|v| {
                        v.touches >= *min_touches
                            && v.span_seconds <= *within_seconds
                            && v.carriers == 1
                            && !v.ordered
                            && v.quiet_seconds >= quiet_days * 86_400
                    })
                    .map(|_| None),
            };
            if let Some(family) = family {
                return Classification {
                    class: rule.class,
                    rule: Some(rule.id.clone()),
                    family: family.or_else(|| signals.agent_family.clone()),
                    score: rule.score,
                };
            }
        }
        Classification::human()
    }
}

fn parse_rule(rule: &Value) -> Result<Rule, String> {
    let text = |key: &str| {
        rule.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or(format!("field `{key}`: text"))
    };
    let lower_list = |key: &str| -> Result<Vec<String>, String> {
        let list = rule
            .get(key)
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .ok_or(format!("field `{key}`: a list of text"))?;
        list.iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase)
                    .ok_or(format!("field `{key}`: every entry is text"))
            })
            .collect()
    };
    let whole = |key: &str| {
        rule.get(key)
            .and_then(Value::as_i64)
            .filter(|n| *n >= 0)
            .ok_or(format!("field `{key}`: a whole number from 0"))
    };
    let id = text("id")?;
    let class = TrafficClass::parse(&text("class")?)
        .ok_or("field `class`: `bot`, `suspicious` or `human`")?;
    let enabled = match rule.get("enabled") {
        None => true,
        Some(v) => v.as_bool().ok_or("field `enabled`: true or false")?,
    };
    let score = rule
        .get("score")
        .and_then(Value::as_f64)
        .filter(|s| (0.0..=1.0).contains(s))
        .ok_or("field `score`: a number from 0 to 1")?;
    let test = match text("test")?.as_str() {
        "platform_verdict" => RuleTest::PlatformVerdict {
            verdicts: lower_list("verdicts")?,
        },
        "agent_family" => RuleTest::AgentFamily {
            family: text("family")?,
            contains_any: lower_list("contains_any")?,
        },
        "no_agent" => RuleTest::NoAgent,
        "prefetch" => RuleTest::Prefetch,
        "missing_browser_headers" => RuleTest::MissingBrowserHeaders {
            headers: lower_list("headers")?,
        },
        "soon_after_carrier" => RuleTest::SoonAfterCarrier {
            within_seconds: whole("within_seconds")?,
        },
        "burst" => RuleTest::Burst {
            earlier_clicks: u32::try_from(whole("earlier_clicks")?.max(1))
                .map_err(|_| "field `earlier_clicks`: too large".to_owned())?,
        },
        "scanner_sweep" => RuleTest::ScannerSweep {
            within_seconds: whole("within_seconds")?,
            min_touches: u32::try_from(whole("min_touches")?)
                .ok()
                .filter(|n| *n >= 2)
                .ok_or("field `min_touches`: a whole number from 2")?,
            quiet_days: whole("quiet_days")?,
        },
        other => {
            return Err(format!(
                "field `test`: `{other}` is not one of platform_verdict, agent_family, no_agent, prefetch, missing_browser_headers, soon_after_carrier, burst, scanner_sweep"
            ));
        }
    };
    Ok(Rule {
        id,
        enabled,
        test,
        class,
        score,
        description: text("description")?,
        source: text("source")?,
    })
}

fn rule_json(rule: &Rule) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), Value::from(rule.id.as_str()));
    let test = match &rule.test {
        RuleTest::PlatformVerdict { verdicts } => {
            map.insert("verdicts".into(), Value::from(verdicts.clone()));
            "platform_verdict"
        }
        RuleTest::AgentFamily {
            family,
            contains_any,
        } => {
            map.insert("family".into(), Value::from(family.as_str()));
            map.insert("contains_any".into(), Value::from(contains_any.clone()));
            "agent_family"
        }
        RuleTest::NoAgent => "no_agent",
        RuleTest::Prefetch => "prefetch",
        RuleTest::MissingBrowserHeaders { headers } => {
            map.insert("headers".into(), Value::from(headers.clone()));
            "missing_browser_headers"
        }
        RuleTest::SoonAfterCarrier { within_seconds } => {
            map.insert("within_seconds".into(), Value::from(*within_seconds));
            "soon_after_carrier"
        }
        RuleTest::Burst { earlier_clicks } => {
            map.insert("earlier_clicks".into(), Value::from(*earlier_clicks));
            "burst"
        }
        RuleTest::ScannerSweep {
            within_seconds,
            min_touches,
            quiet_days,
        } => {
            map.insert("within_seconds".into(), Value::from(*within_seconds));
            map.insert("min_touches".into(), Value::from(*min_touches));
            map.insert("quiet_days".into(), Value::from(*quiet_days));
            "scanner_sweep"
        }
    };
    if !rule.enabled {
        map.insert("enabled".into(), Value::from(false));
    }
    map.insert("test".into(), Value::from(test));
    map.insert("class".into(), Value::from(rule.class.as_str()));
    map.insert("score".into(), Value::from(rule.score));
    map.insert("description".into(), Value::from(rule.description.as_str()));
    map.insert("source".into(), Value::from(rule.source.as_str()));
    Value::Object(map)
}

/// Keys under which payloads carry a user agent (compared lowercase).
const AGENT_KEYS: &[&str] = &["user_agent", "useragent", "client_user_agent", "ua"];
/// Keys under which payloads carry the platform's own bot or fraud verdict (lowercase).
const VERDICT_KEYS: &[&str] = &["bot", "is_bot", "fraud_status", "traffic_type", "bot_flag"];
/// Keys of an object of request headers a payload may carry (lowercase).
const HEADER_KEYS: &[&str] = &["headers", "request_headers"];
/// Headers every browser sends with a navigation (lowercase).
pub const BROWSER_HEADERS: &[&str] = &["accept", "accept-language", "user-agent"];
/// Headers that mark a prefetch or a preview, with the values that do (lowercase).
const PREFETCH_HEADERS: &[(&str, &str)] = &[
    ("purpose", "prefetch"),
    ("sec-purpose", "prefetch"),
    ("x-moz", "prefetch"),
    ("x-purpose", "preview"),
];

/// What a payload said about its request, as it arrived (before minimizing): its user agent,
/// the platform's verdict and the request headers. Personal (a user agent, headers): held in
/// memory between reading a payload and classifying its touch, never stored; only the
/// [`TrafficSignals`] made from it are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrafficParts {
    pub agent: Option<String>,
    pub verdict: Option<String>,
    /// Header names lowercase → values, when the payload delivered headers.
    pub headers: Option<Vec<(String, String)>>,
}

impl TrafficParts {
    /// Finds the user agent, verdict and request headers wherever they sit in a payload, under
    /// the keys above (depth first, the first of each).
    pub fn of_payload(payload: &Value) -> TrafficParts {
        let mut found = Found::default();
        walk(payload, &mut found, 0);
        TrafficParts {
            agent: found.agent,
            verdict: found.verdict,
            headers: found.headers,
        }
    }

    /// The signals the rules read. The timing signals ([`TrafficSignals::seconds_after_carrier`],
    /// the burst) come from the store, not the payload.
    pub fn signals(&self, rules: &RuleSet) -> TrafficSignals {
        signals_from_parts(
            self.agent.as_deref(),
            self.verdict.as_deref(),
            self.headers.as_ref(),
            rules,
        )
    }
}

/// The signals of a payload as it arrived (before minimizing).
pub fn payload_signals(payload: &Value, rules: &RuleSet) -> TrafficSignals {
    TrafficParts::of_payload(payload).signals(rules)
}

/// The signals from their parts: a user agent, a platform verdict, and request headers (names
/// lowercase → values) when they were delivered.
pub fn signals_from_parts(
    agent: Option<&str>,
    verdict: Option<&str>,
    headers: Option<&Vec<(String, String)>>,
    rules: &RuleSet,
) -> TrafficSignals {
    let agent = agent
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != crate::pii::REDACTED);
    let header = |name: &str| {
        headers.and_then(|h| {
            h.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_ascii_lowercase())
        })
    };
    let prefetch = PREFETCH_HEADERS.iter().any(|(name, value)| {
        header(name).is_some_and(|v| v.split([',', ';']).any(|p| p.trim() == *value))
    });
    let missing_browser_headers = headers.map(|h| {
        BROWSER_HEADERS
            .iter()
            .filter(|name| !h.iter().any(|(n, v)| n == *name && !v.trim().is_empty()))
            .map(|name| (*name).to_owned())
            .collect()
    });
    TrafficSignals {
        agent_family: agent.and_then(|a| rules.agent_family(a)).map(str::to_owned),
        agent_present: agent.is_some() || header("user-agent").is_some(),
        platform_verdict: verdict
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty() && v != "false" && v != "0" && v != "human" && v != "none"),
        prefetch,
        missing_browser_headers,
        seconds_after_carrier: None,
        earlier_clicks_in_burst: 0,
        visitor_sweep: None,
    }
}

#[derive(Default)]
struct Found {
    agent: Option<String>,
    verdict: Option<String>,
    headers: Option<Vec<(String, String)>>,
}

/// Finds the first user agent, verdict and header object in a payload, depth first; stops
/// descending after a few levels (payloads nest shallowly).
fn walk(value: &Value, found: &mut Found, depth: usize) {
    let Value::Object(map) = value else {
        if let Value::Array(items) = value
            && depth < 4
        {
            for item in items {
                walk(item, found, depth + 1);
            }
        }
        return;
    };
    for (key, value) in map {
        let key = key.to_ascii_lowercase();
        if found.agent.is_none() && AGENT_KEYS.contains(&key.as_str()) {
            found.agent = value.as_str().map(str::to_owned);
        } else if found.verdict.is_none() && VERDICT_KEYS.contains(&key.as_str()) {
            found.verdict = match value {
                Value::Bool(b) => Some(b.to_string()),
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
        } else if found.headers.is_none()
            && HEADER_KEYS.contains(&key.as_str())
            && let Value::Object(headers) = value
        {
            found.headers = Some(
                headers
                    .iter()
                    .map(|(n, v)| {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            Value::Array(a) => a
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", "),
                            other => other.to_string(),
                        };
                        (n.to_ascii_lowercase(), text)
                    })
                    .collect(),
            );
            if found.agent.is_none()
                && let Some(Value::String(agent)) = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
                    .map(|(_, v)| v)
            {
                found.agent = Some(agent.clone());
            }
        } else if depth < 4 {
            walk(value, found, depth + 1);
        }
    }
}

/// Counts, for touches in time order, how many earlier clicks of the same link by the same
/// visitor fell within the burst window before each one: the burst signal. Memory stays
/// bounded: every few thousand clicks, keys whose latest click is older than the window before
/// the latest click seen are forgotten (so clicks far out of time order may miss a burst; a
/// re-classification, which reads in time order, counts them exactly).
#[derive(Default)]
pub struct BurstCounter {
    /// Click times by pair, keyed by the visitor's length, the visitor and the link in one string
    /// (unambiguous whatever they hold), built in `key` so that finding a known pair allocates
    /// nothing.
    recent: rustc_hash::FxHashMap<String, Vec<i64>>,
    latest_ms: i64,
    since_pruned: u32,
    key: String,
}

impl BurstCounter {
    /// How many clicks between prunings.
    const PRUNE_EVERY: u32 = 4096;

    /// Records a click at `at_ms` by `visitor` on `link` and answers how many earlier ones of
    /// the same pair were within `window_ms` before it.
    pub fn observe(&mut self, visitor: &str, link: &str, at_ms: i64, window_ms: i64) -> u32 {
        self.latest_ms = self.latest_ms.max(at_ms);
        self.since_pruned += 1;
        if self.since_pruned >= Self::PRUNE_EVERY {
            self.since_pruned = 0;
            let horizon = self.latest_ms - window_ms;
            self.recent
                .retain(|_, times| times.last().is_some_and(|t| *t >= horizon));
        }
        self.key.clear();
        let _ = write!(self.key, "{}:{visitor}{link}", visitor.len());
        let times = match self.recent.get_mut(self.key.as_str()) {
            Some(times) => {
                times.retain(|t| at_ms - *t <= window_ms);
                times
            }
            None => self.recent.entry(self.key.clone()).or_default(),
        };
        let earlier = times.iter().filter(|t| **t <= at_ms).count() as u32;
        times.push(at_ms);
        earlier
    }

    /// How many (visitor, link) pairs are remembered.
    pub fn remembered(&self) -> usize {
        self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_built_in_rules_parse_and_round_trip() {
        let rules = RuleSet::built_in();
        assert_eq!(rules.version, 1);
        assert!(rules.rules.len() >= 10);
        assert_eq!(RuleSet::from_json(&rules.to_json()).unwrap(), rules);
    }

    #[test]
    fn a_link_preview_is_a_bot_of_its_family() {
        let rules = RuleSet::built_in();
        let payload = json!({"click": {"id": "c1", "user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}});
        let signals = payload_signals(&payload, &rules);
        assert_eq!(signals.agent_family.as_deref(), Some("slack-preview"));
        let verdict = rules.classify(&signals);
        assert_eq!(verdict.class, TrafficClass::Bot);
        assert_eq!(verdict.family.as_deref(), Some("slack-preview"));
        assert_eq!(verdict.rule.as_deref(), Some("slack-preview"));
    }

    #[test]
    fn a_browser_click_is_human_and_the_signals_hold_nothing_personal() {
        let rules = RuleSet::built_in();
        let agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
        let payload = json!({"user_agent": agent, "headers": {"Accept": "text/html", "Accept-Language": "en-GB", "User-Agent": agent}});
        let signals = payload_signals(&payload, &rules);
        assert_eq!(rules.classify(&signals), Classification::human());
        let kept = signals.to_json().to_string();
        assert!(!kept.contains("Macintosh"), "{kept}");
        assert_eq!(TrafficSignals::from_json(&signals.to_json()), signals);
    }

    #[test]
    fn a_platform_verdict_a_prefetch_and_missing_headers_each_decide() {
        let rules = RuleSet::built_in();
        let flagged = payload_signals(&json!({"event": {"is_bot": true}}), &rules);
        assert_eq!(rules.classify(&flagged).class, TrafficClass::Bot);
        assert_eq!(
            rules.classify(&flagged).rule.as_deref(),
            Some("platform-bot-flag")
        );
        let not_flagged = payload_signals(&json!({"event": {"is_bot": false}}), &rules);
        assert_eq!(rules.classify(&not_flagged).class, TrafficClass::Human);

        let agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36";
        let prefetch = payload_signals(
            &json!({"headers": {"accept": "*/*", "accept-language": "de", "user-agent": agent, "sec-purpose": "prefetch;prerender"}}),
            &rules,
        );
        assert!(prefetch.prefetch);
        assert_eq!(
            rules.classify(&prefetch).rule.as_deref(),
            Some("prefetch-header")
        );

        let bare = payload_signals(
            &json!({"headers": {"user-agent": agent, "accept": "*/*"}}),
            &rules,
        );
        assert_eq!(
            bare.missing_browser_headers,
            Some(vec!["accept-language".to_owned()])
        );
        assert_eq!(rules.classify(&bare).class, TrafficClass::Suspicious);
    }

    #[test]
    fn an_email_scanner_burst_and_a_click_seconds_after_sending_are_caught() {
        let rules = RuleSet::built_in();
        let window = rules.burst_window_seconds * 1000;
        let mut bursts = BurstCounter::default();
        // A scanner opens every link of a message within a second, several times.
        let counts: Vec<u32> = [0, 200, 450, 900]
            .iter()
            .map(|t| bursts.observe("anon-1", "link-a", 1_000_000 + t, window))
            .collect();
        assert_eq!(counts, vec![0, 1, 2, 3]);
        let mut signals = TrafficSignals {
            agent_present: true,
            earlier_clicks_in_burst: 2,
            ..TrafficSignals::default()
        };
        assert_eq!(
            rules.classify(&signals).rule.as_deref(),
            Some("click-burst")
        );
        // A click 3 s after the e-mail went out.
        signals.earlier_clicks_in_burst = 0;
        signals.seconds_after_carrier = Some(3);
        assert_eq!(rules.classify(&signals).class, TrafficClass::Suspicious);
        assert_eq!(
            rules.classify(&signals).rule.as_deref(),
            Some("click-seconds-after-send")
        );
        // Minutes later is a person reading their mail.
        signals.seconds_after_carrier = Some(600);
        assert_eq!(rules.classify(&signals).class, TrafficClass::Human);
        // The burst window forgets old clicks, and memory stays bounded over many visitors.
        assert_eq!(
            bursts.observe("anon-1", "link-a", 1_000_000 + 900 + window + 1, window),
            0
        );
        for i in 0..100_000i64 {
            bursts.observe(&format!("v{i}"), "link-b", 2_000_000 + i * 1000, window);
        }
        assert!(bursts.remembered() < 5_000, "{}", bursts.remembered());
    }

    #[test]
    fn a_bad_rule_set_names_the_rule_and_the_field() {
        let text = r#"{"version": 2, "burst_window_seconds": 10, "rules": [
            {"id": "a", "test": "prefetch", "class": "bot", "score": 0.9, "description": "d", "source": "s"},
            {"id": "b", "test": "agent_family", "family": "x", "class": "bot", "score": 0.9, "description": "d", "source": "s"}]}"#;
        let err = RuleSet::from_json(text).unwrap_err();
        assert_eq!(err, "rule 2 (`b`): field `contains_any`: a list of text");
        let err = RuleSet::from_json(&text.replace(
            "\"bot\", \"score\": 0.9, \"description\": \"d\", \"source\": \"s\"}]",
            "\"person\", \"score\": 0.9, \"description\": \"d\", \"source\": \"s\"}]",
        ))
        .unwrap_err();
        assert!(err.starts_with("rule 2 (`b`): field `c"), "{err}");
    }

    #[test]
    fn a_disabled_rule_decides_nothing_and_a_stored_set_without_the_flag_reads_enabled() {
        let mut rules = RuleSet::built_in();
        assert!(rules.rules.iter().all(|r| r.enabled));
        assert!(!BUILT_IN_RULES_JSON.contains("\"enabled\""));
        let signals = TrafficSignals {
            agent_family: Some("slack-preview".to_owned()),
            agent_present: true,
            ..TrafficSignals::default()
        };
        let slack = rules
            .rules
            .iter_mut()
            .find(|r| r.id == "slack-preview")
            .unwrap();
        slack.enabled = false;
        assert_eq!(rules.classify(&signals), Classification::human());
        // Still read into its family, so enabling it again re-classifies the past.
        assert_eq!(
            rules.agent_family("Slackbot-LinkExpanding 1.0"),
            Some("slack-preview")
        );
        let text = rules.to_json();
        assert!(text.contains("\"enabled\": false"), "{text}");
        assert_eq!(RuleSet::from_json(&text).unwrap(), rules);
        // A rule may also say what it matches is a person's: it stops the rules after it.
        let slack = rules
            .rules
            .iter_mut()
            .find(|r| r.id == "slack-preview")
            .unwrap();
        slack.enabled = true;
        slack.class = TrafficClass::Human;
        let verdict = rules.classify(&signals);
        assert_eq!(verdict.class, TrafficClass::Human);
        assert_eq!(verdict.rule.as_deref(), Some("slack-preview"));
    }

    #[test]
    fn a_scanner_sweep_needs_the_visitors_whole_quiet_activity() {
        let rules = RuleSet::built_in();
        assert_eq!(rules.reads_visitor_sweep(), Some((10, 2)));
        let sweep = VisitorSweep {
            touches: 4,
            span_seconds: 6,
            carriers: 1,
            quiet_seconds: 8 * 86_400,
            ordered: false,
        };
        let mut signals = TrafficSignals {
            agent_present: true,
            visitor_sweep: Some(sweep),
            ..TrafficSignals::default()
        };
        let verdict = rules.classify(&signals);
        assert_eq!(verdict.rule.as_deref(), Some("scanner-sweep"));
        assert_eq!(verdict.class, TrafficClass::Suspicious);
        // Each condition on its own keeps the visitor a person.
        for other in [
            VisitorSweep {
                touches: 1,
                ..sweep
            },
            VisitorSweep {
                span_seconds: 11,
                ..sweep
            },
            VisitorSweep {
                carriers: 2,
                ..sweep
            },
            VisitorSweep {
                quiet_seconds: 6 * 86_400,
                ..sweep
            },
            VisitorSweep {
                ordered: true,
                ..sweep
            },
        ] {
            signals.visitor_sweep = Some(other);
            assert_eq!(
                rules.classify(&signals),
                Classification::human(),
                "{other:?}"
            );
        }
        // At ingest the sweep is unknown: nothing matches.
        signals.visitor_sweep = None;
        assert_eq!(rules.classify(&signals), Classification::human());
    }
}
