//! Where Lookback keeps its own files for this user: the demo workspace, the list of recent
//! workspaces.
//!
//! The data directory is `$XDG_DATA_HOME/lookback` (else `~/.local/share/lookback`), so each test
//! run can point `XDG_DATA_HOME` at its own temporary directory and never see another run's data.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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
