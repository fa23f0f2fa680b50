//! Replaying the dead letters of a source after a fix: each stored payload is normalized again
//! by the current connector; those that now normalize are written and marked resolved in the
//! same transaction, the rest stay as they were.
//!
//! Page-level dead letters (a request that kept failing) have no records to re-normalize;
//! they are resolved by the next sync that gets past them, not here.

use lookback_store::{Source, Store};

use crate::SyncResult;
use crate::engine::{REQUEST_LOCATION_PREFIX, SyncOptions, apply_owned_rows, source_context};
use crate::registry::connector_for_kind;

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Record-level dead letters looked at.
    pub examined: u64,
    /// Now normalized, written and marked resolved.
    pub resolved: u64,
    /// Still not normalizable (left unresolved, reason unchanged).
    pub still_failing: u64,
}

/// Re-normalizes the unresolved record-level dead letters of `source`, at `now_ms`.
pub fn replay_dead_letters(
    store: &mut Store,
    source: &Source,
    now_ms: i64,
) -> SyncResult<ReplaySummary> {
    let connector = connector_for_kind(&source.kind)?;
    let context = source_context(&*connector, source, &SyncOptions::new(now_ms))?;
    let letters: Vec<_> = store
        .dead_letters(false)?
        .into_iter()
        .filter(|d| {
            d.source == source.source_id && !d.location.starts_with(REQUEST_LOCATION_PREFIX)
        })
        .collect();
    let mut summary = ReplaySummary::default();
    for letter in letters {
        summary.examined += 1;
        let Ok(payload) = serde_json::from_str::<serde_json::Value>(&letter.payload) else {
            summary.still_failing += 1;
            continue;
        };
        let Ok(normalized) = connector.normalize(&context, &letter.stream, &payload) else {
            summary.still_failing += 1;
            continue;
        };
        // The record's raw event: the location ends with "record <external id>".
        let raw_event_id = match letter.location.rsplit_once(" record ") {
            Some((_, external_id)) => store
                .raw_event_versions(&source.source_id, &letter.stream, external_id)?
                .into_iter()
                .rev()
                .find(|raw| raw.payload == letter.payload)
                .map(|raw| raw.raw_event_id),
            None => None,
        };
        let mut tx = store.begin()?;
        match apply_owned_rows(&mut tx, normalized.rows, raw_event_id) {
            Ok(()) => {
                tx.resolve_dead_letter(letter.dead_letter_id, now_ms)?;
                tx.commit()?;
                summary.resolved += 1;
            }
            Err(lookback_store::StoreError::InvalidValue { .. }) => summary.still_failing += 1,
            Err(other) => return Err(other.into()),
        }
    }
    Ok(summary)
}
