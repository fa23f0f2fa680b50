//! Wire types: everything that crosses from Rust to the UI, and nothing else.
//!
//! Each type derives `ts_rs::TS`; `ui/src/bindings.ts` is generated from them by
//! `cargo test -p lookback` with `UPDATE_BINDINGS=1`, and the test `bindings_are_current`
//! fails when the committed file is stale. Money crosses as exact decimal strings with their
//! currency (plus the integer minor units), never as floats; instants as UTC milliseconds.

use serde::Serialize;
use ts_rs::TS;

/// The closed set of error kinds the UI may branch on. The UI never matches message text.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No workspace is open in the window yet.
    NoWorkspace,
    /// The named workspace file does not exist.
    NotFound,
    /// The file exists but is not a Lookback workspace.
    NotAWorkspace,
    /// The file is a Lookback workspace but damaged (e.g. truncated); it is left untouched.
    Damaged,
    /// The file already exists, and creating a workspace never overwrites one.
    AlreadyExists,
    /// The workspace was written by a newer Lookback and is left untouched.
    NewerVersion,
    /// Something the user typed or chose cannot be used.
    InvalidInput,
    /// Anything else; the message says what.
    Internal,
}

/// An error as the UI sees it: a kind to branch on and a sentence to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    pub kind: ErrorKind,
    pub message: String,
}

impl IpcError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        IpcError { kind, message: message.into() }
    }
}

impl From<lookback_store::StoreError> for IpcError {
    fn from(err: lookback_store::StoreError) -> Self {
        use lookback_store::StoreError as E;
        let kind = match &err {
            E::NotFound { .. } => ErrorKind::NotFound,
            E::NotAWorkspace { .. } => ErrorKind::NotAWorkspace,
            E::Damaged { .. } => ErrorKind::Damaged,
            E::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            E::NewerVersion { .. } => ErrorKind::NewerVersion,
            _ => ErrorKind::Internal,
        };
        IpcError::new(kind, err.to_string())
    }
}

impl From<anyhow::Error> for IpcError {
    fn from(err: anyhow::Error) -> Self {
        // A store error inside keeps its kind; anything else is internal.
        match err.downcast_ref::<lookback_store::StoreError>() {
            Some(_) => {
                let store_err = err.downcast::<lookback_store::StoreError>().expect("checked above");
                IpcError::from(store_err)
            }
            None => IpcError::new(ErrorKind::Internal, crate::cli::one_line(&err)),
        }
    }
}

/// What the window needs at start: the open workspace, if any, and what it could open.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StartupState {
    pub workspace: Option<WorkspaceInfo>,
    /// Where "Open the demo workspace" writes (or finds) the demo.
    pub demo_path: String,
    /// Recently opened workspace files, most recent first, that still exist.
    pub recent: Vec<String>,
}

/// The open workspace: its file and its settings that shape every number.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WorkspaceInfo {
    pub path: String,
    pub name: String,
    pub reporting_currency: String,
    pub reporting_timezone: String,
}

/// An amount of money: exact decimal string in major units, the integer minor units, and the currency.
#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
pub struct MoneyAmount {
    pub currency: String,
    /// Exact decimal in major units, e.g. "1234.50".
    pub amount: String,
    #[ts(type = "number")]
    pub minor: i64,
}

/// Order revenue in one currency: gross, refunds, chargebacks and what is left.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RevenueByCurrency {
    pub currency: String,
    pub gross: MoneyAmount,
    pub refunds: MoneyAmount,
    pub chargebacks: MoneyAmount,
    pub net: MoneyAmount,
}

/// How current one source's data is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceFreshness {
    pub source_id: String,
    pub kind: String,
    pub name: String,
    #[ts(type = "number | null")]
    pub last_success_at_ms: Option<i64>,
    pub last_error: Option<String>,
    #[ts(type = "number")]
    pub records: i64,
}

/// The workspace overview screen: what is in the store, and how fresh it is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    pub workspace: WorkspaceInfo,
    #[ts(type = "number")]
    pub orders: i64,
    pub revenue: Vec<RevenueByCurrency>,
    pub spend: Vec<MoneyAmount>,
    #[ts(type = "number")]
    pub touches: i64,
    #[ts(type = "number")]
    pub creators: i64,
    #[ts(type = "number")]
    pub campaigns: i64,
    #[ts(type = "number | null")]
    pub first_activity_at_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub last_activity_at_ms: Option<i64>,
    #[ts(type = "number")]
    pub dead_letters: i64,
    pub sources: Vec<SourceFreshness>,
}

/// Every wire type, in the order they are written to `ui/src/bindings.ts`.
#[cfg(test)]
pub fn typescript_bindings() -> String {
    let decls = [
        ErrorKind::decl(),
        IpcError::decl(),
        StartupState::decl(),
        WorkspaceInfo::decl(),
        MoneyAmount::decl(),
        RevenueByCurrency::decl(),
        SourceFreshness::decl(),
        Overview::decl(),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/ipc.rs by `UPDATE_BINDINGS=1 cargo test -p lookback bindings`.\n// Do not edit by hand.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's types are generated, never hand-copied: this fails when `ui/src/bindings.ts`
    /// no longer matches the Rust wire types.
    #[test]
    fn bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let expected = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &expected).expect("write bindings");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "ui/src/bindings.ts is stale; run `UPDATE_BINDINGS=1 cargo test --workspace bindings` and commit it"
        );
    }
}
