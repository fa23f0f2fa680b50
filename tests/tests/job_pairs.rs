//! Every CLI subcommand and the window action that does the same thing reach one job function
//! of `lookback-app`: the window's command (in `src-tauri/src/commands.rs`) calls a session job
//! which, possibly through the window's thin adapter, calls the shared job; the CLI subcommand
//! calls that same job. Read from the source, so a new path that bypasses the shared job (the
//! way the window and the CLI drifted apart before) fails here. Exports, charts and views are
//! also compared by their output in `views_pairs.rs`.

use std::path::{Path, PathBuf};

use lookback_tests::repo_root;

/// One pair: the CLI file and subcommand, the window command, the chain of functions from the
/// window's session job down to the shared job, and the shared job's name.
struct Pair {
    cli_subcommand: &'static str,
    cli_file: &'static str,
    window_command: &'static str,
    /// Function names from the command's job to the shared job, each calling the next.
    chain: &'static [&'static str],
}

const PAIRS: &[Pair] = &[
    Pair {
        cli_subcommand: "source list",
        cli_file: "cli_sync.rs",
        window_command: "source_list",
        chain: &["source_list_job", "source_rows"],
    },
    Pair {
        cli_subcommand: "alert list",
        cli_file: "cli_realtime.rs",
        window_command: "alert_rules",
        chain: &["alert_rules_job", "alert_rules"],
    },
    Pair {
        cli_subcommand: "listen",
        cli_file: "cli_realtime.rs",
        window_command: "start_listener",
        chain: &["start_listener_job", "start"],
    },
    Pair {
        cli_subcommand: "model set",
        cli_file: "cli_attribution.rs",
        window_command: "set_default_model",
        chain: &["set_default_model_job", "set_default_model", "change_model"],
    },
    Pair {
        cli_subcommand: "model show",
        cli_file: "cli_attribution.rs",
        window_command: "model_catalog",
        chain: &["catalog_job", "model_catalog", "workspace_model"],
    },
    Pair {
        cli_subcommand: "model log",
        cli_file: "cli_attribution.rs",
        window_command: "model_log",
        chain: &["model_log_job", "model_log", "change_log"],
    },
    Pair {
        cli_subcommand: "traffic set-rules",
        cli_file: "cli_traffic.rs",
        window_command: "adopt_traffic_rules",
        chain: &["adopt_traffic_rules_job", "adopt_rule_edits", "adopt_rules"],
    },
    Pair {
        cli_subcommand: "reconcile",
        cli_file: "cli_trust.rs",
        window_command: "reconcile_view",
        chain: &["reconcile_job", "reconcile", "reconcile_report"],
    },
    Pair {
        cli_subcommand: "health",
        cli_file: "cli_trust.rs",
        window_command: "source_list",
        chain: &["source_list_job", "source_rows", "health_states"],
    },
    Pair {
        cli_subcommand: "overview",
        cli_file: "cli.rs",
        window_command: "workspace_overview",
        chain: &["overview_job", "overview"],
    },
    Pair {
        cli_subcommand: "source add",
        cli_file: "cli_sync.rs",
        window_command: "add_source",
        chain: &["add_source_job", "add_source", "add_vetted"],
    },
    Pair {
        cli_subcommand: "source reconnect",
        cli_file: "cli_sync.rs",
        window_command: "reconnect_source",
        chain: &[
            "reconnect_source_job",
            "reconnect_source",
            "reconnect_vetted",
        ],
    },
    Pair {
        cli_subcommand: "source connect",
        cli_file: "cli_sync.rs",
        window_command: "connect_source",
        chain: &["connect_source_job", "connect"],
    },
    Pair {
        cli_subcommand: "source replay",
        cli_file: "cli_sync.rs",
        window_command: "replay_dead_letters",
        chain: &["replay_job", "replay"],
    },
    Pair {
        cli_subcommand: "sync",
        cli_file: "cli_sync.rs",
        window_command: "sync_source",
        chain: &["sync_job", "sync_one", "sync_source"],
    },
    Pair {
        cli_subcommand: "alert add",
        cli_file: "cli_realtime.rs",
        window_command: "add_alert_rule",
        chain: &["add_alert_rule_job", "add_alert_rule", "add_rule"],
    },
    Pair {
        cli_subcommand: "alert remove",
        cli_file: "cli_realtime.rs",
        window_command: "remove_alert_rule",
        chain: &["remove_alert_rule_job", "remove_alert_rule"],
    },
];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The text of `fn name(…) { … }` from its signature to its closing brace.
fn function_body<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("fn {name}("))?;
    let open = start + text[start..].find('{')?;
    let mut depth = 0usize;
    for (offset, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..open + offset + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The job function `name` in lookback-app, wherever it lives.
fn app_function(name: &str) -> String {
    let app = repo_root().join("src-tauri/crates/app/src");
    rust_files(&app)
        .iter()
        .find_map(|file| function_body(&read(file), name).map(str::to_owned))
        .unwrap_or_else(|| panic!("lookback-app has no function {name}"))
}

/// The window command's entry in the `commands!` table: from its name to the `;` ending it.
fn window_command(name: &str) -> String {
    let text = read(&repo_root().join("src-tauri/src/commands.rs"));
    let start = text
        .find(&format!("\n    {name}("))
        .unwrap_or_else(|| panic!("the window has no command {name}"));
    let rest = &text[start..];
    let body_start = rest.find("= |session, app|").expect("a command body");
    let end = body_start
        + rest[body_start..]
            .find(";\n")
            .expect("the end of the command");
    rest[..end].to_owned()
}

/// Whether `body` calls `name` (as `name(` or `path::name(`, not as part of a longer name).
fn calls(body: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    body.match_indices(&needle).any(|(at, _)| {
        body[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn each_cli_subcommand_and_its_window_action_reach_the_same_job() {
    for pair in PAIRS {
        let shared = pair.chain.last().expect("a chain");
        // The window: command → session job → … → shared job.
        let command = window_command(pair.window_command);
        assert!(
            calls(&command, pair.chain[0]),
            "the window's {} does not call {}",
            pair.window_command,
            pair.chain[0]
        );
        for step in pair.chain.windows(2) {
            assert!(
                calls(&app_function(step[0]), step[1]),
                "{} (reached from the window's {}) does not call {}",
                step[0],
                pair.window_command,
                step[1]
            );
        }
        // The CLI: the subcommand's file calls the shared job through lookback-app.
        let cli = read(&repo_root().join("src-tauri/src").join(pair.cli_file));
        assert!(
            cli.contains(&format!("::{shared}(")),
            "`lookback {}` ({}) does not call lookback-app's {shared}, which the window's {} reaches",
            pair.cli_subcommand,
            pair.cli_file,
            pair.window_command
        );
    }
}

#[test]
fn the_pairing_check_sees_a_missing_call() {
    let body = "fn a() { b_job(); other::c(x) }";
    assert!(calls(body, "b_job"));
    assert!(calls(body, "c"));
    assert!(!calls(body, "job"));
    assert_eq!(function_body(body, "a"), Some(body));
}
