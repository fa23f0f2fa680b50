//! The `lookback` binary: with no subcommand it opens the desktop window, with one it runs that
//! job headless and exits. Both paths call the same library functions, so every job the window
//! can do, the CLI (and so a test) can do too.

// Keep a console window from appearing next to the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

#[cfg(test)]
mod bindings;
mod cli;
mod cli_attribution;
mod cli_cohorts;
mod cli_print;
mod cli_realtime;
mod cli_statement;
mod cli_sync;
mod cli_traffic;
mod cli_trust;
mod cli_views;
mod commands;
mod desktop;
#[cfg(test)]
mod ts_names;
mod window;

use clap::{CommandFactory, FromArgMatches};

fn main() {
    let matches = match cli::Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => cli::exit_on_usage_error(err),
    };
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(err) => cli::exit_on_usage_error(err.format(&mut cli::Cli::command())),
    };
    match args.command {
        None => {
            // Kept until the window closes, so the last lines reach the file.
            let _log = lookback_app::logs::init("window");
            window::run(args.db);
        }
        Some(command) => {
            let name = cli::command_name(&matches);
            let log = lookback_app::logs::init(&name);
            if let Err(err) = cli::run(args.db.as_deref(), command) {
                // One clear line and a non-zero exit: the causes are joined, never a backtrace.
                let line = cli::one_line(&err);
                tracing::error!(command = %name, "command failed: {line}");
                eprintln!("error: {line}");
                // `exit` skips destructors: flush the log first.
                drop(log);
                std::process::exit(1);
            }
            tracing::info!(command = %name, "command finished");
        }
    }
}
