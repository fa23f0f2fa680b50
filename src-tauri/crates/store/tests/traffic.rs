//! Traffic classes as the workspace keeps them (issue 15), against a real SQLite file: a touch
//! classified at ingest from its signals and from the store's timing, the rule set in force and
//! its log, re-classification under a changed rule set moving exactly the touches it should, and
//! erasure taking a touch's classification with it.

use std::path::PathBuf;

use lookback_core::traffic::{RuleSet, RuleTest, TrafficClass, payload_signals};
use lookback_store::*;
use serde_json::json;

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.lookback");
    (dir, path)
}

const HOUR_MS: i64 = 3_600_000;

/// A click by `visitor` on `content` at `at_ms`.
fn click(id: &str, visitor: &str, content: &str, at_ms: i64) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "links".into(),
        occurred_at_ms: at_ms,
        channel: "email".into(),
        touch_type: "click".into(),
        creator_id: None,
        campaign_id: None,
        ad_id: None,
        content_id: Some(content.into()),
        click_id: None,
        identity: IdentityKeys {
            anonymous_id: Some(visitor.into()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

/// Inserts `touches` with their payloads' signals in one transaction, as an ingest path does.
fn ingest(store: &mut Store, touches: &[(Touch, serde_json::Value)]) {
    let mut tx = store.begin().unwrap();
    let mut classifier = TouchClassifier::load(&tx).unwrap();
    for (touch, payload) in touches {
        assert_eq!(tx.insert_touch(touch).unwrap(), InsertOutcome::Inserted);
        let signals = payload_signals(payload, classifier.rules());
        classifier.record(&mut tx, touch, signals).unwrap();
    }
    tx.commit().unwrap();
}

fn class_of(store: &Store, touch_id: &str) -> TrafficClass {
    store.touch_traffic(touch_id).unwrap().unwrap().class
}

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

#[test]
fn a_touch_is_classified_at_ingest_and_keeps_its_rule_family_and_signals_but_no_user_agent() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let (version, rules) = store.traffic_rules().unwrap();
    assert_eq!((version, rules), (1, RuleSet::built_in()));
    ingest(
        &mut store,
        &[
            (
                click("t-preview", "v1", "post-1", 10 * HOUR_MS),
                json!({"user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}),
            ),
            (
                click("t-person", "v2", "post-1", 11 * HOUR_MS),
                json!({"user_agent": BROWSER, "headers": {"accept": "text/html", "accept-language": "en", "user-agent": BROWSER}}),
            ),
            (
                click("t-flagged", "v3", "post-2", 12 * HOUR_MS),
                json!({"click": {"bot": true}}),
            ),
        ],
    );
    let preview = store.touch_traffic("t-preview").unwrap().unwrap();
    assert_eq!(preview.class, TrafficClass::Bot);
    assert_eq!(preview.rule.as_deref(), Some("slack-preview"));
    assert_eq!(preview.family.as_deref(), Some("slack-preview"));
    assert_eq!(class_of(&store, "t-person"), TrafficClass::Human);
    assert_eq!(class_of(&store, "t-flagged"), TrafficClass::Bot);

    let conn = rusqlite::Connection::open(&path).unwrap();
    // The person's click has no classification row; nothing kept names a browser.
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM touch_traffic", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
    let kept: String = conn
        .query_row(
            "SELECT group_concat(signals, ' ') FROM touch_traffic",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!kept.contains("Slackbot-LinkExpanding 1.0"), "{kept}");
    assert!(!kept.contains("Chrome"), "{kept}");

    let counts = store.traffic_counts().unwrap();
    let bots: u64 = counts
        .iter()
        .filter(|c| c.class == TrafficClass::Bot)
        .map(|c| c.touches)
        .sum();
    assert_eq!(bots, 2);
    assert_eq!(
        counts
            .iter()
            .find(|c| c.class == TrafficClass::Bot)
            .unwrap()
            .top_family
            .as_deref(),
        Some("slack-preview")
    );
}

#[test]
fn an_email_scanner_burst_and_a_click_seconds_after_sending_are_caught_from_the_store() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let sent = 20 * HOUR_MS;
    store
        .write(|tx| {
            tx.upsert_content(&Content {
                content_id: "newsletter-42".into(),
                creator_id: None,
                kind: "email".into(),
                title: "November newsletter".into(),
                url: None,
                published_at_ms: Some(sent),
            })
        })
        .unwrap();
    let browser = json!({"user_agent": BROWSER});
    ingest(
        &mut store,
        &[
            // A scanner opens the link three times within a second, 2 s after sending.
            (
                click("s1", "reader-a", "newsletter-42", sent + 2_000),
                browser.clone(),
            ),
            (
                click("s2", "reader-a", "newsletter-42", sent + 2_300),
                browser.clone(),
            ),
            (
                click("s3", "reader-a", "newsletter-42", sent + 2_900),
                browser.clone(),
            ),
            // Another reader clicks twenty minutes later, once.
            (
                click("p1", "reader-b", "newsletter-42", sent + 20 * 60_000),
                browser.clone(),
            ),
        ],
    );
    let first = store.touch_traffic("s1").unwrap().unwrap();
    assert_eq!(first.class, TrafficClass::Suspicious);
    assert_eq!(first.rule.as_deref(), Some("click-seconds-after-send"));
    assert_eq!(
        store.touch_traffic("s3").unwrap().unwrap().rule.as_deref(),
        Some("click-burst")
    );
    assert_eq!(class_of(&store, "s3"), TrafficClass::Bot);
    assert_eq!(class_of(&store, "p1"), TrafficClass::Human);
}

#[test]
fn a_new_rule_set_is_logged_and_reclassifies_exactly_the_touches_it_changes() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    ingest(
        &mut store,
        &[
            (
                click("chat", "v1", "post-1", HOUR_MS),
                json!({"user_agent": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"}),
            ),
            (
                click("slack", "v2", "post-1", 2 * HOUR_MS),
                json!({"user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}),
            ),
            (
                click("person", "v3", "post-1", 3 * HOUR_MS),
                json!({"user_agent": BROWSER}),
            ),
        ],
    );
    assert_eq!(class_of(&store, "chat"), TrafficClass::Bot);
    let watermark_before = store.input_watermark().unwrap();

    // The manager decides chat-app previews are only suspicious (some are people's own apps).
    let mut rules = RuleSet::built_in();
    let chat = rules
        .rules
        .iter_mut()
        .find(|r| r.id == "chat-preview")
        .unwrap();
    assert!(matches!(chat.test, RuleTest::AgentFamily { .. }));
    chat.class = TrafficClass::Suspicious;
    let mut heard = Vec::new();
    let summary = store
        .adopt_traffic_rules(
            &rules,
            "maria@shop",
            "Discord previews are often real readers",
            5 * HOUR_MS,
            &mut |done, all| heard.push((done, all)),
        )
        .unwrap();
    assert_eq!(summary.version, 2);
    assert_eq!(summary.touches, 3);
    assert_eq!(
        summary
            .moved
            .get(&(TrafficClass::Bot, TrafficClass::Suspicious)),
        Some(&1)
    );
    assert_eq!(
        summary.moved.get(&(TrafficClass::Bot, TrafficClass::Bot)),
        Some(&1)
    );
    assert_eq!(
        summary
            .moved
            .get(&(TrafficClass::Human, TrafficClass::Human)),
        Some(&1)
    );
    assert_eq!(heard.last(), Some(&(3, 3)));
    assert_eq!(class_of(&store, "chat"), TrafficClass::Suspicious);
    assert_eq!(class_of(&store, "slack"), TrafficClass::Bot);
    assert_eq!(class_of(&store, "person"), TrafficClass::Human);
    assert_ne!(store.input_watermark().unwrap(), watermark_before);

    let history = store.traffic_rule_history().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].version, 2);
    assert_eq!(history[1].adopted_by, "maria@shop");
    assert_eq!(history[1].adopted_at_ms, Some(5 * HOUR_MS));
    assert_eq!(store.traffic_rules().unwrap().0, 2);

    // A reason is required, and the log refuses to be rewritten.
    assert!(
        store
            .adopt_traffic_rules(&rules, "maria@shop", " ", 6 * HOUR_MS, &mut |_, _| {})
            .is_err()
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert!(conn.execute("DELETE FROM traffic_rule_sets", []).is_err());
    assert!(
        conn.execute("UPDATE traffic_rule_sets SET reason = 'x'", [])
            .is_err()
    );
}

#[test]
fn re_classifying_under_the_rules_in_force_changes_nothing() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    ingest(
        &mut store,
        &[
            (
                click("a", "v1", "p", HOUR_MS),
                json!({"user_agent": "curl/8.5.0"}),
            ),
            (
                click("b", "v2", "p", HOUR_MS),
                json!({"headers": {"user-agent": BROWSER, "accept": "*/*"}}),
            ),
            (
                click("c", "v3", "p", HOUR_MS),
                json!({"user_agent": BROWSER}),
            ),
        ],
    );
    let before: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| store.touch_traffic(id).unwrap().unwrap())
        .collect();
    assert_eq!(before[0].class, TrafficClass::Bot);
    assert_eq!(before[1].class, TrafficClass::Suspicious);
    let summary = store
        .adopt_traffic_rules(
            &RuleSet::built_in(),
            "ops",
            "re-check",
            2 * HOUR_MS,
            &mut |_, _| {},
        )
        .unwrap();
    assert!(
        summary.moved.iter().all(|((from, to), _)| from == to),
        "{summary:?}"
    );
    let after: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| store.touch_traffic(id).unwrap().unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn erasing_a_person_takes_their_touches_classification_with_them() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    ingest(
        &mut store,
        &[(
            click("gone", "erase-me", "p", HOUR_MS),
            json!({"user_agent": "python-requests/2.31"}),
        )],
    );
    erase_anonymous(&mut store, "erase-me", 2 * HOUR_MS);
    assert_eq!(store.touch_traffic("gone").unwrap(), None);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM touch_traffic", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

/// Erases the person of the anonymous id `visitor` at `at_ms`.
fn erase_anonymous(store: &mut Store, visitor: &str, at_ms: i64) {
    let component = store
        .identity_component(&IdentityKey {
            key_type: IdentityKeyType::AnonymousId,
            value: visitor.into(),
        })
        .unwrap();
    store
        .erase_person(&ErasureRequest {
            component: &component,
            extra_terms: Vec::new(),
            requested_key_type: "anonymous_id".into(),
            marker: "m".repeat(64),
            suppression_salt: "5a".repeat(16),
            erased_at_ms: at_ms,
        })
        .unwrap();
}

/// A paid order by `visitor` (by anonymous id) at `at_ms`.
fn order_by(id: &str, visitor: &str, at_ms: i64) -> Order {
    Order {
        order_id: id.into(),
        source: "shop".into(),
        occurred_at_ms: at_ms,
        gross_minor: 5_000,
        currency: "USD".into(),
        status: "paid".into(),
        click_id: None,
        identity: IdentityKeys {
            anonymous_id: Some(visitor.into()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

/// A scanner's sweep — a visitor's only touches, two on one e-mail 2 s apart, then nothing for
/// a week — is unknown at ingest and caught when the rules in force are run again; so are the
/// first two clicks of a burst, whose third the burst rule caught at ingest. A visitor who
/// ordered (under their key, or through one of their click ids), one whose touches spread over
/// two e-mails, one who came back and one still within the week stay people.
#[test]
fn a_scanner_sweep_is_decided_when_the_rules_in_force_run_again() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let browser = json!({"user_agent": BROWSER});
    let t0 = 100 * HOUR_MS;
    let sweep = |visitor: &str, content: &[&str], start: i64| -> Vec<(Touch, serde_json::Value)> {
        content
            .iter()
            .enumerate()
            .map(|(i, content)| {
                let at = start + i as i64 * 2_000;
                (
                    click(&format!("{visitor}-{i}"), visitor, content, at),
                    browser.clone(),
                )
            })
            .collect()
    };
    let mut touches = Vec::new();
    touches.extend(sweep("scanner", &["news-1", "news-1"], t0));
    touches.extend(sweep("burst", &["news-1", "news-1", "news-1"], t0));
    touches.extend(sweep("buyer", &["news-1", "news-1"], t0));
    // Bought under another key, through the click id of one of their touches.
    let mut clicked = sweep("clicked", &["news-1", "news-1"], t0);
    clicked[1].0.click_id = Some("ck-9".into());
    touches.extend(clicked);
    touches.extend(sweep("two-mails", &["news-1", "news-2"], t0));
    touches.extend(sweep("returner", &["news-1", "news-1"], t0));
    touches.push((
        click("returner-back", "returner", "news-1", t0 + 3 * HOUR_MS),
        browser.clone(),
    ));
    touches.extend(sweep(
        "recent",
        &["news-1", "news-1"],
        t0 + 2 * 24 * HOUR_MS,
    ));
    // The latest touch the workspace holds: 8 days after the sweeps.
    touches.push((
        click("later", "someone", "news-9", t0 + 8 * 24 * HOUR_MS),
        browser.clone(),
    ));
    ingest(&mut store, &touches);
    store
        .write(|tx| {
            tx.insert_order(&order_by("o-buyer", "buyer", t0 + HOUR_MS))?;
            tx.insert_order(&Order {
                click_id: Some("ck-9".into()),
                ..order_by("o-click", "checkout-guest", t0 + HOUR_MS)
            })
            .map(|_| ())
        })
        .unwrap();
    let of_class = |store: &Store, class: TrafficClass| -> Vec<String> {
        let mut ids: Vec<String> = touches
            .iter()
            .map(|(t, _)| t.touch_id.clone())
            .filter(|id| class_of(store, id) == class)
            .collect();
        ids.sort();
        ids
    };
    // At ingest nobody's later activity is known: only the burst's third click is caught.
    assert!(of_class(&store, TrafficClass::Suspicious).is_empty());
    assert_eq!(of_class(&store, TrafficClass::Bot), ["burst-2"]);

    let summary = store.reclassify_traffic(&mut |_, _| {}).unwrap();
    assert_eq!(summary.version, 1, "no new version");
    assert_eq!(summary.touches, touches.len() as u64);
    assert_eq!(
        summary.moved[&(TrafficClass::Human, TrafficClass::Suspicious)],
        4
    );
    assert_eq!(
        of_class(&store, TrafficClass::Suspicious),
        ["burst-0", "burst-1", "scanner-0", "scanner-1"]
    );
    assert_eq!(of_class(&store, TrafficClass::Bot), ["burst-2"]);
    let verdict = store.touch_traffic("scanner-1").unwrap().unwrap();
    assert_eq!(verdict.rule.as_deref(), Some("scanner-sweep"));
    assert_eq!(store.traffic_rule_history().unwrap().len(), 1);
    // Run again, nothing moves.
    let again = store.reclassify_traffic(&mut |_, _| {}).unwrap();
    assert!(again.moved.iter().all(|((from, to), _)| from == to));
}

/// The model log reads model changes and traffic rule changes as one list, newest first, each
/// rule change saying in words what changed from the version before.
#[test]
fn the_change_log_interleaves_model_and_traffic_rule_changes_by_time() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let model = |store: &mut Store, at: i64, to: &str| {
        store
            .set_model_with_log(&ModelChangeRequest {
                changed_at_ms: at,
                changed_by: "maya".into(),
                to_model: to.into(),
                parameters_after: "{}".into(),
                reason: format!("try {to}"),
            })
            .unwrap();
    };
    model(&mut store, 10 * HOUR_MS, "linear");
    let mut rules = RuleSet::built_in();
    rules.burst_window_seconds = 20;
    rules
        .rules
        .iter_mut()
        .find(|r| r.id == "chat-preview")
        .unwrap()
        .class = TrafficClass::Suspicious;
    store
        .adopt_traffic_rules(
            &rules,
            "sam",
            "previews are readers",
            20 * HOUR_MS,
            &mut |_, _| {},
        )
        .unwrap();
    model(&mut store, 30 * HOUR_MS, "first-touch");
    rules
        .rules
        .iter_mut()
        .find(|r| r.id == "no-user-agent")
        .unwrap()
        .enabled = false;
    store
        .adopt_traffic_rules(
            &rules,
            "sam",
            "our proxy strips it",
            40 * HOUR_MS,
            &mut |_, _| {},
        )
        .unwrap();

    let log = store.change_log().unwrap();
    let said: Vec<String> = log
        .iter()
        .map(|entry| match entry {
            LoggedChange::Model(c) => format!("{} model {}", c.changed_at_ms / HOUR_MS, c.to_model),
            LoggedChange::TrafficRules(c) => {
                format!(
                    "{} {} ({})",
                    c.changed_at_ms / HOUR_MS,
                    c.in_words(),
                    c.reason
                )
            }
        })
        .collect();
    assert_eq!(
        said,
        [
            "40 Traffic rules v2 → v3: rule no-user-agent disabled (our proxy strips it)",
            "30 model first-touch",
            "20 Traffic rules v1 → v2: burst window 10 s → 20 s; rule chat-preview now suspicious instead of bot (previews are readers)",
            "10 model linear",
        ]
    );
}

/// `touch` from another source and channel.
fn elsewhere(mut touch: Touch) -> Touch {
    touch.source = "ads".into();
    touch.channel = "paid_social".into();
    touch
}

/// Asserts the kept traffic totals equal a recount from the touch rows, and returns them.
fn assert_traffic_totals_exact(store: &Store, after: &str) -> Vec<TrafficTotal> {
    let kept = store.traffic_totals().unwrap();
    assert_eq!(
        kept,
        store.recount_traffic_totals().unwrap(),
        "after {after}"
    );
    kept
}

fn touches_of(totals: &[TrafficTotal], class: TrafficClass) -> u64 {
    totals
        .iter()
        .filter(|t| t.class == class)
        .map(|t| t.touches)
        .sum()
}

#[test]
fn the_traffic_totals_equal_a_recount_after_inserts_reclassification_erasure_and_deletes() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let discord =
        json!({"user_agent": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"});
    let slack = json!({"user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"});
    ingest(
        &mut store,
        &[
            (click("chat-1", "v1", "p1", HOUR_MS), discord.clone()),
            (elsewhere(click("chat-2", "v2", "p1", HOUR_MS)), discord),
            (click("slack-1", "v3", "p2", 2 * HOUR_MS), slack.clone()),
            (click("slack-2", "v4", "p2", 2 * HOUR_MS), slack),
            (
                click("curl", "erase-me", "p3", 3 * HOUR_MS),
                json!({"user_agent": "curl/8.5.0"}),
            ),
            (
                click("headless", "v5", "p3", 3 * HOUR_MS),
                json!({"headers": {"user-agent": BROWSER, "accept": "*/*"}}),
            ),
            (
                click("person", "v6", "p1", 4 * HOUR_MS),
                json!({"user_agent": BROWSER}),
            ),
            (
                elsewhere(click("person-2", "erase-me", "p1", 4 * HOUR_MS)),
                json!({}),
            ),
        ],
    );
    // Touches inserted by a transaction that rolls back count nothing.
    {
        let mut tx = store.begin().unwrap();
        tx.insert_touch(&click("never", "v7", "p1", HOUR_MS))
            .unwrap();
    }
    let kept = assert_traffic_totals_exact(&store, "ingest");
    assert_eq!(kept.iter().map(|t| t.touches).sum::<u64>(), 8);
    assert_eq!(touches_of(&kept, TrafficClass::Bot), 5);
    assert!(
        kept.iter()
            .any(|t| t.family.as_deref() == Some("slack-preview") && t.touches == 2),
        "{kept:?}"
    );

    // A new rule set moves the chat previews to suspicious, the next one back.
    let mut rules = RuleSet::built_in();
    rules
        .rules
        .iter_mut()
        .find(|r| r.id == "chat-preview")
        .unwrap()
        .class = TrafficClass::Suspicious;
    store
        .adopt_traffic_rules(
            &rules,
            "ops",
            "previews are readers",
            5 * HOUR_MS,
            &mut |_, _| {},
        )
        .unwrap();
    let kept = assert_traffic_totals_exact(&store, "a new rule set");
    assert_eq!(touches_of(&kept, TrafficClass::Bot), 3);
    store
        .adopt_traffic_rules(
            &RuleSet::built_in(),
            "ops",
            "back",
            6 * HOUR_MS,
            &mut |_, _| {},
        )
        .unwrap();
    store.reclassify_traffic(&mut |_, _| {}).unwrap();
    let kept = assert_traffic_totals_exact(&store, "re-classification");
    assert_eq!(touches_of(&kept, TrafficClass::Bot), 5);

    // Erasure deletes a person's touches, one classified and one not.
    erase_anonymous(&mut store, "erase-me", 7 * HOUR_MS);
    let kept = assert_traffic_totals_exact(&store, "erasure");
    assert_eq!(kept.iter().map(|t| t.touches).sum::<u64>(), 6);

    // Any other write, from a SQL shell: the triggers keep the totals whatever code writes.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (what, sql) in [
        (
            "a family changed",
            "UPDATE touch_traffic SET family = 'other-bot' WHERE touch_id = 'slack-1'",
        ),
        (
            "a family cleared",
            "UPDATE touch_traffic SET family = NULL WHERE touch_id = 'slack-2'",
        ),
        (
            "a classification row deleted",
            "DELETE FROM touch_traffic WHERE touch_id = 'chat-1'",
        ),
        (
            "a class and channel changed",
            "UPDATE touch_rows SET traffic_class = 1,
                 channel_id = (SELECT channel_id FROM touch_channels WHERE name = 'paid_social')
             WHERE touch_id = 'slack-1'",
        ),
        (
            "a classified touch deleted",
            "DELETE FROM touch_rows WHERE touch_id = 'chat-2'",
        ),
        (
            "a human touch deleted",
            "DELETE FROM touch_rows WHERE touch_id = 'person'",
        ),
    ] {
        conn.execute(sql, []).unwrap();
        assert_traffic_totals_exact(&store, what);
    }
    let kept = store.traffic_totals().unwrap();
    assert_eq!(kept.iter().map(|t| t.touches).sum::<u64>(), 4);
    assert!(
        kept.iter()
            .any(|t| t.family.as_deref() == Some("other-bot")),
        "{kept:?}"
    );
}

#[test]
fn an_older_workspace_gets_its_traffic_totals_from_its_touches_when_it_upgrades() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    ingest(
        &mut store,
        &[
            (
                click("slack", "v1", "p", HOUR_MS),
                json!({"user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}),
            ),
            (
                elsewhere(click("curl", "v2", "p", HOUR_MS)),
                json!({"user_agent": "curl/8.5.0"}),
            ),
            (
                click("person", "v3", "p", HOUR_MS),
                json!({"user_agent": BROWSER}),
            ),
        ],
    );
    let expected = store.recount_traffic_totals().unwrap();
    assert!(expected.iter().any(|t| t.family.is_some()), "{expected:?}");
    drop(store);
    // Back to the schema before 0026 (and so before 0029's touch generations and 0030's credit
    // touch rows).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE credits DROP COLUMN touch_row;
             DROP INDEX touches_by_click; ALTER TABLE touch_rows DROP COLUMN generation;
             DROP TABLE touch_generations;
             CREATE INDEX touches_by_click ON touch_rows (click_id) WHERE click_id IS NOT NULL;
             DROP TRIGGER touch_rows_traffic_total_update; DROP TRIGGER touch_rows_traffic_total_delete;
             DROP TRIGGER touch_traffic_total_insert; DROP TRIGGER touch_traffic_total_update;
             DROP TRIGGER touch_traffic_total_delete;
             DROP TABLE traffic_totals; DROP TABLE run_traffic_credits;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 25).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.traffic_totals().unwrap(), expected);
    assert_traffic_totals_exact(&store, "the upgrade");
}

#[test]
fn a_runs_credit_by_traffic_class_is_kept_once_and_read_back_the_same() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    ingest(
        &mut store,
        &[
            (
                click("bot", "v1", "p", HOUR_MS),
                json!({"user_agent": "curl/8.5.0"}),
            ),
            (
                click("person", "v2", "p", HOUR_MS),
                json!({"user_agent": BROWSER}),
            ),
            (
                elsewhere(click("person-2", "v3", "p", HOUR_MS)),
                json!({"user_agent": BROWSER}),
            ),
        ],
    );
    let run_id = store
        .insert_run(&NewRun {
            model: "linear".into(),
            parameters: "{}".into(),
            lookback_days: 30,
            settlement_days: 14,
            reporting_currency: "USD".into(),
            input_watermark: store.input_watermark().unwrap(),
            started_at_ms: 100,
        })
        .unwrap();
    let credit = |touch_id: &str, revenue_minor: i64| Credit {
        order_id: "o1".into(),
        touch_id: touch_id.into(),
        share_ppb: 333_333_333,
        revenue_minor,
        join_kind: JoinKind::Deterministic,
        confidence_ppm: 1_000_000,
    };
    store
        .insert_credits(
            run_id,
            [
                credit("bot", 300),
                credit("person", 500),
                credit("person-2", 200),
            ],
        )
        .unwrap();
    store
        .finish_run(run_id, RunStatus::Complete, 200, None)
        .unwrap();
    let expected = vec![
        (
            "ads".to_owned(),
            "paid_social".to_owned(),
            TrafficClass::Human,
            200,
        ),
        (
            "links".to_owned(),
            "email".to_owned(),
            TrafficClass::Human,
            500,
        ),
        (
            "links".to_owned(),
            "email".to_owned(),
            TrafficClass::Bot,
            300,
        ),
    ];
    let kept_rows = |path: &PathBuf| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM run_traffic_credits", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(kept_rows(&path), 0);
    assert_eq!(store.credited_by_traffic(run_id).unwrap(), expected);
    assert_eq!(kept_rows(&path), 1);
    // Read back from the kept row: the credits are not read again.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM credits WHERE run_id = ?1", [run_id])
        .unwrap();
    assert_eq!(store.credited_by_traffic(run_id).unwrap(), expected);
    // The kept row goes with its run.
    store.delete_run(run_id).unwrap();
    assert_eq!(kept_rows(&path), 0);
}
