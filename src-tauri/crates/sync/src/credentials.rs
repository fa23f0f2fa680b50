//! Credentials in the OS keyring (Secret Service over D-Bus on Linux, Keychain on macOS,
//! Credential Manager on Windows). The store keeps only `credential_ref`, the keyring user
//! name under the service [`KEYRING_SERVICE`].

use std::io::{BufRead, IsTerminal, Read};

use crate::secret::Secret;
use crate::{SyncError, SyncResult};

/// The keyring service every Lookback credential is stored under.
pub const KEYRING_SERVICE: &str = "lookback";

fn entry(credential_ref: &str) -> SyncResult<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, credential_ref).map_err(keyring_error)
}

/// Keyring errors in words. They never carry the secret (the keyring crate does not echo it).
fn keyring_error(error: keyring::Error) -> SyncError {
    SyncError::Keyring {
        detail: error.to_string(),
    }
}

/// Stores `secret` under `credential_ref`, replacing any previous value.
pub fn store_secret(credential_ref: &str, secret: &Secret) -> SyncResult<()> {
    entry(credential_ref)?
        .set_password(secret.expose())
        .map_err(keyring_error)
}

/// Reads the secret of a source; `source_name` is for the message when it is missing.
pub fn load_secret(credential_ref: &str, source_name: &str) -> SyncResult<Secret> {
    match entry(credential_ref)?.get_password() {
        Ok(value) => Ok(Secret::new(value)),
        Err(keyring::Error::NoEntry) => Err(SyncError::MissingCredential {
            source_name: source_name.to_owned(),
        }),
        Err(other) => Err(keyring_error(other)),
    }
}

/// Deletes a credential; a missing one is not an error (the goal is that it is gone).
pub fn delete_secret(credential_ref: &str) -> SyncResult<()> {
    match entry(credential_ref)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(other) => Err(keyring_error(other)),
    }
}

/// Reads a secret for `source add`: from a prompt without echo when stdin is a terminal, else
/// the whole of stdin (a pipe or a file). Never from the command line, where `ps` and shell
/// history would show it.
pub fn read_secret_from_stdin(prompt: &str) -> SyncResult<Secret> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        eprint!("{prompt}");
        let echo_was_off = set_terminal_echo(false);
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if echo_was_off {
            set_terminal_echo(true);
            eprintln!();
        }
        read?;
        line
    } else {
        let mut all = String::new();
        stdin.lock().read_to_string(&mut all)?;
        all
    };
    let secret = Secret::new(text);
    if secret.is_empty() {
        return Err(SyncError::InvalidSource {
            detail: "the secret read from stdin is empty".to_owned(),
        });
    }
    Ok(secret)
}

/// Turns terminal echo off or on with `stty` (present on every Unix); returns whether it
/// worked. Without it the prompt still works, it just echoes.
fn set_terminal_echo(on: bool) -> bool {
    if cfg!(unix) {
        std::process::Command::new("stty")
            .arg(if on { "echo" } else { "-echo" })
            .stdin(std::process::Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    } else {
        false
    }
}
