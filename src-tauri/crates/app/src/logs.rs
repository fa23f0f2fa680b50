//! Logs a user can send us: `tracing` events written to a daily file in
//! `$XDG_DATA_HOME/lookback/logs` (a week of files kept), for the window and the CLI alike.
//! `lookback logs --path` and the window's "Show logs" name the directory.
//!
//! What is logged: the start (version, window or which subcommand), workspaces opened, job
//! failures (kind and message), syncs per source id with their counts, the receiver starting
//! and stopping, alert checks that failed. Never secrets, tokens, request bodies, emails, IPs
//! or user agents: log a source by its id, never the request that made it.
//!
//! Level `info` for Lookback's own crates by default; `LOOKBACK_LOG` (an `EnvFilter` directive
//! such as `debug` or `lookback_app=debug`) overrides it. Logging never fails a job: when the
//! directory cannot be written, Lookback runs without a log file.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// The environment variable that overrides the default filter.
pub const LOG_ENV: &str = "LOOKBACK_LOG";
/// Lookback's own events at `info`; nothing from the libraries under it.
const DEFAULT_FILTER: &str = "lookback=info";
/// How many daily files are kept; older ones are deleted when a new day starts.
const KEEP_FILES: usize = 7;
/// Files are named `lookback.YYYY-MM-DD.log`.
const FILE_PREFIX: &str = "lookback";
const FILE_SUFFIX: &str = "log";

/// Where the log files are.
pub fn log_dir() -> PathBuf {
    crate::paths::data_dir().join("logs")
}

/// The log files, newest first (their names sort by date).
pub fn log_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(log_dir())
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files.reverse();
    files
}

/// The daily, bounded file writer in `dir`, creating the directory.
fn file_writer(dir: &Path) -> std::io::Result<RollingFileAppender> {
    std::fs::create_dir_all(dir)?;
    Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(std::io::Error::other)
}

/// The filter: `LOOKBACK_LOG` when it is set and valid, else Lookback's own events at `info`.
fn filter() -> EnvFilter {
    std::env::var(LOG_ENV)
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the logger for this process and logs the start of `component` ("window", or the
/// CLI subcommand's name). Keep the guard alive until the process ends: dropping it flushes
/// what is still buffered. `None` when there is no log file (the directory cannot be written)
/// or a logger is already installed; the caller carries on either way.
pub fn init(component: &str) -> Option<WorkerGuard> {
    let writer = file_writer(&log_dir()).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(writer);
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(writer)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).ok()?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        component,
        "Lookback started"
    );
    Some(guard)
}

/// Logs the start of a sync of one source (its id and kind only).
pub fn sync_started(source_id: &str, kind: &str) {
    tracing::info!(source_id, kind, "sync started");
}

/// Logs how a sync of one source ended: per stream its counts and outcome, or the error.
pub fn sync_finished(
    source_id: &str,
    result: Result<&lookback_sync::SourceSyncSummary, &lookback_sync::SyncError>,
) {
    let summary = match result {
        Ok(summary) => summary,
        Err(lookback_sync::SyncError::Cancelled) => {
            tracing::info!(source_id, "sync cancelled");
            return;
        }
        Err(error) => {
            tracing::warn!(source_id, error = %error, "sync failed");
            return;
        }
    };
    for stream in &summary.streams {
        let c = &stream.counters;
        tracing::info!(
            source_id,
            stream = %stream.stream,
            pages = c.pages,
            records = c.records,
            new = c.inserted,
            unchanged = c.duplicates,
            updated = c.new_versions,
            dead_letters = c.dead_letters,
            retries = c.retries,
            outcome = ?stream.outcome,
            "sync stream finished"
        );
    }
    match summary.failure() {
        Some(error) => tracing::warn!(source_id, error, "sync finished with a failed stream"),
        None => tracing::info!(source_id, "sync finished"),
    }
}

/// Logs a job that failed: its name, the error's kind and message.
pub fn job_failed(job: &str, error: &crate::AppError) {
    if error.kind == crate::ErrorKind::Cancelled {
        tracing::info!(job, kind = error.kind.as_str(), "{}", error.message);
    } else {
        tracing::warn!(job, kind = error.kind.as_str(), "{}", error.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_makes_its_directory_and_a_dated_file_in_it() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("data/lookback/logs");
        let mut writer = file_writer(&dir).unwrap();
        std::io::Write::write_all(&mut writer, b"a line\n").unwrap();
        std::io::Write::flush(&mut writer).unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(
            names[0].starts_with("lookback.") && names[0].ends_with(".log"),
            "{names:?}"
        );
    }

    #[test]
    fn a_directory_that_cannot_be_made_is_an_error_not_a_panic() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        assert!(file_writer(&file.join("logs")).is_err());
    }
}
