//! Real time in: signed webhooks (Stripe, Dub, Lookback's generic scheme) and S2S postbacks,
//! received by a local, opt-in HTTP listener.
//!
//! Code map:
//! - [`verify`]: the signature schemes, pure and constant-time.
//! - [`extract`]: a verified delivery → the record a poll would have stored (event id, stream,
//!   external id, payload with e-mails hashed).
//! - [`receiver`]: the hyper server, the group-committing writer thread, the normalizer thread.
//! - [`normalizer`]: stored deliveries → canonical rows (the connectors' own `normalize`) or
//!   dead letters.
//! - this module: the secrets of each source, kept in the OS keyring; the store keeps only
//!   their keyring references, so several can be valid at once during a rotation.
//!
//! Architecture Invariants:
//! - Verification runs over the raw bytes before anything is parsed or written; a rejected
//!   request writes nothing.
//! - A delivery is acknowledged (2xx) only after it is committed; duplicates (same source and
//!   event id) are acknowledged and write nothing.
//! - Polling sync stays the reconciliation path: a pushed record and a polled one share the
//!   `raw_events` key, so whichever comes second is a duplicate.

pub mod extract;
pub mod normalizer;
pub mod receiver;
pub mod verify;

use std::collections::HashMap;
use std::net::SocketAddr;

use lookback_store::{Store, StoreError};

pub use normalizer::{NormalizeSummary, normalize_pending};
pub use receiver::{
    DEFAULT_BIND, DEFAULT_MAX_BODY_BYTES, DEFAULT_TOLERANCE, RealtimeEvent, ReceiverConfig,
    RunningReceiver, SecretMap, secret_map, start_receiver,
};
pub use verify::{Scheme, sign_hex, stripe_signature_header};

use crate::secret::Secret;
use crate::{SyncError, credentials};

/// Everything that can stop the receiver or a webhook-secret command.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The listen address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },

    /// A worker thread could not be started.
    #[error("cannot start a receiver thread: {0}")]
    Thread(std::io::Error),

    /// A source name that cannot appear in an endpoint path.
    #[error("invalid webhook source name {name:?}: use 1-64 letters, digits, '-', '_' or '.'")]
    InvalidSource { name: String },

    /// The keyring refused or lost a secret (the secret itself is never in the message).
    #[error(transparent)]
    Credentials(#[from] SyncError),

    /// The workspace store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The keyring user name of a new webhook secret of `source`. The keyring is shared by every
/// workspace on the machine, so the name carries a suffix unique to this moment and process:
/// two workspaces with a source of the same name never overwrite or remove each other's secret.
fn secret_ref(source: &str, now_ms: i64) -> String {
    format!(
        "webhook:{source}:{:x}",
        crate::sources::unique_suffix(now_ms)
    )
}

/// Stores a new webhook secret of `source` in the keyring and records its reference; older
/// secrets stay valid until removed (rotation). Returns the reference.
pub fn add_webhook_secret(
    store: &mut Store,
    source: &str,
    secret: &Secret,
    now_ms: i64,
) -> Result<String, WebhookError> {
    if source.is_empty()
        || source.len() > 64
        || !source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(WebhookError::InvalidSource {
            name: source.to_owned(),
        });
    }
    let reference = secret_ref(source, now_ms);
    credentials::store_secret(&reference, secret)?;
    if let Err(error) = store.write(|tx| tx.add_webhook_secret_ref(source, &reference, now_ms)) {
        // Keep the keyring and the store in step: a secret nobody references is removed.
        let _ = credentials::delete_secret(&reference);
        return Err(error.into());
    }
    Ok(reference)
}

/// Removes every webhook secret of `source` (keyring entries and references); returns how many.
pub fn remove_webhook_secrets(store: &mut Store, source: &str) -> Result<usize, WebhookError> {
    let refs = store.webhook_secret_refs(Some(source))?;
    for reference in &refs {
        remove_webhook_secret(store, &reference.secret_ref)?;
    }
    Ok(refs.len())
}

/// Removes one webhook secret (its keyring entry, then its reference) — the last step of a
/// rotation, once the sender signs with the newer secret. Answers whether it existed.
pub fn remove_webhook_secret(store: &mut Store, secret_ref: &str) -> Result<bool, WebhookError> {
    let known = store
        .webhook_secret_refs(None)?
        .iter()
        .any(|r| r.secret_ref == secret_ref);
    if !known {
        return Ok(false);
    }
    credentials::delete_secret(secret_ref)?;
    Ok(store.write(|tx| tx.remove_webhook_secret_ref(secret_ref))?)
}

/// Reads every source's webhook secrets from the keyring, for [`ReceiverConfig`].
pub fn load_webhook_secrets(store: &Store) -> Result<HashMap<String, Vec<Secret>>, WebhookError> {
    let mut secrets: HashMap<String, Vec<Secret>> = HashMap::new();
    for reference in store.webhook_secret_refs(None)? {
        let secret = credentials::load_secret(&reference.secret_ref, &reference.source)?;
        secrets.entry(reference.source).or_default().push(secret);
    }
    Ok(secrets)
}
