//! The background half of the receiver: turns stored deliveries into canonical rows with the
//! platform connector's own `normalize`, or into dead letters, after the sender got its 2xx.
//!
//! Each batch is one transaction: rows (or the dead letter) and the delivery's
//! `normalized_at_ms` commit together, so a crash re-normalizes the batch, and writing rows is
//! idempotent on the source's ids, so that changes nothing twice.

use lookback_core::traffic::TrafficSignals;
use lookback_store::{NewDeadLetter, Store, StoreError, TouchClassifier};
use serde_json::Value;

use super::extract::OTHER_EVENTS;
use super::verify::Scheme;
use crate::SyncResult;
use crate::connector::{Connector, SourceContext};
use crate::connectors::{dub::DubConnector, generic::GenericConnector, stripe::StripeConnector};
use crate::engine::apply_rows;

/// How many deliveries one transaction of the normalizer handles.
pub const NORMALIZE_BATCH: usize = 500;

/// What one pass of [`normalize_pending`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NormalizeSummary {
    /// Deliveries handled (rows written, nothing to write, or dead-lettered).
    pub handled: u64,
    /// Deliveries whose record became a dead letter.
    pub dead_letters: u64,
}

/// The connector that normalizes deliveries of a scheme (postbacks are generic events).
pub fn connector_for_scheme(scheme: Scheme) -> &'static dyn Connector {
    match scheme {
        Scheme::Stripe => &StripeConnector,
        Scheme::Dub => &DubConnector,
        Scheme::Generic | Scheme::Postback => &GenericConnector,
    }
}

/// The normalization version stored on a delivery's raw event.
pub fn normalizer_version(scheme: Scheme) -> i64 {
    connector_for_scheme(scheme).normalizer_version()
}

/// Normalizes every pending delivery, in batches, at `now_ms`.
pub fn normalize_pending(store: &mut Store, now_ms: i64) -> SyncResult<NormalizeSummary> {
    let mut summary = NormalizeSummary::default();
    loop {
        let pending = store.pending_webhook_deliveries(NORMALIZE_BATCH)?;
        if pending.is_empty() {
            return Ok(summary);
        }
        let mut tx = store.begin()?;
        // A delivery's touch is classified from the signals its request carried (kept at
        // receipt, before the payload was minimized) and from what the store knows: timing after
        // the post or e-mail, bursts across this batch.
        let mut classifier = TouchClassifier::load(&tx)?;
        for delivery in &pending {
            let signals = delivery
                .traffic_signals
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .map(|value| TrafficSignals::from_json(&value))
                .unwrap_or_default();
            let scheme = Scheme::parse(&delivery.scheme).unwrap_or(Scheme::Generic);
            let connector = connector_for_scheme(scheme);
            let context = SourceContext {
                source_id: delivery.source.clone(),
                source_name: delivery.source.clone(),
                base_url: String::new(),
                account: None,
                restatement_days: 0,
                page_size: 100,
                now_ms,
            };
            let location = format!(
                "webhook {}/{} event {}",
                delivery.scheme, delivery.source, delivery.event_id
            );
            let problem = if delivery.stream == OTHER_EVENTS && scheme == Scheme::Stripe {
                // Event types Lookback does not use (customer.created, …) stay in raw_events only.
                None
            } else {
                match serde_json::from_str::<Value>(&delivery.payload) {
                    Err(e) => Some(format!("the stored payload is not JSON ({e})")),
                    Ok(payload) => {
                        match connector.normalize(&context, &delivery.stream, &payload) {
                            Err(problem) => Some(problem.reason),
                            Ok(normalized) => match apply_rows(
                                &mut tx,
                                &normalized.rows,
                                Some(delivery.raw_event_id),
                                Some((&mut classifier, &signals)),
                            ) {
                                Ok(()) => None,
                                Err(StoreError::InvalidValue { field, detail }) => {
                                    Some(format!("invalid {field}: {detail}"))
                                }
                                Err(other) => return Err(other.into()),
                            },
                        }
                    }
                }
            };
            if let Some(reason) = problem {
                summary.dead_letters += 1;
                tx.insert_dead_letter(&NewDeadLetter {
                    source: delivery.source.clone(),
                    stream: delivery.stream.clone(),
                    location,
                    reason,
                    payload: delivery.payload.clone(),
                    created_at_ms: now_ms,
                })?;
            }
            tx.mark_webhook_normalized(delivery.delivery_id, now_ms)?;
            summary.handled += 1;
        }
        tx.commit()?;
    }
}
