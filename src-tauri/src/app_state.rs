//! Per-user application state: where Lookback keeps its own files (the demo workspace, the list
//! of recent workspaces) and which workspace the window has open.
//!
//! The data directory is `$XDG_DATA_HOME/lookback` (else `~/.local/share/lookback`), so each test
//! run can point `XDG_DATA_HOME` at its own temporary directory and never see another run's data.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use lookback_store::Store;

/// How many recent workspaces the welcome screen lists.
const RECENT_LIMIT: usize = 8;

/// Lookback's own data directory for this user.
pub fn data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("lookback")
}

/// Where the demo workspace lives when the window creates it.
pub fn demo_workspace_path() -> PathBuf {
    data_dir().join("demo.lookback")
}

fn recent_file() -> PathBuf {
    data_dir().join("recent-workspaces.json")
}

/// Recently opened workspaces, most recent first, keeping only files that still exist.
pub fn recent_workspaces() -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(recent_file()) else {
        return Vec::new();
    };
    let paths: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
    paths
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect()
}

/// Puts `path` at the top of the recent list. Failing to write the list is not worth failing
/// the open for, so errors are returned for the caller to ignore or log.
pub fn remember_workspace(path: &Path) -> Result<()> {
    let mut paths = recent_workspaces();
    paths.retain(|p| p != path);
    paths.insert(0, path.to_path_buf());
    paths.truncate(RECENT_LIMIT);
    let as_strings: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    std::fs::create_dir_all(data_dir()).context("creating the Lookback data directory")?;
    std::fs::write(recent_file(), serde_json::to_string_pretty(&as_strings)?)
        .context("writing the recent-workspaces list")?;
    Ok(())
}

/// An open workspace: its file and its store connection.
pub struct OpenWorkspace {
    pub path: PathBuf,
    pub store: Store,
    /// Set when the file is damaged and open read-only.
    pub read_only_reason: Option<String>,
}

/// The window's shared state. The store connection sits behind a mutex because a SQLite
/// connection serves one caller at a time; a command holds the lock for its whole job. New
/// attribution runs, syncs and the receiver use connections of their own.
#[derive(Default)]
pub struct WindowState {
    pub workspace: Mutex<Option<OpenWorkspace>>,
    /// Running syncs by source id, so the window can cancel them.
    pub syncs: Mutex<std::collections::HashMap<String, lookback_sync::CancelToken>>,
    /// The local webhook receiver, when the user started it.
    pub listener: tokio::sync::Mutex<Option<crate::realtime::Listener>>,
    /// The connection new attribution runs are computed on (with its workspace's path), so
    /// the other screens keep using `workspace` meanwhile; its lock also queues new runs.
    pub runner: Mutex<Option<(PathBuf, Store)>>,
    /// Bumped by every cancel: a new run (or one queued behind it) started under an older
    /// value stops before its next phase.
    pub run_generation: std::sync::atomic::AtomicU64,
    /// New runs computing or queued for the runner connection.
    pub runs_pending: std::sync::atomic::AtomicUsize,
}
