//! The CLI's view exports and the window's Export CSV buttons reach the same job: for every
//! table the window can export, `lookback export …` (the built binary) and
//! `lookback_app::jobs::views::export_job` (what the window's `export_csv` command calls) write the
//! same CSV on the same demo workspace — including the comparison with no models named, which
//! both default to the workspace's model and last-touch.

use std::path::Path;
use std::sync::Arc;

use lookback_app::jobs::views::{ExportJob, export_job};
use lookback_app::wire::{ViewBy, ViewRequest};
use lookback_app::{NoEvents, Session};
use lookback_tests::{TestHome, open_sqlite};

/// Set in the child this test re-runs itself as, with its own data home (the window's open
/// remembers the workspace in the recent list, which must not land in the real one).
const CHILD: &str = "LOOKBACK_VIEWS_PAIRING_CHILD";

/// The window's default request: by creator, the workspace's model, every day, no buckets.
fn window_request() -> ViewRequest {
    ViewRequest {
        model: None,
        by: ViewBy::Creator,
        from: None,
        to: None,
        bucket: None,
        settled_only: false,
        basis: None,
        touches: None,
    }
}

/// The CSV's lines, without `#` preamble lines (there are none without `--preamble`).
fn csv(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// One pairing: the window's table `view` (with its models, creator, source), as the UI sends
/// them, and the CLI's arguments after `export`.
struct Pair<'a> {
    view: &'a str,
    models: Option<Vec<String>>,
    creator_id: Option<String>,
    cli: Vec<String>,
}

#[test]
fn every_window_export_writes_the_same_csv_as_the_cli() {
    if std::env::var_os(CHILD).is_none() {
        let home = TestHome::new();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "every_window_export_writes_the_same_csv_as_the_cli",
                "--nocapture",
            ])
            .env(CHILD, home.path("case"))
            .env("XDG_DATA_HOME", home.data_home())
            .env("XDG_CONFIG_HOME", home.path("config"))
            .env("HOME", home.dir.path())
            .output()
            .expect("re-run the test");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the pairing failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let home = TestHome::new();
    let db = home.path("w.lookback");
    let db_arg = db.to_str().unwrap().to_owned();
    home.lookback_ok(&[
        "--db",
        &db_arg,
        "demo",
        "--orders",
        "300",
        "--end",
        "2026-06-30",
    ]);
    let creator: String = open_sqlite(&db)
        .query_row(
            "SELECT creator_id FROM creators ORDER BY creator_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let plain = |view: &'static str| Pair {
        view,
        models: None,
        creator_id: None,
        cli: s(&[view]),
    };
    let pairs = vec![
        plain("roas"),
        plain("cac"),
        plain("cohorts"),
        // No models named in either: both compare the workspace's model with last-touch.
        plain("compare"),
        Pair {
            view: "compare",
            models: Some(vec![]),
            creator_id: None,
            cli: s(&["compare", "--models", ""]),
        },
        Pair {
            view: "compare",
            models: Some(vec!["linear".into(), "first-touch".into()]),
            creator_id: None,
            cli: s(&["compare", "--models", "linear,first-touch"]),
        },
        // The creator screen's orders table, and its content table.
        Pair {
            view: "creator",
            models: None,
            creator_id: Some(creator.clone()),
            cli: s(&["creator", "--creator", &creator, "--table", "orders"]),
        },
        Pair {
            view: "creator-content",
            models: None,
            creator_id: Some(creator.clone()),
            cli: s(&["creator", "--creator", &creator]),
        },
        Pair {
            view: "creator-content",
            models: None,
            creator_id: Some(creator.clone()),
            cli: s(&["creator-content", "--creator", &creator]),
        },
        plain("model-log"),
        plain("reconcile"),
        plain("dead-letters"),
        plain("alert-rules"),
        plain("revenue"),
        plain("sources"),
        plain("health"),
    ];

    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = Session::new(Arc::new(NoEvents));
    lookback_app::jobs::workspace::open_in_session(&session, &db)
        .expect("the window opens the demo");
    for (i, pair) in pairs.into_iter().enumerate() {
        let window_csv = home.path(&format!("window-{i}-{}.csv", pair.view));
        let cli_csv = home.path(&format!("cli-{i}-{}.csv", pair.view));
        let result = rt
            .block_on(export_job(
                &session,
                ExportJob {
                    // Read as Tauri reads the command's arguments: from the strings the UI sends.
                    view: serde_json::from_value(serde_json::json!(pair.view))
                        .unwrap_or_else(|e| panic!("the table {:?}: {e}", pair.view)),
                    request: window_request(),
                    path: window_csv.clone(),
                    models: serde_json::from_value(serde_json::json!(pair.models))
                        .unwrap_or_else(|e| panic!("the models {:?}: {e}", pair.models)),
                    creator_id: pair.creator_id.clone(),
                    source_id: None,
                },
            ))
            .unwrap_or_else(|e| panic!("the window's {} export: {e}", pair.view));
        let mut args = vec!["--db".to_owned(), db_arg.clone(), "export".to_owned()];
        args.extend(pair.cli.iter().cloned());
        args.extend(["--out".to_owned(), cli_csv.to_str().unwrap().to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        home.lookback_ok(&args);
        let (window, cli) = (csv(&window_csv), csv(&cli_csv));
        assert!(!window.is_empty(), "{} has a header", pair.view);
        assert_eq!(
            window,
            cli,
            "the window's {} export equals `lookback export {}`",
            pair.view,
            pair.cli.join(" ")
        );
        assert_eq!(
            usize::try_from(result.rows).unwrap(),
            window.len() - 1,
            "{}: the rows the window reports",
            pair.view
        );
        assert!(
            window_csv.with_extension("csv.json").exists()
                && cli_csv.with_extension("csv.json").exists(),
            "{}: both wrote the provenance sidecar",
            pair.view
        );
    }

    // An unknown table cannot reach the job: the command's arguments are refused when Tauri
    // reads them, naming the value.
    let err =
        serde_json::from_value::<lookback_app::views::ExportTable>(serde_json::json!("nonsense"))
            .unwrap_err();
    assert!(err.to_string().contains("nonsense"), "{err}");
}
