//! "Needs reconnecting" as a user meets it in the CLI, against the Meta mock: `source add`
//! shows the token's expiry and refuses a token without `ads_read`; when Meta starts refusing
//! the token (error 190), `sync` says the source needs reconnecting and names the command,
//! `lookback health` (table and JSON) and `export health` say `needs_reconnecting`, and
//! nothing stored changes; `source reconnect` with a token Meta refuses replaces nothing, and
//! with a new one replaces the keyring entry, keeps the source's data and checkpoints, and
//! ends the state; the next sync uses the new token.
//!
//! Needs the `lookback` binary (`cargo build -p lookback`) and a D-Bus session with an
//! unlocked gnome-keyring (`.ci/test` provides both).

use std::process::Output;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lookback_tests::TestHome;
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::{AdLedger, day_text};
use lookback_tests::mock::harness::{count, file_contains};
use lookback_tests::mock::meta::{MetaApi, TokenFacts};

const TOKEN: &str = "EAAGcliReconnectToken31d";
const NEW_TOKEN: &str = "EAAGcliNewSystemUser8e0a";

fn text(output: &Output) -> String {
    lookback_tests::output_text(output)
}

/// The stored rows a refusal must leave alone, as one comparable value.
fn stored(path: &std::path::Path) -> [i64; 4] {
    [
        count(path, "raw_events"),
        count(path, "ad_spend"),
        count(path, "sync_checkpoints"),
        count(path, "dead_letters"),
    ]
}

fn health_json(home: &TestHome, db: &str) -> serde_json::Value {
    let out = home.lookback_ok(&["--db", db, "health", "--format", "json"]);
    serde_json::from_str::<serde_json::Value>(&out).expect("health JSON")[0].clone()
}

#[test]
fn a_refused_meta_token_needs_reconnecting_until_source_reconnect_replaces_it() {
    let today = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 86_400;
    let ledger = AdLedger::generate(
        &day_text(today - 60),
        &day_text(today),
        &[("c1", "101"), ("c2", "201")],
        10_000,
    );
    let api = Arc::new(MetaApi::new(TOKEN, "1234567", "USD", "UTC", ledger));
    api.polls_before_complete(0);
    let server = MockServer::start(api.clone());
    let base_url = format!("{}/v23.0", server.base_url);
    let home = TestHome::new();
    let path = home.path("w.lookback");
    let db = path.to_str().unwrap();
    home.lookback_ok(&["--db", db, "init"]);
    let add = |name: &str, token: &str| {
        home.lookback_with_stdin(
            &[
                "--db",
                db,
                "source",
                "add",
                "meta",
                "--name",
                name,
                "--base-url",
                &base_url,
                "--account",
                "act_1234567",
            ],
            token,
        )
    };

    // A token without ads_read is refused at `source add`, and nothing is kept.
    api.token_facts(TokenFacts {
        scopes: vec!["pages_show_list".to_owned()],
        ..TokenFacts::default()
    });
    let refused = add("noread", TOKEN);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("lacks the ads_read permission"),
        "{}",
        text(&refused)
    );
    assert!(
        !home
            .lookback_ok(&["--db", db, "source", "list"])
            .contains("noread")
    );

    // A System User token: added, and its expiry shown.
    api.token_facts(TokenFacts::default());
    let added = add("ads", TOKEN);
    assert!(added.status.success(), "{}", text(&added));
    assert!(
        text(&added).contains("ads: SYSTEM_USER token, never expires; permissions: ads_read"),
        "{}",
        text(&added)
    );
    let synced = home.lookback(&["--db", db, "sync", "ads"]);
    assert!(synced.status.success(), "{}", text(&synced));
    let before = stored(&path);
    assert!(before[0] > 0 && before[2] == 1, "{before:?}");
    assert_eq!(health_json(&home, db)["credential_expiry"], "never");
    let tested = home.lookback_ok(&["--db", db, "source", "test", "ads"]);
    assert!(
        tested.contains("accepted the credential")
            && tested.contains("ads: SYSTEM_USER token, never expires"),
        "{tested}"
    );

    // Meta refuses the token (it expired): the sync says what to do, never "failing".
    api.refuse_token(463);
    let failed = home.lookback(&["--db", db, "sync", "ads"]);
    assert!(!failed.status.success());
    let message = String::from_utf8_lossy(&failed.stderr).into_owned();
    assert!(
        message.contains("190/463")
            && message
                .contains("the source needs reconnecting: run `lookback source reconnect ads`"),
        "{message}"
    );
    let test_refused = home.lookback(&["--db", db, "source", "test", "ads"]);
    assert!(!test_refused.status.success());
    assert!(
        text(&test_refused).contains("lookback source reconnect ads"),
        "{}",
        text(&test_refused)
    );
    let health = health_json(&home, db);
    assert_eq!(health["state"], "needs_reconnecting", "{health}");
    assert_eq!(
        health["action"], "lookback source reconnect ads",
        "{health}"
    );
    let table = home.lookback_ok(&["--db", db, "health"]);
    assert!(
        table.contains("needs_reconnecting")
            && table.contains("run `lookback source reconnect ads`"),
        "{table}"
    );
    let csv = home.path("health.csv");
    home.lookback_ok(&[
        "--db",
        db,
        "export",
        "health",
        "--out",
        csv.to_str().unwrap(),
    ]);
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert!(csv_text.contains(",needs_reconnecting,"), "{csv_text}");
    assert_eq!(stored(&path), before, "a refusal touches nothing stored");

    // Reconnecting with a token Meta also refuses replaces nothing.
    let still_refused =
        home.lookback_with_stdin(&["--db", db, "source", "reconnect", "ads"], "EAAGnotAToken");
    assert!(!still_refused.status.success(), "{}", text(&still_refused));
    assert_eq!(health_json(&home, db)["state"], "needs_reconnecting");

    // A new System User token: the source, its data and checkpoints stay; the state ends.
    api.accept_new_token(NEW_TOKEN);
    let reconnected =
        home.lookback_with_stdin(&["--db", db, "source", "reconnect", "ads"], NEW_TOKEN);
    assert!(reconnected.status.success(), "{}", text(&reconnected));
    assert!(
        text(&reconnected).contains("reconnected source ads (meta)"),
        "{}",
        text(&reconnected)
    );
    assert_eq!(
        stored(&path),
        before,
        "the reconnect touches nothing stored"
    );
    let health = health_json(&home, db);
    assert_eq!(health["state"], "ok", "{health}");
    assert_eq!(health["needs_reconnect_since_ms"], serde_json::Value::Null);

    // The next sync reads the keyring's new token and resumes from the checkpoint.
    server.clear_requests();
    let resumed = home.lookback(&["--db", db, "sync", "ads"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.query("access_token") == Some(NEW_TOKEN)),
        "every request carries the new token"
    );
    assert!(
        requests.iter().all(|r| r.method == "GET"),
        "no backfill job: the sync went on from its checkpoint"
    );
    for secret in [TOKEN, NEW_TOKEN] {
        assert!(!file_contains(&path, secret));
        assert!(!text(&reconnected).contains(secret));
        assert!(!message.contains(secret));
    }
    home.lookback_ok(&["--db", db, "source", "remove", "ads"]);
}
