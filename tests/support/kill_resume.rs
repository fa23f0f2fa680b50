//! The kill-and-resume check every connector passes (the Sync issue's "a sync killed mid-way —
//! the process killed, not just cancelled — and restarted ends with the same store as an
//! uninterrupted one"), written once for all of them.
//!
//! Against one mock server, through the real `lookback` binary and the OS keyring:
//! 1. an uninterrupted `lookback sync` fills one workspace;
//! 2. a second workspace's sync runs until the mock's [`RequestGate`] holds its request number
//!    `kill_after_requests + 1` and every page fetched before it is committed (the CLI prints
//!    one stderr line per committed page), and is then SIGKILLed — so the kill lands at a known
//!    point of the run, however slow the machine;
//! 3. the kill is checked to have landed mid-way: some records stored, not all;
//! 4. the same command is run again and must end with exactly the first workspace's store:
//!    raw events (payloads and versions), canonical tables, dead letters and checkpoints.
//!
//! Checkpoints may hold the run's own clock (Stripe's watermark, Dub's and Rewardful's window
//! ends): numbers that fall within the test's own run time, in seconds or milliseconds, are
//! compared as `<clock>`. Ad platforms' days are days of the real clock, so the two runs must
//! fall on the same day in the account's zone (a test straddling midnight there can fail).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::mock::MockServer;
use crate::mock::harness::{count, table_dump};
use crate::{TestHome, lookback_bin};

/// How long any one phase may take before the test gives up (a debug build on a busy machine).
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

/// One connector's kill-and-resume case.
pub struct KillResumeCase<'a> {
    /// `lookback source add <kind>`.
    pub kind: &'a str,
    /// The secret piped to `source add` (it goes to the keyring).
    pub secret: &'a str,
    /// `--base-url` (the mock, with any path prefix the connector expects).
    pub base_url: String,
    /// `--account`, for the connectors that need one.
    pub account: Option<&'a str>,
    /// Extra arguments of `lookback sync` (e.g. `--page-size 50`), used by every run.
    pub sync_args: &'a [&'a str],
    /// Requests the killed run is served before the mock holds the next one.
    pub kill_after_requests: u64,
}

