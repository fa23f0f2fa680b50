//! Registering, listing, removing and testing sources. The secret goes to the OS keyring
//! first and the store keeps only its reference, so a crash between the two leaves at worst an
//! orphaned keyring entry, never a secret in the workspace file.

use std::time::Instant;

use lookback_store::{Source, Store};

use crate::auth::{KNOWN_SETTINGS, SourceSettings};
use crate::credentials;
use crate::engine::{SyncOptions, source_context};
use crate::progress::CancellationToken;
use crate::registry::connector_for_kind;
use crate::secret::Secret;
use crate::transport::{FetchCost, FetchFailure, Fetched, Transport};
use crate::{SyncError, SyncResult};

/// What `lookback source add` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub kind: String,
    pub name: String,
    pub base_url: Option<String>,
    pub account: Option<String>,
}

/// Source names are what people type after `lookback sync`, and they become `source` on every
/// row, so they are kept to a shell- and URL-safe alphabet.
fn check_name(name: &str) -> SyncResult<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(SyncError::InvalidSource {
            detail: format!(
                "{name:?} is not a source name: use 1–64 letters, digits, '-', '_' or '.'"
            ),
        })
    }
}

/// Registers a source and stores its secret in the keyring. The source id is its name.
pub fn add_source(
    store: &mut Store,
    new: &NewSource,
    secret: &Secret,
    now_ms: i64,
) -> SyncResult<Source> {
    let connector = connector_for_kind(&new.kind)?;
    check_name(&new.name)?;
    if secret.is_empty() {
        return Err(SyncError::InvalidSource {
            detail: "the secret is empty".to_owned(),
        });
    }
    let secret = &connector
        .prepare_secret(secret.clone())
        .map_err(|detail| SyncError::InvalidSource { detail })?;
    if new.base_url.is_none() && connector.default_base_url().is_none() {
        return Err(SyncError::InvalidSource {
            detail: format!("a {} source needs --base-url", new.kind),
        });
    }
    if let Some(url) = &new.base_url {
        reqwest::Url::parse(url).map_err(|e| SyncError::InvalidSource {
            detail: format!("--base-url {url:?} is not a URL: {e}"),
        })?;
    }
    if connector.requires_account() && new.account.is_none() {
        return Err(SyncError::InvalidSource {
            detail: format!("a {} source needs --account", new.kind),
        });
    }
    if store
        .sources()?
        .iter()
        .any(|s| s.name == new.name || s.source_id == new.name)
    {
        return Err(SyncError::InvalidSource {
            detail: format!(
                "a source named {:?} exists; remove it first or choose another name",
                new.name
            ),
        });
    }
    // The reference is unique per registration, so two workspaces with a source of the same
    // name never share (or delete) each other's keyring entry.
    let credential_ref = format!("{}:{}:{:x}", new.kind, new.name, unique_suffix(now_ms));
    credentials::store_secret(&credential_ref, secret)?;
    let source = Source {
        source_id: new.name.clone(),
        kind: new.kind.clone(),
        name: new.name.clone(),
        base_url: new
            .base_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned()),
        account: new.account.clone(),
        credential_ref: Some(credential_ref.clone()),
        created_at_ms: now_ms,
        last_attempt_at_ms: None,
        last_success_at_ms: None,
        last_error: None,
    };
    if let Err(error) = store.write(|tx| tx.upsert_source(&source)) {
        let _ = credentials::delete_secret(&credential_ref);
        return Err(error.into());
    }
    Ok(source)
}

/// Sets non-secret settings of a registered source (the OAuth endpoint overrides in
/// [`KNOWN_SETTINGS`]), after checking each key is known and each value is an http(s) URL.
pub fn set_source_settings(
    store: &mut Store,
    name: &str,
    settings: &SourceSettings,
) -> SyncResult<()> {
    let source = find_source(store, name)?;
    for (key, value) in settings {
        if !KNOWN_SETTINGS.contains(&key.as_str()) {
            return Err(SyncError::InvalidSource {
                detail: format!(
                    "unknown source setting {key:?} (known: {})",
                    KNOWN_SETTINGS.join(", ")
                ),
            });
        }
        let url = reqwest::Url::parse(value).map_err(|e| SyncError::InvalidSource {
            detail: format!("{key} {value:?} is not a URL: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SyncError::InvalidSource {
                detail: format!("{key} {value:?} is not an http(s) URL"),
            });
        }
    }
    store.write(|tx| {
        for (key, value) in settings {
            tx.set_source_setting(&source.source_id, key, value)?;
        }
        Ok::<_, SyncError>(())
    })
}

