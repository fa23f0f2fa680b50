//! The architecture invariants of DESIGN.md §1, checked against the workspace's declared
//! dependencies (`cargo metadata --no-deps`, which needs no network), so a dependency that breaks
//! them fails the tests instead of a review. Only workspace crates can bring tauri, SQLite or
//! HTTP into a library crate, so following dependencies between members is enough. The last
//! checks read the source of `src-tauri/src` and lookback-app for module cycles.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use lookback_tests::repo_root;

/// `cargo metadata` of the workspace members, without their dependencies' own metadata.
fn metadata() -> serde_json::Value {
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
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Workspace package name → names of its direct dependencies of the kinds `keep` accepts
/// (`cargo metadata`'s kind: null for normal, "dev", "build").
fn direct_dependencies(keep: impl Fn(&serde_json::Value) -> bool) -> HashMap<String, Vec<String>> {
    metadata()["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| keep(&d["kind"]))
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// Workspace package name → names of its normal (non-dev, non-build) dependencies.
fn dependency_graph() -> HashMap<String, Vec<String>> {
    direct_dependencies(serde_json::Value::is_null)
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

/// Crates that send or serve HTTP. A package that depends on one of these directly speaks HTTP.
const HTTP_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "hyper-tls",
    "http-body-util",
    "h2",
    "oauth2",
    "ureq",
    "isahc",
    "surf",
    "curl",
    "attohttpc",
    "minreq",
    "axum",
    "warp",
    "actix-web",
    "tiny_http",
    "tower-http",
    "tauri-plugin-http",
];

/// Workspace package name → names of all its direct dependencies, of every kind (normal, dev
/// and build), so a crate cannot sneak an HTTP client in through its own tests either.
fn all_direct_dependencies() -> HashMap<String, Vec<String>> {
    direct_dependencies(|_| true)
}

/// Only lookback-sync speaks HTTP: connectors, OAuth, the webhook receiver and the outbound
/// POSTs of alerts (lookback-alerts sends Slack messages through `lookback_sync::outbound`, not
/// through a client of its own). The test package is allowed too: it drives the mock APIs and the
/// window's WebDriver over HTTP.
#[test]
fn only_sync_speaks_http() {
    let graph = all_direct_dependencies();
    assert!(
        graph["lookback-sync"].iter().any(|d| d == "reqwest"),
        "lookback-sync is where HTTP lives; if it moved, update this test"
    );
    let mut offenders = Vec::new();
    for (package, deps) in &graph {
        if package == "lookback-sync" || package == "lookback-tests" {
            continue;
        }
        for dep in deps {
            if HTTP_CRATES.contains(&dep.as_str()) {
                offenders.push(format!("{package} → {dep}"));
            }
        }
    }
    offenders.sort();
    assert!(
        offenders.is_empty(),
        "only lookback-sync speaks HTTP, but these packages depend on an HTTP crate directly:\n  {}",
        offenders.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Module cycles
//
// DESIGN.md §1: `src-tauri/src` "has no module cycle". Rust itself allows modules of one crate to
// refer to each other in a circle, so nothing but this test keeps the glue layered. The check is a
// deliberately small scan, not a Rust parser:
//
// - The nodes are the crate root (`main` / `lib`) and its top-level modules, each a `NAME.rs`
//   or `NAME/mod.rs` file beside the root; files under `NAME/` belong to node `NAME`.
// - Comments, string literals and char literals are blanked first, so a `crate::x` in a doc
//   comment or a message is not a reference.
// - A reference is `crate::IDENT`, or each first segment of `crate::{a, b::C}`; in a top-level
//   module file (outside inline `mod … { }` blocks, such as `mod tests`) also `super::IDENT`,
//   which there means the same. In the root file a bare `IDENT::` naming one of its modules is a
//   reference too; its `mod x;` and `pub use x::…;` lines are declarations, not references.
// - `IDENT` names a module → an edge to it. Otherwise it is an item: if the root re-exports it
//   (`pub use x::{IDENT, …}`) the edge goes to `x`, where it is defined; else to the root.
// ---------------------------------------------------------------------------------------------

/// The module graph of one crate: node → (node it refers to → first `file:line` that does).
type ModuleGraph = BTreeMap<String, BTreeMap<String, String>>;

/// `text` with comments and the contents of string and char literals replaced by spaces; line
/// breaks are kept, so line numbers still match the file.
fn blank_comments_and_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let is_ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (i == 0
                || !is_ident(c[i - 1])
                || (c[i - 1] == 'b' && (i < 2 || !is_ident(c[i - 2]))))
            && matches!(c.get(i + 1), Some('"') | Some('#'))
            && {
                let mut j = i + 1;
                while c.get(j) == Some(&'#') {
                    j += 1;
                }
                c.get(j) == Some(&'"')
            }
        {
            // A raw string r#"…"#: it ends at a quote followed by as many hashes.
            let mut hashes = 0;
            out.push('r');
            i += 1;
            while c[i] == '#' {
                hashes += 1;
                out.push('#');
                i += 1;
            }
            out.push('"');
            i += 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    out.push('"');
                    i += 1;
                    for _ in 0..hashes {
                        out.push('#');
                        i += 1;
                    }
                    break;
                }
                out.push(blank(c[i]));
                i += 1;
            }
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' && i + 1 < c.len() {
                    out.push(' ');
                    i += 1;
                }
                out.push(blank(c[i]));
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a), which is kept.
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..c.len().min(i + 12)).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push('\'');
                    out.extend(std::iter::repeat_n(' ', end - i - 1));
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The identifier starting at `i` (after skipping whitespace), and the index after it.
fn ident_at(c: &[char], mut i: usize) -> Option<(String, usize)> {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    let start = i;
    while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
        i += 1;
    }
    (i > start).then(|| (c[start..i].iter().collect(), i))
}

