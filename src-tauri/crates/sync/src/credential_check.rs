//! A source's credential beyond "does one request work": its own facts from the platform
//! (Meta's `debug_token`: expiry, data-access expiry, scopes, kind), a refusal recorded as the
//! distinct "needs reconnecting" state, and `source reconnect`, which puts a new secret in the
//! place of a refused one.
//!
//! Architecture Invariant: nothing here touches what a source brought. Recording a refusal or
//! reconnecting changes only the source's credential columns (and its keyring entry), so
//! checkpoints, raw events, canonical rows and dead letters stay, and the next sync resumes
//! where the last one stopped.

use lookback_store::{CredentialFacts, Source, Store};

use crate::connector::Connector;
use crate::connectors::meta::MetaConnector;
use crate::connectors::meta_token::{debug_token_request, parse_debug_token};
use crate::credentials;
use crate::engine::{SyncOptions, source_context};
use crate::progress::CancellationToken;
use crate::registry::connector_for_kind;
use crate::secret::Secret;
use crate::transport::{FetchCost, FetchFailure, Fetched, Transport};
use crate::{RateLimit, SyncError, SyncResult};

/// Asks the platform about `secret` as the credential of `source`. `Ok(None)`: the platform
/// has no way to inspect a credential (every kind but `meta` today). A credential the platform
/// refuses, or that lacks the permission to read, is [`SyncError::Unauthorized`].
pub async fn inspect_credential(
    source: &Source,
    secret: &Secret,
    options: &SyncOptions,
) -> SyncResult<Option<CredentialFacts>> {
    if source.kind != "meta" {
        return Ok(None);
    }
    let connector = MetaConnector;
    let context = source_context(&connector, source, options)?;
    let transport = Transport::new(
        secret.clone(),
        connector.auth_scheme(),
        RateLimit::UNLIMITED,
        options.retry.clone(),
    )
    .map_err(|detail| SyncError::Connector {
        connector: "meta",
        detail,
    })?;
    let request = debug_token_request(&context, secret)?;
    let mut cost = FetchCost::default();
    let mut ignore_wait = |_: f64, _: String| {};
    let fetched = transport
        .fetch(
            &connector,
            &context,
            "debug_token",
            &request,
            &CancellationToken::new(),
            &mut cost,
            &mut ignore_wait,
            false,
        )
        .await;
    let unauthorized = |detail: String| SyncError::Unauthorized {
        source_name: source.name.clone(),
        kind: source.kind.clone(),
        detail,
    };
    let unexpected = |detail: String| SyncError::UnexpectedResponse {
        source_name: source.name.clone(),
        stream: "debug_token".to_owned(),
        detail,
    };
    let response = match fetched {
        Ok(Fetched::Response(response)) => response,
        Ok(Fetched::Unavailable(detail)) => return Err(unexpected(detail)),
        Err(FetchFailure::Unauthorized(detail)) => return Err(unauthorized(detail)),
        Err(FetchFailure::Exhausted {
            attempts,
            last_error,
        }) => {
            return Err(SyncError::RetriesExhausted {
                source_name: source.name.clone(),
                stream: "debug_token".to_owned(),
                attempts,
                last_error,
            });
        }
        Err(FetchFailure::Fatal(detail) | FetchFailure::TooLarge(detail)) => {
            return Err(unexpected(detail));
        }
        Err(FetchFailure::Cancelled) => return Err(SyncError::Cancelled),
    };
    let info = parse_debug_token(&response).map_err(|e| unexpected(transport.redact(&e)))?;
    if let Some(reason) = info.refusal() {
        return Err(unauthorized(transport.redact(&reason)));
    }
    Ok(Some(CredentialFacts {
        expires_at_ms: info.expires_at_ms,
        data_access_expires_at_ms: info.data_access_expires_at_ms,
        scopes: info.scopes,
        token_type: info.token_type,
    }))
}

/// Records a refusal of `source`'s credential at `now_ms` when `error` is one (the source then
/// needs reconnecting); any other error is left to the caller. Returns `error` either way.
pub fn record_if_refused(
    store: &mut Store,
    source: &Source,
    error: SyncError,
    now_ms: i64,
) -> SyncError {
    if let SyncError::Unauthorized { detail, .. } = &error {
        let message = error.to_string();
        let recorded = store.write(|tx| {
            tx.record_credential_refused(&source.source_id, now_ms, detail, &message)
                .map(|_| ())
        });
        if let Err(store_error) = recorded {
            return store_error.into();
        }
    }
    error
}

/// Stores what the platform said about a source's credential (when it could say).
fn keep_facts(
    store: &mut Store,
    source: &Source,
    facts: Option<CredentialFacts>,
    now_ms: i64,
) -> SyncResult<Option<CredentialFacts>> {
    if let Some(facts) = &facts {
        store.write(|tx| {
            tx.record_credential_facts(&source.source_id, facts, now_ms)
                .map(|_| ())
        })?;
    }
    Ok(facts)
}

/// [`inspect_credential`] and store the outcome on the source: the facts, or the refusal
/// (needs reconnecting). Other failures (the platform unreachable) store nothing.
pub async fn check_credential(
    store: &mut Store,
    source: &Source,
    secret: &Secret,
    options: &SyncOptions,
) -> SyncResult<Option<CredentialFacts>> {
    match inspect_credential(source, secret, options).await {
        Ok(facts) => keep_facts(store, source, facts, options.now_ms),
        Err(error) => Err(record_if_refused(store, source, error, options.now_ms)),
    }
}