pub(crate) fn unique_suffix(now_ms: i64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    (now_ms as u64) << 20 ^ nanos ^ u64::from(std::process::id())
}

/// The source with this name (or id).
pub fn find_source(store: &Store, name: &str) -> SyncResult<Source> {
    store
        .sources()?
        .into_iter()
        .find(|s| s.name == name || s.source_id == name)
        .ok_or_else(|| SyncError::UnknownSource {
            name: name.to_owned(),
        })
}

/// Removes a source and its keyring entry. The data it brought stays in the workspace.
pub fn remove_source(store: &mut Store, name: &str) -> SyncResult<Source> {
    let source = find_source(store, name)?;
    if let Some(credential_ref) = &source.credential_ref {
        credentials::delete_secret(credential_ref)?;
    }
    store.write(|tx| tx.delete_source(&source.source_id).map(|_| ()))?;
    Ok(source)
}

/// The secret of a registered source, from the keyring.
pub fn secret_of(source: &Source) -> SyncResult<Secret> {
    let credential_ref =
        source
            .credential_ref
            .as_deref()
            .ok_or_else(|| SyncError::MissingCredential {
                source_name: source.name.clone(),
            })?;
    credentials::load_secret(credential_ref, &source.name)
}

/// Makes one cheap authenticated request (for a source with an OAuth grant, after getting an
/// access token). `Ok` carries a line for the user ("HTTP 200 in 83 ms"); a refused credential
/// or a revoked grant is [`SyncError::Unauthorized`] with what to do about it. `settings` are
/// the source's (`Store::source_settings`).
pub async fn test_source(
    source: &Source,
    secret: &Secret,
    settings: &SourceSettings,
    options: &SyncOptions,
) -> SyncResult<String> {
    let connector = connector_for_kind(&source.kind)?;
    let context = source_context(&*connector, source, options)?;
    let transport = Transport::for_source(
        &*connector,
        &context,
        source,
        secret,
        settings,
        crate::RateLimit::UNLIMITED,
        options.retry.clone(),
    )?;
    let request = connector.test_request(&context)?;
    let started = Instant::now();
    let mut cost = FetchCost::default();
    let mut ignore_wait = |_: f64, _: String| {};
    let result = transport
        .fetch(
            &*connector,
            &context,
            "test",
            &request,
            &CancellationToken::new(),
            &mut cost,
            &mut ignore_wait,
            false,
        )
        .await;
    let unexpected = |detail: String| SyncError::UnexpectedResponse {
        source_name: source.name.clone(),
        stream: "test".to_owned(),
        detail,
    };
    match result {
        Ok(Fetched::Response(response)) => Ok(format!(
            "{}: the {} API accepted the credential (HTTP {} in {} ms)",
            source.name,
            source.kind,
            response.status,
            started.elapsed().as_millis()
        )),
        Ok(Fetched::Unavailable(detail)) => Err(unexpected(detail)),
        Err(FetchFailure::Unauthorized(detail)) => Err(SyncError::Unauthorized {
            source_name: source.name.clone(),
            kind: source.kind.clone(),
            detail,
        }),
        Err(FetchFailure::Exhausted {
            attempts,
            last_error,
        }) => Err(SyncError::RetriesExhausted {
            source_name: source.name.clone(),
            stream: "test".to_owned(),
            attempts,
            last_error,
        }),
        Err(FetchFailure::Fatal(detail) | FetchFailure::TooLarge(detail)) => {
            Err(unexpected(detail))
        }
        Err(FetchFailure::Cancelled) => Err(SyncError::Cancelled),
    }
}
