//! The sync engine: drives a connector's streams page by page and writes pages — raw events,
//! canonical rows, dead letters and the checkpoint — in one transaction each.
//!
//! Shape of a run: per stream, a *fetcher* task (spawned on the tokio runtime) requests,
//! retries, parses, normalizes and hashes pages and hands them over a bounded channel to the
//! *writer* (the caller's task, which owns the `Store`). Fetching page n+1 thus overlaps with
//! writing page n, and the channel's bound ([`PAGES_IN_FLIGHT`] pages) keeps memory flat
//! however long the history is. When the writer falls behind, it takes every page already
//! waiting (up to [`MAX_PAGES_PER_TRANSACTION`]) into one transaction: a commit's fixed cost
//! (the WAL append and its sync, the input-version bump, the checkpoint row) is then paid once
//! per batch instead of once per page, which is what the ingest benchmark is bound by.
//!
//! Architecture Invariant: a checkpoint is only ever written in the transaction of the pages it
//! covers (the last page's checkpoint, with that page and the ones before it). A run cancelled
//! or killed at any instant resumes from the last committed page; the records of a page fetched
//! again are duplicates in `raw_events` and change nothing.
//!
//! Architecture Invariant: a record whose payload equals its stored latest version is skipped
//! entirely (no canonical write, no second dead letter), which is what makes a second sync a
//! no-op and keeps dead letters from multiplying across restatement re-reads.

use std::sync::Arc;

use lookback_core::traffic::{TrafficParts, TrafficSignals};
use lookback_store::{
    InsertOutcome, NewDeadLetter, NewRawEvent, RawEventOutcome, Source, Store, StoreError,
    StoreResult, SyncCheckpoint, TouchClassifier, WriteTx, payload_sha256,
};
use tokio::sync::mpsc;

use crate::connector::{
    CanonicalRow, Connector, Normalized, RateLimit, RecordProblem, SourceContext,
};
use crate::progress::{
    CancellationToken, SourceSyncSummary, StreamCounters, StreamOutcome, StreamSummary, SyncEvent,
};
use crate::registry::connector_for_kind;
use crate::secret::Secret;
use crate::transport::{FetchCost, FetchFailure, Fetched, RetryPolicy, Transport};
use crate::{SyncError, SyncResult};

/// Where page-level dead letters' locations begin; they are resolved automatically once a
/// later sync of the same stream completes.
pub const REQUEST_LOCATION_PREFIX: &str = "request ";

/// How one sync run behaves. `now_ms` is the run's clock (DESIGN §11: time is a parameter).
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub now_ms: i64,
    /// Overrides the connector's documented rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Overrides the connector's restatement window (days re-read on every sync).
    pub restatement_days: Option<u32>,
    /// Overrides the connector's page size (clamped by the connector to the platform's maximum).
    pub page_size: Option<u32>,
    pub retry: RetryPolicy,
    /// Only these streams (all when `None`).
    pub streams: Option<Vec<String>>,
}

impl SyncOptions {
    pub fn new(now_ms: i64) -> SyncOptions {
        SyncOptions {
            now_ms,
            rate_limit: None,
            restatement_days: None,
            page_size: None,
            retry: RetryPolicy::default(),
            streams: None,
        }
    }
}

/// How many prepared pages the fetcher may have handed over and the writer not yet taken.
/// Bounds memory (a page of the generic API is ~1,000 records) and is the most one
/// transaction can batch beyond the page the writer was waiting for.
const PAGES_IN_FLIGHT: usize = 8;

/// The most pages written in one transaction. Bounded so a commit — and the progress a person
/// sees — never lags far behind the fetcher.
const MAX_PAGES_PER_TRANSACTION: usize = 8;

/// One record ready to be written: its payload (minimized: e-mails hashed, personal fields
/// redacted), the payload's SHA-256 (computed on the fetcher so the writer, the bottleneck,
/// does not) and its normalization.
struct PreparedRecord {
    external_id: String,
    payload: String,
    payload_sha256: [u8; 32],
    normalized: Result<Normalized, RecordProblem>,
    /// What the payload said about its request (user agent, verdict, headers), read before it
    /// was minimized, to classify a touch it becomes; held in memory only.
    traffic: TrafficParts,
}