/// `lookback source test`: one cheap authenticated request, then (where the platform can say)
/// the credential's facts. A refusal is recorded (the source needs reconnecting); a success
/// leaves the state alone, since only a sync or a reconnect proves the whole source works.
/// Returns the lines to show.
pub async fn test_and_inspect(
    store: &mut Store,
    source: &Source,
    secret: &Secret,
    settings: &crate::auth::SourceSettings,
    options: &SyncOptions,
) -> SyncResult<Vec<String>> {
    let line = match crate::sources::test_source(source, secret, settings, options).await {
        Ok(line) => line,
        Err(error) => return Err(record_if_refused(store, source, error, options.now_ms)),
    };
    let mut lines = vec![line];
    if let Some(facts) = check_credential(store, source, secret, options).await? {
        lines.push(describe_facts(&source.name, &facts));
    }
    Ok(lines)
}

/// One line about a credential's facts, as the CLI prints it.
pub fn describe_facts(source_name: &str, facts: &CredentialFacts) -> String {
    let when =
        |ms: i64| lookback_core::time::format_instant_ms(ms).unwrap_or_else(|_| ms.to_string());
    format!(
        "{source_name}: {} token, {}{}; permissions: {}",
        facts.token_type.as_deref().unwrap_or("unknown kind of"),
        facts.expires_at_ms.map_or_else(
            || "never expires".to_owned(),
            |at| format!("expires {}", when(at))
        ),
        facts
            .data_access_expires_at_ms
            .map(|at| format!(", data access expires {}", when(at)))
            .unwrap_or_default(),
        if facts.scopes.is_empty() {
            "none".to_owned()
        } else {
            facts.scopes.join(", ")
        }
    )
}

/// `lookback source add` and the window's Connect form, one job for both: registers the
/// source (its secret to the OS keyring), stores its non-secret settings (OAuth endpoint
/// overrides), then vets the credential where the platform can say ([`vet_new_source`]).
/// A setting or a credential refused on the way leaves no source behind.
pub async fn add_vetted_source(
    store: &mut Store,
    new: &crate::NewSource,
    secret: &Secret,
    settings: &crate::auth::SourceSettings,
    options: &SyncOptions,
) -> SyncResult<(Source, Option<CredentialFacts>)> {
    let source = crate::sources::add_source(store, new, secret, options.now_ms)?;
    if let Err(error) = crate::sources::set_source_settings(store, &source.name, settings) {
        crate::sources::remove_source(store, &source.name)?;
        return Err(error);
    }
    let facts = vet_new_source(store, &source, secret, options).await?;
    Ok((source, facts))
}

/// After `source add`: inspects the new source's credential where the platform can say, and
/// stores its facts. A credential the platform refuses — or, for Meta, one without `ads_read`
/// — is not kept: the source and its keyring entry are removed again and the refusal is the
/// error ([`SyncError::InvalidSource`]: there is no source left to reconnect). When the platform cannot be reached the source stays (a later `source test` or sync
/// asks again). Returns the facts, if any.
pub async fn vet_new_source(
    store: &mut Store,
    source: &Source,
    secret: &Secret,
    options: &SyncOptions,
) -> SyncResult<Option<CredentialFacts>> {
    match inspect_credential(source, secret, options).await {
        Ok(facts) => keep_facts(store, source, facts, options.now_ms),
        Err(SyncError::Unauthorized { kind, detail, .. }) => {
            crate::sources::remove_source(store, &source.source_id)?;
            Err(SyncError::InvalidSource {
                detail: format!(
                    "the {kind} API refused the credential ({detail}); the source was not added"
                ),
            })
        }
        Err(_) => Ok(None),
    }
}

/// `lookback source reconnect NAME`: replaces the secret of a registered source with `secret`
/// (checked and reshaped as `source add` does), keeping the source, its keyring reference, its
/// data and its checkpoints, and ends a needs-reconnecting state. Where the platform can
/// inspect a credential (Meta), the new one is inspected first and a refused one replaces
/// nothing. Returns the source and the new credential's facts.
pub async fn reconnect_source(
    store: &mut Store,
    name: &str,
    secret: &Secret,
    options: &SyncOptions,
) -> SyncResult<(Source, Option<CredentialFacts>)> {
    let source = crate::sources::find_source(store, name)?;
    let connector = connector_for_kind(&source.kind)?;
    if secret.is_empty() {
        return Err(SyncError::InvalidSource {
            detail: "the secret is empty".to_owned(),
        });
    }
    let secret = connector
        .prepare_secret(secret.clone())
        .map_err(|detail| SyncError::InvalidSource { detail })?;
    let facts = inspect_credential(&source, &secret, options).await?;
    let credential_ref = source
        .credential_ref
        .clone()
        .unwrap_or_else(|| format!("{}:{}:reconnected", source.kind, source.name));
    credentials::store_secret(&credential_ref, &secret)?;
    let mut kept = source.clone();
    kept.credential_ref = Some(credential_ref);
    store.write(|tx| {
        tx.upsert_source(&kept)?;
        tx.clear_credential_refused(&kept.source_id)?;
        if let Some(facts) = &facts {
            tx.record_credential_facts(&kept.source_id, facts, options.now_ms)?;
        }
        Ok::<_, lookback_store::StoreError>(())
    })?;
    Ok((kept, facts))
}
