//! The log file a user can send us: `lookback logs --path` names a directory under the data
//! directory (no workspace needed); the commands a user runs leave lines there (start, command
//! names, syncs per source with counts, failures); and no secret, email or the API's address
//! ever reaches it, searched byte for byte as the store is in `sync_cli.rs`.
//!
//! Needs the `lookback` binary (built by `cargo build --workspace`) and a D-Bus session with an
//! unlocked gnome-keyring (`.ci/test` provides both).

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use lookback_tests::TestHome;
use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;

const SECRET: &str = "sk_test_LOGCANARY_6f1d2a9c";
const WRONG: &str = "sk_test_LOGCANARY_WRONG_0b7e";
const EMAIL: &str = "canary.logs@example.com";
/// The email of the mock's conversion `e7`.
const KNOWN_EMAIL: &str = "person7@example.com";

fn text(output: &Output) -> String {
    lookback_tests::output_text(output)
}

/// Every log file's bytes, by file.
fn log_files(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .expect("the log directory exists")
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn logs_name_the_commands_and_syncs_but_never_a_secret_or_an_email() {
    let home = TestHome::new();

    // `logs --path` needs no workspace and names a directory in this home's data directory.
    let printed = home.lookback_ok(&["logs", "--path"]);
    let dir = PathBuf::from(printed.trim());
    assert_eq!(
        dir,
        home.data_home().join("lookback").join("logs"),
        "{printed}"
    );

    let api = Arc::new(GenericApi::new(SECRET, 40));
    let server = MockServer::start(api);
    let db = home.path("w.lookback");
    let db = db.to_str().unwrap();
    home.lookback_ok(&["--db", db, "init"]);
    for (name, secret) in [("gen", SECRET), ("bad", WRONG)] {
        let added = home.lookback_with_stdin(
            &[
                "--db",
                db,
                "source",
                "add",
                "generic",
                "--name",
                name,
                "--base-url",
                &server.base_url,
            ],
            &format!("{secret}\n"),
        );
        assert!(added.status.success(), "{}", text(&added));
    }
    let synced = home.lookback(&["--db", db, "sync", "gen"]);
    assert!(synced.status.success(), "{}", text(&synced));
    // A refused credential fails the command: its error is logged, the secret is not.
    let refused = home.lookback(&["--db", db, "source", "test", "bad"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    let refused = home.lookback(&["--db", db, "sync", "bad"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    // Erasing a person the workspace holds (from the mock's conversions), and one it does not:
    // the failure is logged, the email is not.
    let erased = home.lookback(&["--db", db, "privacy", "erase", "--email", KNOWN_EMAIL]);
    assert!(erased.status.success(), "{}", text(&erased));
    let unknown = home.lookback(&["--db", db, "privacy", "erase", "--email", EMAIL]);
    assert!(!unknown.status.success(), "{}", text(&unknown));

    let files = log_files(&dir);
    assert!(!files.is_empty(), "no log file in {}", dir.display());
    assert!(
        files.iter().all(|(_, bytes)| !bytes.is_empty()),
        "an empty log file"
    );
    let all: Vec<u8> = files.iter().flat_map(|(_, b)| b.clone()).collect();
    let log = String::from_utf8_lossy(&all);
    for expected in [
        "Lookback started",
        "component=\"logs\"",
        "component=\"init\"",
        "component=\"source add\"",
        "component=\"sync\"",
        "component=\"privacy erase\"",
        "sync started",
        "sync finished",
        "new=40",
        "command failed",
        "refused the credential",
        "nothing was erased",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    for (path, bytes) in &files {
        for secret in [
            SECRET,
            WRONG,
            "LOGCANARY",
            EMAIL,
            "@example.com",
            "127.0.0.1",
        ] {
            assert!(
                !contains(bytes, secret),
                "{} holds {secret:?}:\n{}",
                path.display(),
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
