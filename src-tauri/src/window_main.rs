//! `lookback-window`: the desktop window, which `lookback` opens when it is run with no
//! subcommand (see `main.rs`: the commands are a binary of their own so that they do not load
//! the window's libraries). Its only argument is `--db FILE`, the workspace to open; without it
//! the window opens the workspace it last had open, or offers to create one.

// Keep a console window from appearing next to the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

#[cfg(test)]
mod bindings;
mod commands;
mod desktop;
#[cfg(test)]
mod ts_names;
mod window;

use std::path::PathBuf;

use clap::Parser;

/// The window's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "lookback-window",
    version,
    about = "The Lookback desktop window."
)]
struct WindowArgs {
    /// The workspace file to open.
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
}

fn main() {
    let args = WindowArgs::parse();
    // Kept until the window closes, so the last lines reach the file.
    let _log = lookback_app::logs::init("window");
    window::run(args.db);
}