/// The first path segment of each item of the `{…}` group opening at `open`:
/// `{a, b::{C, D}, e as f}` → a, b, e.
fn group_heads(c: &[char], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    let mut i = open;
    while i < c.len() {
        match c[i] {
            '{' => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                }
                i += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                i += 1;
            }
            ',' if depth == 1 => {
                expect_head = true;
                i += 1;
            }
            ch if depth == 1 && expect_head && (ch.is_alphanumeric() || ch == '_') => {
                let (name, next) = ident_at(c, i).unwrap();
                heads.push(name);
                expect_head = false;
                i = next;
            }
            _ => i += 1,
        }
    }
    heads
}

/// Where each of `text`'s paths that start with `prefix` (`crate::` or `super::`) goes: the
/// heads they name, with the 1-based line. Skips `$crate::` and `foo_crate::`, and with
/// `outside_inline_mods` skips whatever sits inside an inline `mod name { … }`.
fn path_heads(text: &str, prefix: &str, outside_inline_mods: bool) -> Vec<(String, usize)> {
    let c: Vec<char> = text.chars().collect();
    let p: Vec<char> = prefix.chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    // Brace depths at which an inline module was opened.
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\n' => line += 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if inline_mods.last() == Some(&depth) {
                    inline_mods.pop();
                }
            }
            _ => {}
        }
        let word_start =
            i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_' || c[i - 1] == '$');
        // `mod name {` opens an inline module; its brace is counted on the next iterations.
        if word_start
            && c[i..].starts_with(&['m', 'o', 'd'])
            && c.get(i + 3).is_some_and(|ch| ch.is_whitespace())
            && let Some((_, after)) = ident_at(&c, i + 3)
        {
            let mut j = after;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if c.get(j) == Some(&'{') {
                inline_mods.push(depth);
            }
        }
        if word_start && c[i..].starts_with(&p) {
            let after = i + p.len();
            let counted = !outside_inline_mods || inline_mods.is_empty();
            if counted {
                let mut j = after;
                while j < c.len() && c[j].is_whitespace() {
                    j += 1;
                }
                if c.get(j) == Some(&'{') {
                    for head in group_heads(&c, j) {
                        found.push((head, line));
                    }
                } else if let Some((head, _)) = ident_at(&c, after) {
                    found.push((head, line));
                }
            }
            i = after;
            continue;
        }
        i += 1;
    }
    found
}

/// Bare `NAME::` occurrences in the root file, where NAME is one of `modules`, outside its `mod`
/// and `pub use` statements (declarations and re-exports, not references).
fn root_bare_heads(text: &str, modules: &BTreeSet<String>) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut in_pub_use = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("pub use ") || trimmed.starts_with("pub(crate) use ") {
            in_pub_use = true;
        }
        if !in_pub_use && !trimmed.starts_with("mod ") && !trimmed.starts_with("pub mod ") {
            let c: Vec<char> = line.chars().collect();
            for i in 0..c.len() {
                let starts_word =
                    i == 0 || !(c[i - 1].is_alphanumeric() || matches!(c[i - 1], '_' | ':' | '$'));
                if !starts_word || !(c[i].is_alphanumeric() || c[i] == '_') {
                    continue;
                }
                if let Some((name, after)) = ident_at(&c, i)
                    && modules.contains(&name)
                    && c.get(after) == Some(&':')
                    && c.get(after + 1) == Some(&':')
                {
                    found.push((name, n + 1));
                }
            }
        }
        if in_pub_use && line.contains(';') {
            in_pub_use = false;
        }
    }
    found
}

