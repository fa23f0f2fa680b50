//! The `lookback` command: with a subcommand it runs that job headless and exits; with none it
//! opens the desktop window, which is a binary of its own, `lookback-window`, installed beside
//! this one ([`open_window`]). They are two so that a command does not load the ~170 shared
//! libraries the window links (WebKitGTK, GTK, GStreamer, …): the dynamic loader's symbol
//! look-ups for them were ~45 ms of every command's ~50 ms start (README, Benchmarks). Both
//! call the same library functions, so every job the window can do, the CLI (and so a test) can
//! do too.

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

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches};

/// The window's binary, in the directory of this one.
const WINDOW_BINARY: &str = "lookback-window";

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
        None => open_window(args.db),
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

/// Opens the desktop window on `db` (or the workspace it last had open): this process becomes
/// `lookback-window` from this binary's directory (on Unix by `exec`, keeping its process id
/// and environment, which a WebDriver session that launched `lookback` relies on; elsewhere as
/// a child whose exit code this process exits with).
fn open_window(db: Option<PathBuf>) -> ! {
    let window = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(format!("{WINDOW_BINARY}{}", std::env::consts::EXE_SUFFIX)),
        Err(err) => {
            eprintln!("error: cannot find this program's own file to open the window: {err}");
            std::process::exit(1);
        }
    };
    let mut command = std::process::Command::new(&window);
    if let Some(db) = db {
        command.arg("--db").arg(db);
    }
    #[cfg(unix)]
    let err = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let err = match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => err,
    };
    eprintln!(
        "error: cannot open the window ({}): {err}",
        window.display()
    );
    std::process::exit(1);
}
