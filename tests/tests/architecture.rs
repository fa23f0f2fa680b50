//! The architecture invariants of DESIGN.md §1, checked against the workspace's declared
//! dependencies (`cargo metadata --no-deps`, which needs no network), so a dependency that breaks
//! them fails the tests instead of a review. Only workspace crates can bring tauri, SQLite or
//! HTTP into a library crate, so following dependencies between members is enough.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use lookback_tests::repo_root;

/// Workspace package name → names of its normal (non-dev, non-build) dependencies.
fn dependency_graph() -> HashMap<String, Vec<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// Everything `package` pulls in at run time through workspace crates, plus their direct deps.
fn closure(graph: &HashMap<String, Vec<String>>, package: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![package.to_string()];
    while let Some(p) = stack.pop() {
        for dep in graph.get(&p).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn only_the_app_package_depends_on_tauri() {
    let graph = dependency_graph();
    let libraries: Vec<&String> = graph
        .keys()
        .filter(|p| p.starts_with("lookback-") && *p != "lookback-tests")
        .collect();
    assert!(
        libraries.len() >= 3,
        "found the library crates: {libraries:?}"
    );
    for library in libraries {
        let deps = closure(&graph, library);
        assert!(
            !deps.iter().any(|d| d == "tauri" || d.starts_with("tauri-")),
            "{library} must not depend on tauri"
        );
    }
    assert!(
        closure(&graph, "lookback").contains("tauri"),
        "the app itself does use tauri"
    );
}

#[test]
fn core_does_no_io() {
    let graph = dependency_graph();
    let deps = closure(&graph, "lookback-core");
    for forbidden in ["rusqlite", "reqwest", "tokio", "hyper", "tauri", "keyring"] {
        assert!(
            !deps.contains(forbidden),
            "lookback-core must not depend on {forbidden}"
        );
    }
}

#[test]
fn only_the_store_speaks_sql() {
    let graph = dependency_graph();
    for (package, deps) in &graph {
        let direct_sql = deps.iter().any(|d| d == "rusqlite");
        let allowed = package == "lookback-store" || package == "lookback-tests";
        assert!(
            !direct_sql || allowed,
            "{package} depends on rusqlite directly; only lookback-store speaks SQL"
        );
    }
}