/// `pub use x::{A, B as C};` in the root → A, B, C are found in module `x`.
fn root_reexports(text: &str, modules: &BTreeSet<String>) -> HashMap<String, String> {
    let mut reexports = HashMap::new();
    let mut statement = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if statement.is_empty()
            && !(trimmed.starts_with("pub use ") || trimmed.starts_with("pub(crate) use "))
        {
            continue;
        }
        statement.push_str(line);
        statement.push(' ');
        if !line.contains(';') {
            continue;
        }
        let path = statement.split_once("use ").unwrap().1.trim_start();
        let path = path
            .strip_prefix("crate::")
            .or_else(|| path.strip_prefix("self::"))
            .unwrap_or(path);
        let c: Vec<char> = path.chars().collect();
        if let Some((module, mut i)) = ident_at(&c, 0).filter(|(m, _)| modules.contains(m)) {
            while i < c.len() {
                match ident_at(&c, i) {
                    Some((name, next)) => {
                        reexports.insert(name, module.clone());
                        i = next;
                    }
                    None => i += 1,
                }
            }
        }
        statement.clear();
    }
    reexports
}

/// The module graph of the crate whose root file is `src/<root>.rs`.
fn module_graph(src: &Path, root: &str) -> ModuleGraph {
    let root_file = src.join(format!("{root}.rs"));
    // The top-level modules: NAME.rs and NAME/mod.rs beside the root.
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let module_dir = path.is_dir() && path.join("mod.rs").exists();
        let module_file = path.extension().is_some_and(|e| e == "rs") && path != root_file;
        if module_dir || module_file {
            modules.insert(name);
        }
    }
    let root_text = blank_comments_and_literals(&std::fs::read_to_string(&root_file).unwrap());
    let reexports = root_reexports(&root_text, &modules);

    // (node, file, is a top-level module file) for every Rust file of the crate.
    let mut files: Vec<(String, PathBuf, bool)> =
        vec![(root.to_string(), root_file.clone(), false)];
    for module in &modules {
        let file = src.join(format!("{module}.rs"));
        if file.exists() {
            files.push((module.clone(), file, true));
        }
        let dir = src.join(module);
        if dir.is_dir() {
            let mut stack = vec![dir];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "rs") {
                        let top = path == src.join(module).join("mod.rs");
                        files.push((module.clone(), path, top));
                    }
                }
            }
        }
    }

    let mut graph: ModuleGraph = BTreeMap::new();
    for (node, file, top_level) in files {
        graph.entry(node.clone()).or_default();
        let text = blank_comments_and_literals(&std::fs::read_to_string(&file).unwrap());
        let mut heads = path_heads(&text, "crate::", false);
        if top_level {
            heads.extend(path_heads(&text, "super::", true));
        }
        if node == root {
            heads.extend(root_bare_heads(&text, &modules));
        }
        let shown = file
            .strip_prefix(repo_root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for (head, line) in heads {
            let target = if modules.contains(&head) {
                head
            } else if let Some(module) = reexports.get(&head) {
                module.clone()
            } else if head == "self" || head == "super" || head == "crate" {
                continue;
            } else {
                root.to_string()
            };
            if target != node {
                graph
                    .get_mut(&node)
                    .unwrap()
                    .entry(target)
                    .or_insert_with(|| format!("{shown}:{line}"));
            }
        }
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan), each sorted.
fn cycles(graph: &ModuleGraph) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a ModuleGraph,
        index: HashMap<&'a str, usize>,
        low: HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.components.sort();
    tarjan.components
}

/// Each cycle as its modules and the references that close it, with where each is made.
fn describe_cycles(graph: &ModuleGraph, components: &[Vec<String>]) -> String {
    let mut out = String::new();
    for component in components {
        out.push_str(&format!("cycle among {{{}}}:\n", component.join(", ")));
        for from in component {
            for (to, at) in &graph[from] {
                if component.contains(to) {
                    out.push_str(&format!("    {from} → {to}   ({at})\n"));
                }
            }
        }
    }
    out
}

