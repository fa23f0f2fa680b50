//! The data of the Sources screen: per source, when it last synced, how far behind it is, how
//! many records it brought, its last error and its unresolved dead letters.

use lookback_store::Store;

use crate::SyncResult;

/// The checkpoint of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHealth {
    pub stream: String,
    /// When the stream last committed a page.
    pub checkpoint_at_ms: i64,
}

/// The health of one registered source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    pub source_id: String,
    pub kind: String,
    pub name: String,
    pub last_attempt_at_ms: Option<i64>,
    pub last_success_at_ms: Option<i64>,
    /// `now − last success`; `None` if it never succeeded.
    pub lag_ms: Option<i64>,
    /// Raw events the source brought (every version).
    pub records: u64,
    pub last_received_at_ms: Option<i64>,
    /// The last sync's error, if the last sync failed (never contains a secret).
    pub last_error: Option<String>,
    pub unresolved_dead_letters: u64,
    pub streams: Vec<StreamHealth>,
}

/// Health of every registered source at `now_ms`, sorted by source id.
pub fn source_health(store: &Store, now_ms: i64) -> SyncResult<Vec<SourceHealth>> {
    let dead_letters = store.unresolved_dead_letter_counts()?;
    let freshness = store.source_freshness()?;
    let mut health = Vec::new();
    for source in store.sources()? {
        let fresh = freshness.iter().find(|f| f.source_id == source.source_id);
        let streams = store
            .checkpoints_of(&source.source_id)?
            .into_iter()
            .map(|c| StreamHealth {
                stream: c.stream,
                checkpoint_at_ms: c.updated_at_ms,
            })
            .collect();
        health.push(SourceHealth {
            lag_ms: source.last_success_at_ms.map(|at| (now_ms - at).max(0)),
            records: fresh.map_or(0, |f| f.raw_event_count),
            last_received_at_ms: fresh.and_then(|f| f.last_received_at_ms),
            unresolved_dead_letters: dead_letters
                .iter()
                .find(|d| d.source == source.source_id)
                .map_or(0, |d| d.unresolved),
            source_id: source.source_id,
            kind: source.kind,
            name: source.name,
            last_attempt_at_ms: source.last_attempt_at_ms,
            last_success_at_ms: source.last_success_at_ms,
            last_error: source.last_error,
            streams,
        });
    }
    Ok(health)
}
