//! The `lookback` binary: with no subcommand it opens the desktop window, with one it runs that
//! job headless and exits. Both paths call the same library functions, so every job the window
//! can do, the CLI (and so a test) can do too.

// Keep a console window from appearing next to the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

mod cli;
mod cli_attribution;
mod cli_realtime;
mod cli_sync;
mod cli_trust;
mod cli_views;
mod commands;
mod desktop;
mod window;

use clap::Parser;

fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => cli::exit_on_usage_error(err),
    };
    match args.command {
        None => window::run(args.db),
        Some(command) => {
            if let Err(err) = cli::run(args.db.as_deref(), command) {
                // One clear line and a non-zero exit: the causes are joined, never a backtrace.
                eprintln!("error: {}", cli::one_line(&err));
                std::process::exit(1);
            }
        }
    }
}
