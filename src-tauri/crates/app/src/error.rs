//! The one error type every job returns: a kind the UI may branch on and a sentence to show.
//! Library errors keep their kind on the way (a damaged file stays `damaged`, a bad field
//! `invalid_input`); only what is truly unexpected becomes `internal`. SQLite meeting a damaged
//! page in the middle of a query is `damaged` too, and [`name_damaged_file`] names the file.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

/// What every job returns.
pub type AppResult<T> = Result<T, AppError>;

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
    /// The user stopped the job (a new attribution run, an upgrade); nothing of it was written.
    Cancelled,
    /// Anything else; the message says what.
    Internal,
}

/// An error as the UI sees it: a kind to branch on and a sentence to show.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ErrorKind {
    /// The kind as the UI and the logs spell it (`invalid_input`, `damaged`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NoWorkspace => "no_workspace",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotAWorkspace => "not_a_workspace",
            ErrorKind::Damaged => "damaged",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::NewerVersion => "newer_version",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
        }
    }
}

impl AppError {
    /// Something the user typed or chose in `field` cannot be used; the message names it.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        AppError::new(ErrorKind::InvalidInput, format!("{field}: {message}"))
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// The kind of a store error: what the file is, or what was handed to it.
fn store_kind(err: &lookback_store::StoreError) -> ErrorKind {
    use lookback_store::StoreError as E;
    if err.is_damage() {
        return ErrorKind::Damaged;
    }
    match err {
        E::NotFound { .. } => ErrorKind::NotFound,
        E::NotAWorkspace { .. } => ErrorKind::NotAWorkspace,
        E::Damaged { .. } | E::UndecodablePayload { .. } => ErrorKind::Damaged,
        E::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        E::NewerVersion { .. } => ErrorKind::NewerVersion,
        E::UpgradeStopped { .. } => ErrorKind::Cancelled,
        E::InvalidValue { .. } | E::RunNotFound { .. } => ErrorKind::InvalidInput,
        _ => ErrorKind::Internal,
    }
}

/// The store error `err` is or wraps, if any. The library crates wrap store errors
/// transparently, so a chain of causes skips them: each wrapper is opened here.
fn store_error_of<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a lookback_store::StoreError> {
    use lookback_alerts::AlertError;
    use lookback_demo::DemoError;
    use lookback_engine::EngineError;
    use lookback_ingest::IngestError;
    use lookback_report::ReportError;
    use lookback_store::StoreError;
    use lookback_sync::SyncError;
    use lookback_sync::webhooks::WebhookError;
    use lookback_trust::TrustError;
    if let Some(e) = err.downcast_ref::<StoreError>() {
        return Some(e);
    }
    if let Some(EngineError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(ReportError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(TrustError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(AlertError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(SyncError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(WebhookError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(IngestError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    if let Some(DemoError::Store(s)) = err.downcast_ref() {
        return Some(s);
    }
    None
}

/// `err`, met while working on the workspace at `path`: SQLite's report of a damaged page
/// (which cannot know the file) becomes the store's `Damaged` error naming it, with what was
/// being done; every other error is returned unchanged.
/// Whether `err` says there is no workspace file at all (the path named does not exist).
pub fn is_missing_workspace(err: &anyhow::Error) -> bool {
    err.chain()
        .find_map(store_error_of)
        .is_some_and(|e| matches!(e, lookback_store::StoreError::NotFound { .. }))
}

pub fn name_damaged_file(err: anyhow::Error, path: &Path) -> anyhow::Error {
    if !err
        .chain()
        .find_map(store_error_of)
        .is_some_and(|e| e.is_sqlite_damage())
    {
        return err;
    }
    // What was being done, down to the store's error; SQLite's own causes below it repeat it.
    let mut what = Vec::new();
    for cause in err.chain() {
        what.push(cause.to_string());
        if store_error_of(cause).is_some() {
            break;
        }
    }
    lookback_store::StoreError::damaged_page(path, what.join(": ")).into()
}

/// The kind of an error from any library crate, found by walking its chain: the first cause
/// whose kind is known decides. Errors that name a bad input (an unknown model, a malformed
/// day, a rule that cannot be) are `invalid_input`; a store error keeps its kind.
fn kind_of(err: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    use lookback_alerts::AlertError;
    use lookback_core::error::CoreError;
    use lookback_engine::EngineError;
    use lookback_ingest::IngestError;
    use lookback_report::ReportError;
    use lookback_sync::SyncError;
    use lookback_trust::TrustError;
    if let Some(e) = err.downcast_ref::<AppError>() {
        return Some(e.kind);
    }
    if let Some(e) = store_error_of(err) {
        return Some(store_kind(e));
    }
    if let Some(e) = err.downcast_ref::<EngineError>() {
        return match e {
            EngineError::Core(c) => kind_of(c),
            EngineError::Cancelled => Some(ErrorKind::Cancelled),
            EngineError::InvalidSetting { .. } | EngineError::InvalidModelChange { .. } => {
                Some(ErrorKind::InvalidInput)
            }
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<ReportError>() {
        return match e {
            ReportError::Core(c) => kind_of(c),
            ReportError::RunNotFound { .. } | ReportError::InvalidRange { .. } => {
                Some(ErrorKind::InvalidInput)
            }
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<TrustError>() {
        return match e {
            TrustError::Store(_) => None,
            TrustError::Time(c) => kind_of(c),
            TrustError::TargetExists { .. } => Some(ErrorKind::AlreadyExists),
            TrustError::InvalidKey { .. }
            | TrustError::PersonNotFound { .. }
            | TrustError::NoRetention
            | TrustError::InvalidWindow(_) => Some(ErrorKind::InvalidInput),
        };
    }
    if let Some(e) = err.downcast_ref::<SyncError>() {
        return match e {
            SyncError::UnknownKind { .. }
            | SyncError::UnknownSource { .. }
            | SyncError::InvalidSource { .. } => Some(ErrorKind::InvalidInput),
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<AlertError>() {
        return match e {
            AlertError::InvalidRule(_) | AlertError::UnknownRule(_) => {
                Some(ErrorKind::InvalidInput)
            }
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<IngestError>() {
        return match e {
            IngestError::UnknownKind { .. } => Some(ErrorKind::InvalidInput),
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<CoreError>() {
        // What someone typed or chose: a currency, an amount, a day, a zone, a model and its
        // parameters. Overflows, mismatches and limits are not the input's fault.
        return match e {
            CoreError::UnknownCurrency { .. }
            | CoreError::InvalidAmount { .. }
            | CoreError::TooManyDecimalPlaces { .. }
            | CoreError::NegativeAmount { .. }
            | CoreError::InvalidWeights { .. }
            | CoreError::InvalidRate { .. }
            | CoreError::InvalidInstant { .. }
            | CoreError::UnknownTimeZone { .. }
            | CoreError::UnknownBucket { .. }
            | CoreError::UnknownKeyType { .. }
            | CoreError::InvalidIdentityKey { .. }
            | CoreError::UnknownModel { .. }
            | CoreError::InvalidModelParams { .. }
            | CoreError::InvalidJourneyConfig { .. } => Some(ErrorKind::InvalidInput),
            _ => None,
        };
    }
    None
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        let kind = err.chain().find_map(kind_of).unwrap_or(ErrorKind::Internal);
        AppError::new(kind, one_line(&err))
    }
}

/// Library errors convert through the same classification as a chain of causes would.
macro_rules! from_library_error {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for AppError {
            fn from(err: $error) -> Self {
                AppError::from(anyhow::Error::from(err))
            }
        })*
    };
}

from_library_error!(
    lookback_store::StoreError,
    lookback_engine::EngineError,
    lookback_report::ReportError,
    lookback_trust::TrustError,
    lookback_sync::SyncError,
    lookback_alerts::AlertError,
    lookback_ingest::IngestError,
    lookback_core::error::CoreError,
);

/// Joins an error and its causes into one line: "what failed: why: deeper why".
pub fn one_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logs and the UI spell a kind the same way.
    #[test]
    fn a_kind_is_spelled_as_it_crosses_to_the_ui() {
        for kind in [
            ErrorKind::NoWorkspace,
            ErrorKind::NotFound,
            ErrorKind::NotAWorkspace,
            ErrorKind::Damaged,
            ErrorKind::AlreadyExists,
            ErrorKind::NewerVersion,
            ErrorKind::InvalidInput,
            ErrorKind::Cancelled,
            ErrorKind::Internal,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }
}