/// A page ready to be written.
struct PreparedPage {
    number: u64,
    records: Vec<PreparedRecord>,
    checkpoint: String,
    cost: FetchCost,
}

/// What the fetcher tells the writer.
enum FetcherMessage {
    Page(PreparedPage),
    Waiting { seconds: f64, reason: String },
    Unavailable(String),
    Failed(StreamFailure),
    Done,
}

/// Why a stream stopped, with what the writer records for it.
struct StreamFailure {
    unauthorized: bool,
    message: String,
    /// A page-level dead letter (the request and the error), unless the credential was refused.
    dead_letter: Option<(String, String)>,
    /// Retries and waits spent on the request that failed.
    cost: FetchCost,
}

/// Builds the context a connector sees for `source` under `options`.
pub fn source_context(
    connector: &dyn Connector,
    source: &Source,
    options: &SyncOptions,
) -> SyncResult<SourceContext> {
    let base_url = source
        .base_url
        .clone()
        .or_else(|| connector.default_base_url().map(str::to_owned))
        .ok_or_else(|| SyncError::InvalidSource {
            detail: format!("a {} source needs --base-url", connector.kind()),
        })?;
    Ok(SourceContext {
        source_id: source.source_id.clone(),
        source_name: source.name.clone(),
        base_url: base_url.trim_end_matches('/').to_owned(),
        account: source.account.clone(),
        restatement_days: options
            .restatement_days
            .unwrap_or_else(|| connector.default_restatement_days()),
        page_size: options
            .page_size
            .unwrap_or_else(|| connector.default_page_size())
            .max(1),
        now_ms: options.now_ms,
    })
}

/// Syncs every stream of `source` (or those in `options.streams`) with `secret`.
///
/// Returns the summary when the run got to its end, even if streams failed (their failure is
/// recorded on the source and in dead letters). Returns an error when the credential was
/// refused (the whole source stops and is recorded as needing reconnecting — not as a sync
/// failure — with nothing it brought touched), when cancelled, or when the store failed.
///
/// Where the platform can inspect a credential (Meta's `debug_token`), the run first reads the
/// credential's expiry and scopes and stores them with the source, so an expiring token is
/// flagged before it stops working.
pub async fn sync_source(
    store: &mut Store,
    source: &Source,
    secret: &Secret,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(&SyncEvent) + Send),
    cancel: &CancellationToken,
) -> SyncResult<SourceSyncSummary> {
    let connector = connector_for_kind(&source.kind)?;
    let context = Arc::new(source_context(&*connector, source, options)?);
    let rate_limit = options
        .rate_limit
        .unwrap_or_else(|| connector.default_rate_limit());
    let transport = Arc::new(Transport::for_source(
        &*connector,
        &context,
        source,
        secret,
        &store.source_settings(&source.source_id)?,
        rate_limit,
        options.retry.clone(),
    )?);
    store.write(|tx| {
        tx.record_sync_attempt(&source.source_id, options.now_ms)
            .map(|_| ())
    })?;
    match crate::credential_check::check_credential(store, source, secret, options).await {
        Ok(_) => {}
        // Recorded on the source by the check: the source needs reconnecting.
        Err(refused @ SyncError::Unauthorized { .. }) => return Err(refused),
        Err(error @ SyncError::Store(_)) => return Err(error),
        // The platform could not say (unreachable, an odd answer): the streams' own requests
        // tell whether the credential works.
        Err(_) => {}
    }

    let mut summary = SourceSyncSummary {
        source_id: source.source_id.clone(),
        streams: Vec::new(),
    };
    for &stream in connector.streams() {
        if let Some(only) = &options.streams
            && !only.iter().any(|s| s == stream)
        {
            continue;
        }
        progress(&SyncEvent::StreamStarted {
            source_id: source.source_id.clone(),
            stream: stream.to_owned(),
        });
        let result = sync_stream(
            store, &connector, &context, &transport, stream, progress, cancel,
        )
        .await;
        let stream_summary = match result {
            Ok(stream_summary) => stream_summary,
            Err(SyncError::Unauthorized {
                source_name,
                kind,
                detail,
            }) => {
                let error = SyncError::Unauthorized {
                    source_name,
                    kind,
                    detail,
                };
                // A refused credential is its own state (needs reconnecting), never recorded as
                // a generic sync failure; what the source brought stays as it is.
                return Err(crate::credential_check::record_if_refused(
                    store,
                    source,
                    error,
                    options.now_ms,
                ));
            }
            Err(other) => return Err(other),
        };
        progress(&SyncEvent::StreamFinished {
            source_id: source.source_id.clone(),
            summary: stream_summary.clone(),
        });
        let cancelled = stream_summary.outcome == StreamOutcome::Cancelled;
        summary.streams.push(stream_summary);
        if cancelled {
            return Err(SyncError::Cancelled);
        }
    }
    match summary.failure() {
        Some(error) => {
            let message = error.to_owned();
            store.write(|tx| {
                tx.record_sync_failure(&source.source_id, options.now_ms, &message)
                    .map(|_| ())
            })?;
        }
        None => store.write(|tx| {
            tx.record_sync_success(&source.source_id, options.now_ms)
                .map(|_| ())
        })?,
    }
    Ok(summary)
}