/// What the check saw, for a test's own further assertions.
#[derive(Debug, Clone, Copy)]
pub struct KillResumeOutcome {
    /// Raw events of the uninterrupted run.
    pub whole_raw_events: i64,
    /// Raw events the killed run had committed when it was killed.
    pub raw_events_at_kill: i64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// Runs the check described in the module documentation; panics with the difference if the
/// resumed store is not the uninterrupted one.
pub fn assert_killed_sync_resumes_to_the_uninterrupted_store(
    server: &MockServer,
    case: &KillResumeCase<'_>,
) -> KillResumeOutcome {
    let started_ms = now_ms();
    let home = TestHome::new();
    let setup = |file: &str| {
        let db = home.path(file).to_str().expect("utf-8 path").to_owned();
        home.lookback_ok(&["--db", &db, "init"]);
        let mut args = vec![
            "--db",
            db.as_str(),
            "source",
            "add",
            case.kind,
            "--name",
            "src",
            "--base-url",
            case.base_url.as_str(),
        ];
        if let Some(account) = case.account {
            args.extend(["--account", account]);
        }
        let added = home.lookback_with_stdin(&args, case.secret);
        assert!(
            added.status.success(),
            "source add {}: {}",
            case.kind,
            String::from_utf8_lossy(&added.stderr)
        );
        db
    };
    let whole = setup("whole.lookback");
    let killed = setup("killed.lookback");
    // The client-side rate limit only slows the test down: the gate decides where the kill is.
    let sync_args = |db: &str| -> Vec<String> {
        let mut args: Vec<String> = ["--db", db, "sync", "src", "--rate-limit", "1000"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.extend(case.sync_args.iter().map(|s| (*s).to_owned()));
        args
    };
    let run_to_end = |db: &str| {
        let args = sync_args(db);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        home.lookback_ok(&args);
    };

    server.gate.open();
    run_to_end(&whole);
    let whole_path = Path::new(&whole);
    let whole_raw_events = count(whole_path, "raw_events");

    server.clear_requests();
    server.gate.hold_after(case.kill_after_requests);
    let mut cmd = Command::new(lookback_bin());
    cmd.args(sync_args(&killed))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    home.apply(&mut cmd);
    let mut child = cmd.spawn().expect("start lookback sync");
    // The CLI prints one line per committed page on stderr (`src/stream: N pages, …`).
    let committed = Arc::new(AtomicU64::new(0));
    let stderr_text = Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let stderr = child.stderr.take().expect("piped stderr");
        let committed = Arc::clone(&committed);
        let stderr_text = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(" pages, ") && line.contains(" records, ") {
                    committed.fetch_add(1, Ordering::SeqCst);
                }
                let mut text = stderr_text.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        })
    };
    let waiting_since = Instant::now();
    loop {
        let held = server.gate.held() > 0;
        // A credential inspection (Meta's debug_token, asked at the start of every sync)
        // commits no page, so it is not waited for.
        let inspections = server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/debug_token"))
            .count() as u64;
        if held && committed.load(Ordering::SeqCst) + inspections >= server.gate.passed() {
            break;
        }
        if let Some(status) = child.try_wait().expect("poll the sync") {
            panic!(
                "the {} sync ended ({status}) before it could be killed after {} requests:\n{}",
                case.kind,
                case.kill_after_requests,
                stderr_text.lock().unwrap()
            );
        }
        assert!(
            waiting_since.elapsed() < PHASE_TIMEOUT,
            "the {} sync never reached request {} with its pages committed ({} of {} committed, held: {held}):\n{}",
            case.kind,
            case.kill_after_requests + 1,
            committed.load(Ordering::SeqCst),
            server.gate.passed(),
            stderr_text.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL the sync"); // std's kill is SIGKILL on Unix
    child.wait().expect("reap the killed sync");
    reader.join().expect("stderr reader");

    let killed_path = Path::new(&killed);
    let raw_events_at_kill = count(killed_path, "raw_events");
    assert!(
        raw_events_at_kill > 0 && raw_events_at_kill < whole_raw_events,
        "the {} sync was to be killed mid-way, but it had {raw_events_at_kill} of {whole_raw_events} raw events",
        case.kind
    );

    server.gate.open();
    run_to_end(&killed);
    let finished_ms = now_ms();
    let resumed = clock_free(&table_dump(killed_path), started_ms, finished_ms);
    let uninterrupted = clock_free(&table_dump(whole_path), started_ms, finished_ms);
    if resumed != uninterrupted {
        let first_difference = resumed
            .lines()
            .zip(uninterrupted.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("killed+resumed: {a}\nuninterrupted:  {b}"))
            .unwrap_or_else(|| "one store has more rows than the other".to_owned());
        panic!(
            "the {} store after kill and resume differs from the uninterrupted one ({} vs {} raw events):\n{first_difference}",
            case.kind,
            count(killed_path, "raw_events"),
            whole_raw_events
        );
    }
    KillResumeOutcome {
        whole_raw_events,
        raw_events_at_kill,
    }
}

/// `dump` with every whole number of its checkpoint section that lies between `from_ms` and
/// `to_ms` — as Unix milliseconds or seconds — replaced by `<clock>`.
fn clock_free(dump: &str, from_ms: i64, to_ms: i64) -> String {
    let (head, checkpoints) = match dump.find("FROM sync_checkpoints") {
        Some(at) => dump.split_at(at),
        None => return dump.to_owned(),
    };
    let is_clock = |n: i64| {
        (from_ms..=to_ms).contains(&n) || (from_ms.div_euclid(1000)..=to_ms / 1000 + 1).contains(&n)
    };
    let mut out = String::with_capacity(dump.len());
    out.push_str(head);
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if !digits.is_empty() {
            match digits.parse::<i64>() {
                Ok(n) if is_clock(n) => out.push_str("<clock>"),
                _ => out.push_str(digits),
            }
            digits.clear();
        }
    };
    for c in checkpoints.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::clock_free;

    #[test]
    fn only_checkpoint_numbers_within_the_run_are_masked() {
        let dump = "SELECT … FROM raw_events\n1700000000500\nSELECT … FROM sync_checkpoints\ns | c | {\"watermark\":1700000000,\"ms\":1700000000900,\"page\":3}\n";
        let masked = clock_free(dump, 1_700_000_000_000, 1_700_000_001_000);
        assert!(masked.contains("\n1700000000500\n"), "{masked}");
        assert!(
            masked.contains(r#"{"watermark":<clock>,"ms":<clock>,"page":3}"#),
            "{masked}"
        );
    }
}