#[test]
fn the_module_scan_sees_references_and_finds_cycles() {
    let text = blank_comments_and_literals(
        "//! crate::not_this\nuse crate::{a, b::{C, D}, e as f};\nlet s = \"crate::nor_this\";\n\
         let c = '\"'; x = crate::g::h(); $crate::no; lookback_crate::no;\n\
         super::i(); mod tests { use super::*; super::j(); }\n/* crate::k */ r#\"crate::l\"#",
    );
    let heads: Vec<String> = path_heads(&text, "crate::", false)
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(heads, ["a", "b", "e", "g"]);
    let supers: Vec<(String, usize)> = path_heads(&text, "super::", true);
    assert_eq!(supers, [("i".to_string(), 5)]);

    let mut graph = ModuleGraph::new();
    for (from, to) in [
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("c", "d"),
        ("d", "d2"),
        ("e", "f"),
        ("f", "e"),
    ] {
        graph
            .entry(from.into())
            .or_default()
            .insert(to.into(), "here".into());
        graph.entry(to.into()).or_default();
    }
    assert_eq!(
        cycles(&graph),
        [
            vec!["a".to_string(), "b".into(), "c".into()],
            vec!["e".to_string(), "f".into()]
        ]
    );
}

#[test]
fn the_module_graph_of_a_small_crate_has_the_cycle_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "main.rs",
            "mod cli;\nmod cli_sync;\nmod window;\nfn main() { cli::run(); window::run(); }\n",
        ),
        (
            "cli.rs",
            "pub fn run() { crate::cli_sync::run_sync(); }\npub fn one_line() {}\n",
        ),
        (
            "cli_sync.rs",
            "use crate::cli::one_line;\npub fn run_sync() { one_line(); }\n",
        ),
        (
            "window.rs",
            "pub fn run() {}\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let graph = module_graph(dir.path(), "main");
    assert_eq!(graph["main"].keys().collect::<Vec<_>>(), ["cli", "window"]);
    assert!(graph["window"].is_empty());
    assert_eq!(cycles(&graph), [vec!["cli".to_string(), "cli_sync".into()]]);
    let report = describe_cycles(&graph, &cycles(&graph));
    assert!(report.contains("cli_sync → cli   ("), "{report}");
}

/// Scans the crate whose root file is `src/<root>.rs`, checks the scan found `edge` (so an empty
/// graph cannot pass), and fails naming every cycle found.
fn assert_no_module_cycle(src: &str, root: &str, edge: (&str, &str)) {
    let graph = module_graph(&repo_root().join(src), root);
    assert!(
        graph.len() >= 3 && graph[edge.0].contains_key(edge.1),
        "the scan found {src}'s modules: {graph:?}"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "{src} has module cycles; make the references go one way:\n{}",
        describe_cycles(&graph, &found)
    );
}

/// DESIGN.md §1: `src-tauri/src` only parses, prints and forwards, and has no module cycle.
#[test]
fn the_binarys_modules_have_no_cycle() {
    assert_no_module_cycle("src-tauri/src", "main", ("main", "cli"));
}

/// lookback-app's modules, checked the same way: the domain modules never reach for the
/// session, and the session jobs (`jobs`) sit on top of both.
#[test]
fn the_app_crates_modules_have_no_cycle() {
    assert_no_module_cycle("src-tauri/crates/app/src", "lib", ("jobs", "session"));
}

/// The commands' binary, `lookback`, does not link the window's libraries (WebKitGTK, GTK and
/// the ~170 they bring: their dynamic linking was ~45 ms of every command's start); only
/// `lookback-window` does. A `use tauri` reaching the CLI's code would fail this.
#[test]
#[cfg(target_os = "linux")]
fn only_the_window_binary_links_the_window_libraries() {
    let linked = |bin: &Path| -> String {
        let out = Command::new("ldd").arg(bin).output().expect("run ldd");
        assert!(out.status.success(), "ldd {}: {out:?}", bin.display());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let commands = lookback_tests::lookback_bin();
    let libraries = linked(&commands);
    assert!(
        !libraries.contains("libwebkit2gtk") && !libraries.contains("libgtk-3"),
        "{} links the window's libraries:\n{libraries}",
        commands.display()
    );
    let window = commands.with_file_name("lookback-window");
    assert!(
        linked(&window).contains("libwebkit2gtk"),
        "{} is the window",
        window.display()
    );
}
