//! Test support shared by the acceptance and end-to-end tests: finding the built `lookback`
//! binary, a temporary home for each test (its own `XDG_DATA_HOME`), and — for the window —
//! an Xvfb display, a tauri-driver process and a small W3C WebDriver client; and the
//! kill-and-resume check every connector runs ([`kill_resume`]).

pub mod kill_resume;
pub mod mock;
pub mod oauth_server;
pub mod traffic_workspace;
pub mod webdriver;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `lookback` binary under test. `cargo test` does not build another package's binary, so
/// `.ci/test` runs `cargo build --workspace` first; `LOOKBACK_BIN` overrides the path.
pub fn lookback_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("LOOKBACK_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let bin = target.join("debug").join("lookback");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --workspace` (the README's test command does)",
        bin.display()
    );
    bin
}

/// A temporary home for one test: its own data and config directories, removed at the end.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        let dir = tempfile::Builder::new()
            .prefix("lookback-test-")
            .tempdir()
            .expect("create temp dir");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        TestHome { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Applies this home's environment to a command, so runs never see each other's data.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("XDG_DATA_HOME", self.data_home())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("HOME", self.dir.path());
    }

    /// Runs `lookback` with these arguments in this home.
    pub fn lookback(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(lookback_bin());
        cmd.args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        self.apply(&mut cmd);
        cmd.output().expect("run lookback")
    }

    /// Runs `lookback` with these arguments in this home, `stdin` piped in (how a secret
    /// reaches `source add`).
    pub fn lookback_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(lookback_bin());
        cmd.args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.apply(&mut cmd);
        let mut child = cmd.spawn().expect("run lookback");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for lookback")
    }

    /// Writes the previous version's demo workspace (schema 14, `tests/fixtures/demo-v14.lookback.zst`;
    /// see `tests/migrate_previous.rs`) into this home as `name`, and returns its path.
    pub fn previous_version_demo(&self, name: &str) -> PathBuf {
        let packed = std::fs::read(repo_root().join("tests/fixtures/demo-v14.lookback.zst"))
            .expect("fixture workspace");
        let bytes = zstd::decode_all(packed.as_slice()).expect("fixture decompresses");
        let db = self.path(name);
        std::fs::write(&db, bytes).expect("write fixture");
        db
    }

    /// Runs `lookback` and asserts it succeeded, returning stdout.
    pub fn lookback_ok(&self, args: &[&str]) -> String {
        let out = self.lookback(args);
        assert!(
            out.status.success(),
            "lookback {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

/// A loopback port free at this moment, for a server a test starts (the port is released
/// before it is returned, so the server binds it next).
pub fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A command's stdout and stderr as one text, for asserting on what it said wherever it said it.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Opens a workspace file directly with SQLite, read-only: the tests' independent view of the store.
pub fn open_sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open workspace file")
}

/// Every raw event of the workspace, its payload decoded (raw payloads are stored compressed,
/// so SQL cannot read or search them).
pub fn raw_events(path: &Path) -> Vec<lookback_store::RawEvent> {
    let store = lookback_store::Store::open_read_only(path).expect("open workspace read-only");
    let mut events = Vec::new();
    store
        .for_each_raw_event(|event| events.push(event))
        .expect("read raw events");
    events
}

/// How many raw events' payloads contain `needle`.
pub fn raw_payloads_containing(path: &Path, needle: &str) -> i64 {
    raw_events(path)
        .iter()
        .filter(|event| event.payload.contains(needle))
        .count() as i64
}

/// One integer from a query.
pub fn query_i64(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A tiny CSV reader for the exports' one-line records: a quoted cell may hold commas (a label
/// such as "Not through a creator: ads, email, direct…") and doubled quotes; the exporter's
/// quoting itself is tested in its crate.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cell.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(std::mem::take(&mut cell)),
                    _ => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}

/// `lookback export roas --by BY` with `flags` into `roas-BY.csv` in `home` (its sidecar beside
/// it, both replaced by the next export): the attributed revenue in minor units by key (the
/// CSV's first column), and the whole CSV text (with its `#` preamble lines when `flags` asks
/// for them).
pub fn export_roas(
    home: &TestHome,
    db: &Path,
    by: &str,
    flags: &[&str],
) -> (std::collections::BTreeMap<String, i64>, String) {
    let out = home.path(&format!("roas-{by}.csv"));
    let mut args = vec![
        "--db",
        db.to_str().unwrap(),
        "export",
        "roas",
        "--by",
        by,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    home.lookback_ok(&args);
    let text = std::fs::read_to_string(&out).unwrap();
    let table: String = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut rows = csv_rows(&table);
    let header = rows.remove(0);
    let revenue = header
        .iter()
        .position(|h| h == "attributed_revenue")
        .expect("an attributed_revenue column");
    let by_key = rows
        .iter()
        .map(|r| (r[0].clone(), r[revenue].replace('.', "").parse().unwrap()))
        .collect();
    (by_key, text)
}
