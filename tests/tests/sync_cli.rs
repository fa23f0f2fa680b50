//! `lookback source …` and `lookback sync` as a user runs them, against a loopback mock of the
//! generic API: the secret goes from stdin to the OS keyring and nowhere else (not the workspace
//! file, not stdout/stderr, not error text); a refused token gives a clear message; Google Ads'
//! second secret, the developer token, is read from a second line of stdin and sent as its
//! header. (A sync process SIGKILLed mid-way is tested for every connector in
//! `sync_kill_resume.rs`.)
//!
//! Needs the `lookback` binary (built by `cargo build --workspace`) and a D-Bus session with an
//! unlocked gnome-keyring (`.ci/test` provides both).

use std::process::{Command, Output};
use std::sync::Arc;

use lookback_tests::TestHome;
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::google_ads::GoogleAdsApi;
use lookback_tests::mock::harness::{count, file_contains};

const TOKEN: &str = "cli-secret-token-93c1d0e7a4";
const WRONG: &str = "cli-wrong-token-5be88f01";

fn text(output: &Output) -> String {
    lookback_tests::output_text(output)
}

#[test]
fn the_secret_lives_in_the_keyring_only_and_a_refused_token_is_explained() {
    let api = Arc::new(GenericApi::new(TOKEN, 120));
    let server = MockServer::start(api);
    let home = TestHome::new();
    let db = home.path("w.lookback");
    let db = db.to_str().unwrap();
    let mut printed = String::new();
    home.lookback_ok(&["--db", db, "init"]);

    let added = home.lookback_with_stdin(
        &[
            "--db",
            db,
            "source",
            "add",
            "generic",
            "--name",
            "gen",
            "--base-url",
            &server.base_url,
        ],
        &format!("{TOKEN}\n"),
    );
    assert!(added.status.success(), "{}", text(&added));
    printed += &text(&added);
    let wrong = home.lookback_with_stdin(
        &[
            "--db",
            db,
            "source",
            "add",
            "generic",
            "--name",
            "bad",
            "--base-url",
            &server.base_url,
        ],
        WRONG,
    );
    assert!(wrong.status.success(), "{}", text(&wrong));
    printed += &text(&wrong);

    let list = home.lookback_ok(&["--db", db, "source", "list"]);
    assert!(
        list.contains("gen\tgeneric\t") && list.contains("bad\tgeneric\t"),
        "{list}"
    );
    printed += &list;

    let tested = home.lookback(&["--db", db, "source", "test", "gen"]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(
        text(&tested).contains("accepted the credential (HTTP 200"),
        "{}",
        text(&tested)
    );
    printed += &text(&tested);
    let refused = home.lookback(&["--db", db, "source", "test", "bad"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        message.contains("bad: the generic API refused the credential (HTTP 401)"),
        "{message}"
    );
    assert!(
        message.contains("needs reconnecting: run `lookback source reconnect bad`"),
        "{message}"
    );
    printed += &text(&refused);

    let synced = home.lookback(&["--db", db, "sync", "gen"]);
    assert!(synced.status.success(), "{}", text(&synced));
    assert!(
        String::from_utf8_lossy(&synced.stdout).contains("gen/events: 120 new, 0 unchanged"),
        "{}",
        text(&synced)
    );
    assert!(
        String::from_utf8_lossy(&synced.stderr).contains("gen/events: 1 pages, 120 records"),
        "{}",
        text(&synced)
    );
    printed += &text(&synced);
    let all = home.lookback(&["--db", db, "sync"]);
    assert!(!all.status.success(), "the refused source fails the run");
    // The good source resumed from its cursor: nothing new, nothing re-read.
    assert!(
        String::from_utf8_lossy(&all.stdout).contains("gen/events: 0 new, 0 unchanged"),
        "{}",
        text(&all)
    );
    assert!(
        String::from_utf8_lossy(&all.stderr).contains("1 of 2 sources failed: bad"),
        "{}",
        text(&all)
    );
    printed += &text(&all);
    let list = home.lookback_ok(&["--db", db, "source", "list"]);
    assert!(
        list.contains("last error: bad: the generic API refused the credential"),
        "{list}"
    );
    printed += &list;

    let credential_ref: String = rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT credential_ref FROM sources WHERE name = 'gen'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let keyring_lookup = |username: &str| {
        Command::new("secret-tool")
            .args(["lookup", "service", "lookback", "username", username])
            .output()
            .ok()
            .map(|o| text(&o))
    };
    if let Some(found) = keyring_lookup(&credential_ref) {
        assert_eq!(
            found.trim(),
            TOKEN,
            "secret-tool sees the stored secret under the source's credential_ref"
        );
    }
    let removed = home.lookback(&["--db", db, "source", "remove", "gen"]);
    assert!(removed.status.success(), "{}", text(&removed));
    printed += &text(&removed);
    assert!(
        !home
            .lookback_ok(&["--db", db, "source", "list"])
            .contains("gen\t")
    );
    assert_eq!(
        count(std::path::Path::new(db), "raw_events"),
        120,
        "removing a source keeps its data"
    );
    if let Some(found) = keyring_lookup(&credential_ref) {
        assert!(
            !found.contains(TOKEN),
            "the removed source's secret is still in the keyring"
        );
    }

    for secret in [TOKEN, WRONG] {
        assert!(
            !printed.contains(secret),
            "a secret was printed:\n{printed}"
        );
        assert!(
            !file_contains(std::path::Path::new(db), secret),
            "a secret reached the workspace file"
        );
    }
    home.lookback_ok(&["--db", db, "source", "remove", "bad"]);
}

#[test]
fn google_ads_takes_the_developer_token_on_a_second_line_and_keeps_both_out_of_sight() {
    const ACCESS: &str = "ya29.cliAccessToken_6b1e";
    const DEVELOPER: &str = "cliDevToken_0c77d2";
    let ledger = AdLedger::generate("2026-01-01", "2026-01-10", &[("1", "11")], 10_000);
    let api = Arc::new(
        GoogleAdsApi::new(ACCESS, "1234567890", "USD", "UTC", ledger)
            .requiring_developer_token(DEVELOPER),
    );
    let server = MockServer::start(api);
    let home = TestHome::new();
    let db = home.path("g.lookback");
    let db = db.to_str().unwrap();
    let base_url = format!("{}/v21", server.base_url);
    home.lookback_ok(&["--db", db, "init"]);
    let add = |name: &str, stdin: &str| {
        home.lookback_with_stdin(
            &[
                "--db",
                db,
                "source",
                "add",
                "google_ads",
                "--name",
                name,
                "--base-url",
                &base_url,
                "--account",
                "1234567890",
            ],
            stdin,
        )
    };
    let mut printed = String::new();
    for (name, stdin) in [
        ("both", format!("{ACCESS}\n{DEVELOPER}\n")),
        ("alone", ACCESS.to_owned()),
    ] {
        let added = add(name, &stdin);
        assert!(added.status.success(), "{}", text(&added));
        printed += &text(&added);
    }
    let three_lines = add("three", &format!("{ACCESS}\n{DEVELOPER}\nextra\n"));
    assert!(!three_lines.status.success());
    printed += &text(&three_lines);

    let tested = home.lookback(&["--db", db, "source", "test", "both"]);
    assert!(tested.status.success(), "{}", text(&tested));
    printed += &text(&tested);
    let request = server.requests().pop().expect("a request");
    assert_eq!(request.bearer(), Some(ACCESS));
    assert_eq!(request.header("developer-token"), Some(DEVELOPER));

    let refused = home.lookback(&["--db", db, "source", "test", "alone"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(message.contains("developer token"), "{message}");
    printed += &text(&refused);

    for secret in [ACCESS, DEVELOPER] {
        assert!(
            !printed.contains(secret),
            "a secret was printed:\n{printed}"
        );
        assert!(
            !file_contains(std::path::Path::new(db), secret),
            "a secret reached the workspace file"
        );
    }
    for name in ["both", "alone"] {
        home.lookback_ok(&["--db", db, "source", "remove", name]);
    }
}