/// Syncs one stream from its checkpoint until the connector says it is caught up.
async fn sync_stream(
    store: &mut Store,
    connector: &Arc<dyn Connector>,
    context: &Arc<SourceContext>,
    transport: &Arc<Transport>,
    stream: &'static str,
    progress: &mut (dyn FnMut(&SyncEvent) + Send),
    cancel: &CancellationToken,
) -> SyncResult<StreamSummary> {
    let mut counters = StreamCounters::default();
    let finish = |counters: StreamCounters, outcome| StreamSummary {
        stream: stream.to_owned(),
        counters,
        outcome,
    };
    let checkpoint = store.checkpoint(&context.source_id, stream)?;
    let keep_raw_pii = store.store_raw_pii()?;
    let Some(first) = connector.start_position(
        context,
        stream,
        checkpoint.as_ref().map(|c| c.cursor.as_str()),
    )?
    else {
        return Ok(finish(counters, StreamOutcome::Complete));
    };

    let (sender, mut receiver) = mpsc::channel(PAGES_IN_FLIGHT);
    let fetcher = tokio::spawn(fetch_stream(
        Arc::clone(connector),
        Arc::clone(context),
        Arc::clone(transport),
        stream,
        first,
        keep_raw_pii,
        cancel.clone(),
        sender,
    ));
    // Abort the fetcher however this function ends, so no request outlives the run.
    let _abort_fetcher = AbortOnDrop(fetcher);

    let normalizer_version = connector.normalizer_version();
    // A message taken off the channel while batching pages that is not a page: handled next,
    // so messages keep their order.
    let mut pending: Option<FetcherMessage> = None;
    loop {
        let message = match pending.take() {
            Some(message) => Some(message),
            None => receiver.recv().await,
        };
        match message {
            Some(FetcherMessage::Page(page)) => {
                let mut batch = vec![page];
                while batch.len() < MAX_PAGES_PER_TRANSACTION {
                    match receiver.try_recv() {
                        Ok(FetcherMessage::Page(next)) => batch.push(next),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let written = write_pages(store, context, stream, normalizer_version, &mut batch)?;
                let costs: Vec<FetchCost> = batch.iter().map(|page| page.cost).collect();
                // Freeing a batch — some ten strings per record, allocated on the fetcher's
                // thread — cost the writer about a tenth of its time; a blocking-pool thread
                // frees it instead while the writer goes on to the next batch.
                tokio::task::spawn_blocking(move || drop(batch));
                // One event per page, as before batching: a listener counting pages sees each.
                for (page_counters, cost) in written.iter().zip(costs) {
                    counters.retries += cost.retries;
                    counters.waited += cost.waited;
                    add_page(&mut counters, page_counters);
                    progress(&SyncEvent::PageCommitted {
                        source_id: context.source_id.clone(),
                        stream: stream.to_owned(),
                        counters: counters.clone(),
                    });
                }
                if cancel.is_cancelled() {
                    return Ok(finish(counters, StreamOutcome::Cancelled));
                }
            }
            Some(FetcherMessage::Waiting { seconds, reason }) => progress(&SyncEvent::Waiting {
                source_id: context.source_id.clone(),
                stream: stream.to_owned(),
                seconds,
                reason,
            }),
            Some(FetcherMessage::Done) => {
                store.write(|tx| {
                    tx.resolve_dead_letters_with_prefix(
                        &context.source_id,
                        stream,
                        &format!("{REQUEST_LOCATION_PREFIX}{stream} "),
                        context.now_ms,
                    )
                    .map(|_| ())
                })?;
                return Ok(finish(counters, StreamOutcome::Complete));
            }
            Some(FetcherMessage::Unavailable(detail)) => {
                return Ok(finish(counters, StreamOutcome::Unavailable(detail)));
            }
            Some(FetcherMessage::Failed(failure)) => {
                counters.retries += failure.cost.retries;
                counters.waited += failure.cost.waited;
                if failure.unauthorized {
                    return Err(SyncError::Unauthorized {
                        source_name: context.source_name.clone(),
                        kind: connector.kind().to_owned(),
                        detail: failure.message,
                    });
                }
                if let Some((location, payload)) = &failure.dead_letter {
                    let letter = NewDeadLetter {
                        source: context.source_id.clone(),
                        stream: stream.to_owned(),
                        location: location.clone(),
                        reason: failure.message.clone(),
                        payload: payload.clone(),
                        created_at_ms: context.now_ms,
                    };
                    store.write(|tx| tx.insert_dead_letter(&letter).map(|_| ()))?;
                }
                return Ok(finish(counters, StreamOutcome::Failed(failure.message)));
            }
            None if cancel.is_cancelled() => return Ok(finish(counters, StreamOutcome::Cancelled)),
            None => {
                return Ok(finish(
                    counters,
                    StreamOutcome::Failed(format!(
                        "{}/{stream}: the fetcher stopped unexpectedly",
                        context.source_name
                    )),
                ));
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The fetcher of one stream: request, retry, parse, minimize, normalize, hand over. It is a
/// spawned task, so it owns what it uses; the arguments are exactly that, and bundling them
/// would only rename them.
#[allow(clippy::too_many_arguments)]
async fn fetch_stream(
    connector: Arc<dyn Connector>,
    context: Arc<SourceContext>,
    transport: Arc<Transport>,
    stream: &'static str,
    first: String,
    keep_raw_pii: bool,
    cancel: CancellationToken,
    sender: mpsc::Sender<FetcherMessage>,
) {
    let mut position = first;
    let mut number = 0u64;
    let name = &context.source_name;
    loop {
        if cancel.is_cancelled() {
            return;
        }
        number += 1;
        let request = match connector.page_request(&context, stream, &position) {
            Ok(request) => request,
            Err(error) => {
                let message = transport.redact(&error.to_string());
                let _ = sender
                    .send(FetcherMessage::Failed(StreamFailure {
                        unauthorized: false,
                        message,
                        dead_letter: None,
                        cost: FetchCost::default(),
                    }))
                    .await;
                return;
            }
        };
        let location = format!(
            "{REQUEST_LOCATION_PREFIX}{stream} page {number}: {}",
            request.url
        );
        let mut cost = FetchCost::default();
        // What to ask instead if the platform says this request asks for too much.
        let smaller = connector.smaller_position(&context, stream, &position);
        let wait_sender = sender.clone();
        let mut on_wait = move |seconds: f64, reason: String| {
            let _ = wait_sender.try_send(FetcherMessage::Waiting { seconds, reason });
        };
        let fetched = transport
            .fetch(
                &*connector,
                &context,
                stream,
                &request,
                &cancel,
                &mut cost,
                &mut on_wait,
                smaller.is_some(),
            )
            .await;
        let page_dead_letter = |error: &str| {
            let payload =
                serde_json::json!({"url": request.url, "position": position, "error": error})
                    .to_string();
            Some((location.clone(), payload))
        };
        let response = match fetched {
            Ok(Fetched::Response(response)) => response,
            Ok(Fetched::Unavailable(detail)) => {
                let _ = sender.send(FetcherMessage::Unavailable(detail)).await;
                return;
            }
            Err(FetchFailure::Cancelled) => return,
            // The same records, asked for in smaller pieces; nothing was received to commit.
            Err(FetchFailure::TooLarge(_)) if smaller.is_some() => {
                number -= 1;
                position = smaller.expect("checked");
                continue;
            }
            Err(FetchFailure::Unauthorized(detail)) => {
                let _ = sender
                    .send(FetcherMessage::Failed(StreamFailure {
                        unauthorized: true,
                        message: detail,
                        dead_letter: None,
                        cost,
                    }))
                    .await;
                return;
            }
            Err(FetchFailure::Exhausted {
                attempts,
                last_error,
            }) => {
                let message = SyncError::RetriesExhausted {
                    source_name: name.clone(),
                    stream: stream.to_owned(),
                    attempts,
                    last_error,
                }
                .to_string();
                let dead_letter = page_dead_letter(&message);
                let _ = sender
                    .send(FetcherMessage::Failed(StreamFailure {
                        unauthorized: false,
                        message,
                        dead_letter,
                        cost,
                    }))
                    .await;
                return;
            }
            Err(FetchFailure::Fatal(detail) | FetchFailure::TooLarge(detail)) => {
                let message = SyncError::UnexpectedResponse {
                    source_name: name.clone(),
                    stream: stream.to_owned(),
                    detail,
                }
                .to_string();
                let dead_letter = page_dead_letter(&message);
                let _ = sender
                    .send(FetcherMessage::Failed(StreamFailure {
                        unauthorized: false,
                        message,
                        dead_letter,
                        cost,
                    }))
                    .await;
                return;
            }
        };
        let page = match connector.parse_page(&context, stream, &position, &response) {
            Ok(page) => page,
            Err(detail) => {
                let detail =
                    transport.redact(&format!("the page is not the documented shape: {detail}"));
                let message = SyncError::UnexpectedResponse {
                    source_name: name.clone(),
                    stream: stream.to_owned(),
                    detail,
                }
                .to_string();
                let payload = serde_json::json!({"url": request.url, "position": position, "error": message,
                                                 "body": transport.redact(&response.body_excerpt())}).to_string();
                let dead_letter = Some((location.clone(), payload));
                let _ = sender
                    .send(FetcherMessage::Failed(StreamFailure {
                        unauthorized: false,
                        message,
                        dead_letter,
                        cost,
                    }))
                    .await;
                return;
            }
        };
        let records = page
            .records
            .into_iter()
            .map(|mut record| {
                // Read before minimizing: the user agent and headers that classify a touch are
                // personal and redacted next.
                let traffic = TrafficParts::of_payload(&record.payload);
                // Minimized before normalizing, so a payload re-read from raw_events (a replay)
                // normalizes exactly as this one does.
                lookback_core::pii::minimize(&mut record.payload, keep_raw_pii);
                let normalized = connector.normalize(&context, stream, &record.payload);
                let payload = record.payload.to_string();
                let payload_sha256 = payload_sha256(&payload);
                PreparedRecord {
                    external_id: record.external_id,
                    payload,
                    payload_sha256,
                    normalized,
                    traffic,
                }
            })
            .collect();
        let prepared = PreparedPage {
            number,
            records,
            checkpoint: page.checkpoint,
            cost,
        };
        if sender.send(FetcherMessage::Page(prepared)).await.is_err() {
            return;
        }
        match page.next {
            None => {
                let _ = sender.send(FetcherMessage::Done).await;
                return;
            }
            Some(next) => position = next,
        }
        if let Some(pause) = page.pause_before_next {
            let _ = sender
                .send(FetcherMessage::Waiting {
                    seconds: pause.as_secs_f64(),
                    reason: "the platform asked to slow down".to_owned(),
                })
                .await;
            if !crate::progress::sleep_unless_cancelled(&cancel, pause).await {
                return;
            }
        }
    }
}

/// Writes `pages` (consecutive pages of one stream, oldest first) and the last one's checkpoint
/// in one transaction. Returns what each page wrote, in order; nothing is counted unless the
/// transaction committed, so a failed batch is not reported as written. The pages are left to
/// the caller (their rows with `raw_event_id` set) so it decides where they are freed.
fn write_pages(
    store: &mut Store,
    context: &SourceContext,
    stream: &str,
    normalizer_version: i64,
    pages: &mut [PreparedPage],
) -> StoreResult<Vec<StreamCounters>> {
    let mut written = Vec::with_capacity(pages.len());
    let mut tx = store.begin()?;
    let mut classifier = TouchClassifier::load(&tx)?;
    for page in pages.iter_mut() {
        written.push(write_page_records(
            &mut tx,
            &mut classifier,
            context,
            stream,
            normalizer_version,
            page.number,
            &mut page.records,
        )?);
    }
    if let Some(last) = pages.last() {
        tx.put_checkpoint(&SyncCheckpoint {
            source_id: context.source_id.clone(),
            stream: stream.to_owned(),
            cursor: last.checkpoint.clone(),
            updated_at_ms: context.now_ms,
        })?;
    }
    tx.commit()?;
    Ok(written)
}

/// Adds what one committed page wrote to a stream's running counters.
fn add_page(counters: &mut StreamCounters, page: &StreamCounters) {
    counters.pages += 1;
    counters.records += page.records;
    counters.inserted += page.inserted;
    counters.duplicates += page.duplicates;
    counters.new_versions += page.new_versions;
    counters.dead_letters += page.dead_letters;
    counters.unknown_fields += page.unknown_fields;
}

/// Writes the records of page `number` into `tx` (its checkpoint is the caller's) and counts
/// what they did.
fn write_page_records(
    tx: &mut WriteTx<'_>,
    classifier: &mut TouchClassifier,
    context: &SourceContext,
    stream: &str,
    normalizer_version: i64,
    number: u64,
    records: &mut [PreparedRecord],
) -> StoreResult<StreamCounters> {
    let mut page_counters = StreamCounters::default();
    for record in records.iter_mut() {
        page_counters.records += 1;
        let outcome = tx.insert_raw_event_with_sha256(
            &NewRawEvent {
                source: &context.source_id,
                stream,
                external_id: &record.external_id,
                received_at_ms: context.now_ms,
                payload: &record.payload,
                normalizer_version,
            },
            &record.payload_sha256,
        )?;
        let raw_event_id = match outcome {
            RawEventOutcome::Duplicate(_) => {
                page_counters.duplicates += 1;
                continue;
            }
            RawEventOutcome::Inserted(id) => {
                page_counters.inserted += 1;
                id
            }
            RawEventOutcome::NewVersion(id) => {
                page_counters.new_versions += 1;
                id
            }
        };
        let location = || {
            format!(
                "{}/{stream} page {} record {}",
                context.source_id, number, record.external_id
            )
        };
        match &mut record.normalized {
            Ok(normalized) => {
                page_counters.unknown_fields += u64::from(normalized.unknown_fields);
                let signals = record.traffic.signals(classifier.rules());
                match apply_rows_in_place(
                    tx,
                    &mut normalized.rows,
                    Some(raw_event_id),
                    Some((&mut *classifier, &signals)),
                ) {
                    Ok(()) => {}
                    Err(StoreError::InvalidValue { field, detail }) => {
                        page_counters.dead_letters += 1;
                        tx.insert_dead_letter(&NewDeadLetter {
                            source: context.source_id.clone(),
                            stream: stream.to_owned(),
                            location: location(),
                            reason: format!("invalid {field}: {detail}"),
                            payload: record.payload.clone(),
                            created_at_ms: context.now_ms,
                        })?;
                    }
                    Err(other) => return Err(other),
                }
            }
            Err(problem) => {
                page_counters.dead_letters += 1;
                tx.insert_dead_letter(&NewDeadLetter {
                    source: context.source_id.clone(),
                    stream: stream.to_owned(),
                    location: location(),
                    reason: std::mem::take(&mut problem.reason),
                    payload: std::mem::take(&mut record.payload),
                    created_at_ms: context.now_ms,
                })?;
            }
        }
    }
    Ok(page_counters)
}

/// Writes the canonical rows of one record, pointing them at `raw_event_id`; see
/// [`apply_owned_rows`], which this clones into.
pub(crate) fn apply_rows(
    tx: &mut WriteTx<'_>,
    rows: &[CanonicalRow],
    raw_event_id: Option<i64>,
    traffic: Option<(&mut TouchClassifier, &TrafficSignals)>,
) -> StoreResult<()> {
    apply_rows_in_place(tx, &mut rows.to_vec(), raw_event_id, traffic)
}

/// Writes the canonical rows of one record, pointing them at `raw_event_id`. Idempotent: a row
/// that exists keeps its id and only takes the new status (an order that got paid, a dispute
/// that was won), and a restated spend day replaces the stored one. Takes the rows by value
/// so a caller that is done with them (a replay) does not clone every row; the sync's writer
/// uses [`apply_rows_in_place`].
pub(crate) fn apply_owned_rows(
    tx: &mut WriteTx<'_>,
    mut rows: Vec<CanonicalRow>,
    raw_event_id: Option<i64>,
) -> StoreResult<()> {
    apply_rows_in_place(tx, &mut rows, raw_event_id, None)
}

/// [`apply_owned_rows`] on rows the caller keeps: each row's `raw_event_id` is set in place (if
/// it had none), so the sync's writer neither clones nor frees rows while it holds the lock.
fn apply_rows_in_place(
    tx: &mut WriteTx<'_>,
    rows: &mut [CanonicalRow],
    raw_event_id: Option<i64>,
    mut traffic: Option<(&mut TouchClassifier, &TrafficSignals)>,
) -> StoreResult<()> {
    for row in rows.iter_mut() {
        match row {
            CanonicalRow::Touch(touch) => {
                touch.raw_event_id = touch.raw_event_id.or(raw_event_id);
                // A touch seen for the first time is classified (issue 15); a re-delivered one
                // keeps the class it got then.
                if tx.insert_touch(touch)? == InsertOutcome::Inserted
                    && let Some((classifier, signals)) = traffic.as_mut()
                {
                    classifier.record(tx, touch, (*signals).clone())?;
                }
            }
            CanonicalRow::Order(order) => {
                order.raw_event_id = order.raw_event_id.or(raw_event_id);
                // A restated order (its status, and its gross: voided, captured in parts)
                // applies; another platform's report of a sale stored under another id (an
                // alias) leaves the stored order alone.
                if tx.insert_order(order)? == InsertOutcome::Duplicate
                    && tx.canonical_order_id(&order.order_id)? == order.order_id
                {
                    tx.restate_order(order)?;
                }
            }
            CanonicalRow::OrderAlias(alias) => {
                tx.add_order_alias(
                    &alias.order_id,
                    &alias.alias,
                    &alias.source,
                    alias.created_at_ms,
                )?;
            }
            CanonicalRow::Adjustment(adjustment) => {
                adjustment.raw_event_id = adjustment.raw_event_id.or(raw_event_id);
                if tx.insert_adjustment(adjustment)? == InsertOutcome::Duplicate {
                    tx.update_adjustment_status(&adjustment.adjustment_id, &adjustment.status)?;
                }
            }
            CanonicalRow::AdSpend(spend) => {
                spend.raw_event_id = spend.raw_event_id.or(raw_event_id);
                tx.upsert_ad_spend(spend)?;
            }
            CanonicalRow::CreatorCost(cost) => {
                cost.raw_event_id = cost.raw_event_id.or(raw_event_id);
                tx.insert_creator_cost(cost)?;
            }
            CanonicalRow::VoidedCreatorCost { cost_id, source } => {
                tx.remove_creator_cost(cost_id, source)?;
            }
            CanonicalRow::IdentityLink(link) => {
                tx.insert_identity_link_from(link, raw_event_id)?;
            }
            CanonicalRow::Creator(creator) => tx.upsert_creator(creator)?,
            CanonicalRow::Campaign(campaign) => tx.upsert_campaign(campaign)?,
            CanonicalRow::Content(content) => tx.upsert_content(content)?,
        }
    }
    Ok(())
}
