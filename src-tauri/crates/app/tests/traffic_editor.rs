//! The window's traffic rule editor against a real workspace (issue 15): hand-made touches and
//! orders, a run of the workspace model, then a rule's class changed and the rule disabled with
//! a reason — each adopted as the next version, re-classifying exactly the touches the rule
//! matches and moving the credit the traffic table splits by class, and each logged in the model
//! log in words.

use lookback_app::traffic::traffic_summary;
use lookback_app::traffic_editor::{adopt_rule_edits, traffic_rules_view};
use lookback_app::views::model_log;
use lookback_app::wire::{ChangeKind, TrafficClassName, TrafficRuleEdit, TrafficRulesChange};
use lookback_core::traffic::payload_signals;
use lookback_store::{IdentityKeys, Order, Store, Touch, TouchClassifier};
use serde_json::json;

const HOUR_MS: i64 = 3_600_000;
const T0: i64 = 1_780_000_000_000;
const DISCORD: &str = "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)";
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

fn touch(id: &str, visitor: &str, at_ms: i64) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "links".into(),
        occurred_at_ms: at_ms,
        channel: "social".into(),
        touch_type: "click".into(),
        creator_id: None,
        campaign_id: None,
        ad_id: None,
        content_id: Some(format!("post-{id}")),
        click_id: None,
        identity: IdentityKeys {
            anonymous_id: Some(visitor.into()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

fn order(id: &str, visitor: &str, at_ms: i64, gross_minor: i64) -> Order {
    Order {
        order_id: id.into(),
        source: "shop".into(),
        occurred_at_ms: at_ms,
        gross_minor,
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

/// Credited revenue (minor units) to human, suspicious and bot touches, after a fresh run of
/// the workspace model; and touches per class.
fn credited(store: &mut Store, now_ms: i64) -> ([i64; 3], [u64; 3]) {
    // The summary's credit is the workspace model's over every touch, bots included.
    let summary = traffic_summary(store, now_ms).unwrap();
    let mut minor = [0; 3];
    let mut touches = [0; 3];
    for row in &summary.rows {
        for (sum, part) in minor.iter_mut().zip(row.credited_minor) {
            *sum += part;
        }
        touches[0] += row.human;
        touches[1] += row.suspicious;
        touches[2] += row.bot;
    }
    (minor, touches)
}

fn edit(id: &str, enabled: bool, class: TrafficClassName) -> TrafficRuleEdit {
    TrafficRuleEdit {
        id: id.into(),
        enabled,
        class,
        window_seconds: None,
    }
}

#[test]
fn a_rules_class_change_and_a_disabled_rule_reclassify_their_touches_and_move_credit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    // Visitor a: a Discord preview, then their own click, then an order of 100.00 (last touch:
    // the click, a person's). Visitor b: only a Discord preview, then an order of 40.00 (last
    // touch: the preview, a bot's). Visitor c: a person who does not buy.
    let mut tx = store.begin().unwrap();
    let mut classifier = TouchClassifier::load(&tx).unwrap();
    for (t, agent) in [
        (touch("a-preview", "a", T0), DISCORD),
        (touch("a-click", "a", T0 + HOUR_MS), BROWSER),
        (touch("b-preview", "b", T0 + 2 * HOUR_MS), DISCORD),
        (touch("c-click", "c", T0 + 3 * HOUR_MS), BROWSER),
    ] {
        tx.insert_touch(&t).unwrap();
        let signals = payload_signals(&json!({ "user_agent": agent }), classifier.rules());
        classifier.record(&mut tx, &t, signals).unwrap();
    }
    tx.insert_order(&order("o-a", "a", T0 + 5 * HOUR_MS, 10_000))
        .unwrap();
    tx.insert_order(&order("o-b", "b", T0 + 5 * HOUR_MS, 4_000))
        .unwrap();
    tx.commit().unwrap();
    let now = T0 + 24 * HOUR_MS;
    assert_eq!(credited(&mut store, now), ([10_000, 0, 4_000], [2, 0, 2]));

    let view = traffic_rules_view(&store).unwrap();
    assert_eq!(view.version, 1);
    let chat = view.rules.iter().find(|r| r.id == "chat-preview").unwrap();
    assert_eq!(chat.class, TrafficClassName::Bot);
    assert!(chat.matches.contains("discordbot"), "{}", chat.matches);
    let after_send = view
        .rules
        .iter()
        .find(|r| r.id == "click-seconds-after-send")
        .unwrap();
    assert_eq!(after_send.window_seconds, Some(10));

    // Chat previews become suspicious: the two previews move, and the 40.00 with them.
    let adopted = adopt_rule_edits(
        &mut store,
        &TrafficRulesChange {
            burst_window_seconds: 10,
            rules: vec![edit("chat-preview", true, TrafficClassName::Suspicious)],
            reason: "Discord previews often come from readers' own apps".into(),
        },
        Some("maria"),
        now + HOUR_MS,
    )
    .unwrap();
    assert_eq!((adopted.from_version, adopted.to_version), (1, 2));
    assert_eq!(
        adopted.in_words,
        "Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot"
    );
    assert_eq!((adopted.before.bot, adopted.after.bot), (2, 0));
    assert_eq!(
        (adopted.before.suspicious, adopted.after.suspicious),
        (0, 2)
    );
    assert_eq!(adopted.moved.len(), 1);
    assert_eq!(
        (
            adopted.moved[0].from,
            adopted.moved[0].to,
            adopted.moved[0].touches
        ),
        (TrafficClassName::Bot, TrafficClassName::Suspicious, 2)
    );
    assert_eq!(credited(&mut store, now), ([10_000, 4_000, 0], [2, 2, 0]));

    // Disabled, the rule decides nothing: the previews are people's, and so is all the credit.
    let adopted = adopt_rule_edits(
        &mut store,
        &TrafficRulesChange {
            burst_window_seconds: 20,
            rules: vec![edit("chat-preview", false, TrafficClassName::Suspicious)],
            reason: "we cannot tell previews from readers here".into(),
        },
        Some("sam"),
        now + 2 * HOUR_MS,
    )
    .unwrap();
    assert_eq!(
        adopted.in_words,
        "Traffic rules v2 → v3: burst window 10 s → 20 s; rule chat-preview disabled"
    );
    assert_eq!(credited(&mut store, now), ([14_000, 0, 0], [4, 0, 0]));

    // An edit that changes nothing, or without a reason, adopts nothing.
    let same = TrafficRulesChange {
        burst_window_seconds: 20,
        rules: vec![],
        reason: "again".into(),
    };
    let err = adopt_rule_edits(&mut store, &same, None, now).unwrap_err();
    assert!(err.to_string().contains("nothing changed"), "{err}");
    let unexplained = TrafficRulesChange {
        burst_window_seconds: 30,
        rules: vec![],
        reason: " ".into(),
    };
    let err = adopt_rule_edits(&mut store, &unexplained, None, now).unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let no_window = TrafficRulesChange {
        burst_window_seconds: 20,
        rules: vec![TrafficRuleEdit {
            window_seconds: Some(5),
            ..edit("slack-preview", true, TrafficClassName::Bot)
        }],
        reason: "try".into(),
    };
    let err = adopt_rule_edits(&mut store, &no_window, None, now).unwrap_err();
    assert!(err.to_string().contains("no window"), "{err}");

    // The editor's history and the model log both hold the two versions, newest first.
    let view = traffic_rules_view(&store).unwrap();
    assert_eq!(view.version, 3);
    assert_eq!(view.adopted_by, "sam");
    let versions: Vec<(u32, &str)> = view
        .history
        .iter()
        .map(|v| (v.version, v.changes.as_str()))
        .collect();
    assert_eq!(
        versions,
        [
            (3, "burst window 10 s → 20 s; rule chat-preview disabled"),
            (2, "rule chat-preview now suspicious instead of bot"),
            (1, "the built-in rules"),
        ]
    );
    let log = model_log(&store).unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e.kind == ChangeKind::TrafficRules));
    assert_eq!(
        (log[0].from_rules_version, log[0].to_rules_version),
        (Some(2), Some(3))
    );
    assert_eq!(log[0].changed_by, "sam");
    assert_eq!(
        log[1].reason,
        "Discord previews often come from readers' own apps"
    );
}
