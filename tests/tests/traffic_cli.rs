//! `lookback traffic` end to end through the binary (issue 15): a touch file with link previews,
//! a scanner and people imports with each touch classified, the summary says how much of each
//! channel is not a person's, and a changed rule set — printed, edited, adopted with a reason —
//! re-classifies exactly the touches it changes and is logged with who and why.

use lookback_tests::{TestHome, open_sqlite, query_i64};

const TOUCHES: &str = "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent\n\
    e1,2026-05-01T10:00:00Z,email,r1,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)\n\
    e2,2026-05-01T10:00:01Z,email,r2,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)\n\
    e3,2026-05-01T11:30:00Z,email,r3,news-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148\n\
    e4,2026-05-01T12:00:00Z,email,r4,news-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148\n\
    s1,2026-05-02T09:00:00Z,social,r5,post-1,facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)\n\
    s2,2026-05-02T09:30:00Z,social,r6,post-1,Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36\n";

#[test]
fn traffic_is_summarized_per_channel_and_a_rule_change_reclassifies_and_is_logged() {
    let home = TestHome::new();
    let db = home.path("t.lookback");
    let db = db.to_str().unwrap();
    home.lookback_ok(&["--db", db, "init", "--name", "Traffic"]);
    let csv = home.path("touches.csv");
    std::fs::write(&csv, TOUCHES).unwrap();
    home.lookback_ok(&["--db", db, "import", "touches", csv.to_str().unwrap()]);
    // Before any run, nothing is credited.
    let summary = home.lookback_ok(&["--db", db, "traffic", "summary", "--format", "csv"]);
    assert_eq!(
        summary,
        "source,channel,touches,human,suspicious,bot,not_human_share,top_family,credited_human,credited_suspicious,credited_bot,currency\n\
         csv,email,4,2,0,2,0.500000,chat-preview,0.00,0.00,0.00,USD\n\
         csv,social,2,1,0,1,0.500000,facebook-preview,0.00,0.00,0.00,USD\n"
    );
    // Two orders: one whose last touch was a chat preview, one a person's click.
    let orders = home.path("orders.csv");
    std::fs::write(
        &orders,
        "order_id,occurred_at,amount,currency,anonymous_id\n\
         o1,2026-05-01T13:00:00Z,50.00,USD,r1\n\
         o2,2026-05-01T14:00:00Z,20.00,USD,r3\n",
    )
    .unwrap();
    home.lookback_ok(&["--db", db, "import", "orders", orders.to_str().unwrap()]);
    // Every touch, so the bots' credit shows (by default bot touches are credited nothing).
    home.lookback_ok(&["--db", db, "report", "credits", "--touches", "all"]);
    let summary = home.lookback_ok(&["--db", db, "traffic", "summary", "--format", "csv"]);
    assert!(
        summary.contains("\ncsv,email,4,2,0,2,0.500000,chat-preview,20.00,0.00,50.00,USD\n"),
        "{summary}"
    );
    let table = home.lookback_ok(&["--db", db, "traffic", "summary"]);
    assert!(
        table.contains("traffic classes under rule set version 1"),
        "{table}"
    );
    assert!(table.contains("50.0 %"), "{table}");

    // Chat previews become suspicious: printed, edited, adopted with a reason.
    let rules = home.lookback_ok(&["--db", db, "traffic", "rules"]);
    let mut value: serde_json::Value = serde_json::from_str(&rules).unwrap();
    for rule in value["rules"].as_array_mut().unwrap() {
        if rule["id"] == "chat-preview" {
            rule["class"] = "suspicious".into();
        }
    }
    let edited = home.path("rules.json");
    std::fs::write(&edited, value.to_string()).unwrap();
    let refused = home.lookback(&["--db", db, "traffic", "set-rules", edited.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reason"));
    let changed = home.lookback_ok(&[
        "--db",
        db,
        "traffic",
        "set-rules",
        edited.to_str().unwrap(),
        "--reason",
        "Discord previews come from readers' own apps",
        "--as",
        "maria",
    ]);
    assert!(
        changed.contains("from version 1 to 2 (6 touches re-classified)"),
        "{changed}"
    );
    assert!(changed.contains("2 bot → suspicious"), "{changed}");
    let conn = open_sqlite(&home.path("t.lookback"));
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM touches WHERE traffic_class = 1"
        ),
        2
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM touches WHERE traffic_class = 2"
        ),
        1
    );

    let log = home.lookback_ok(&["--db", db, "traffic", "log"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].starts_with("v1 from the start by Lookback"),
        "{log}"
    );
    assert!(
        lines[1].starts_with("v2 ")
            && lines[1].contains("by maria — Discord previews come from readers' own apps"),
        "{log}"
    );
    assert_eq!(
        home.lookback_ok(&["--db", db, "traffic", "rules", "--version", "1"]),
        lookback_core::traffic::RuleSet::built_in().to_json()
    );

    // The model log shows the change of rules like a change of model, in words.
    let model_log: serde_json::Value =
        serde_json::from_str(&home.lookback_ok(&["--db", db, "model", "log", "--format", "json"]))
            .unwrap();
    let entries = model_log.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{model_log}");
    assert_eq!(entries[0]["kind"], "traffic_rules");
    assert_eq!(entries[0]["from_rules_version"], 1);
    assert_eq!(entries[0]["to_rules_version"], 2);
    assert_eq!(entries[0]["changed_by"], "maria");
    assert_eq!(
        entries[0]["in_words"],
        "Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot"
    );
    let table = home.lookback_ok(&["--db", db, "model", "log"]);
    assert!(
        table.ends_with(
            "by maria: Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot — Discord previews come from readers' own apps\n"
        ),
        "{table}"
    );
    let csv = home.lookback_ok(&["--db", db, "model", "log", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "change_id,changed_at,changed_by,from_model,to_model,parameters_before,parameters_after,reason,kind"
    );
    assert!(
        lines[1].starts_with(",20") && lines[1].ends_with(",maria,traffic-rules-v1,traffic-rules-v2,,rule chat-preview now suspicious instead of bot,Discord previews come from readers' own apps,traffic_rules"),
        "{csv}"
    );
    // Running the rules in force again adds no version; here nothing moves.
    let again = home.lookback_ok(&["--db", db, "traffic", "reclassify"]);
    assert_eq!(
        again,
        "6 touches re-classified under rule set version 2\n  no touch changed class\n"
    );

    // A broken rules file is refused, naming the file and the rule.
    std::fs::write(&edited, r#"{"version": 3, "burst_window_seconds": 10, "rules": [{"id": "x", "test": "nope", "class": "bot", "score": 1, "description": "d", "source": "s"}]}"#).unwrap();
    let bad = home.lookback(&[
        "--db",
        db,
        "traffic",
        "set-rules",
        edited.to_str().unwrap(),
        "--reason",
        "try",
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("rules.json") && err.contains("rule 1 (`x`): field `test`"),
        "{err}"
    );
}

#[test]
fn readme_documents_every_traffic_rule_with_its_class_and_source() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let rules = lookback_core::traffic::RuleSet::built_in();
    for (i, rule) in rules.rules.iter().enumerate() {
        let row = format!(
            "| {} | `{}` | {} ({}) |",
            i + 1,
            rule.id,
            rule.class.as_str(),
            rule.score
        );
        let line = readme
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("README has no row starting {row}"));
        assert!(
            line.contains(&rule.source),
            "README's row of {} names another source",
            rule.id
        );
        assert!(
            line.contains(&rule.description),
            "README's row of {} describes it otherwise",
            rule.id
        );
    }
}
