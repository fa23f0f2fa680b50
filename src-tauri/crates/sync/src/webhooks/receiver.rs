//! The local HTTP receiver: verifies a delivery over its raw bytes, writes it durably, and only
//! then answers 2xx; normalization runs afterwards on its own thread.
//!
//! Shape (mini-redis style: who owns what):
//! - The *accept task* (tokio) owns the listener and a `JoinSet` of connection tasks; each
//!   connection serves HTTP/1.1 with hyper and handles requests concurrently with the others.
//! - The *writer thread* owns one [`Store`] and is the only writer of deliveries. Handlers send
//!   it a job with a one-shot reply and wait; it drains whatever has queued up into one
//!   transaction (group commit), so 2,000 deliveries/s cost a few dozen commits, not 2,000.
//!   Every handler answers only after the commit that holds its delivery.
//! - The *normalizer thread* owns a second [`Store`] connection and runs
//!   [`normalize_pending`] whenever the writer committed something (and once a second); every
//!   few seconds it also compares the workspace's webhook secret references with the loaded
//!   ones and reloads the secrets from the keyring when they changed (`SecretWatch`).
//!
//! Architecture Invariant: a 2xx is sent only after the delivery (or, for an unreadable body,
//! its dead letter) is committed. Rejected requests (401/400/413) write nothing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock, mpsc as std_mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use lookback_core::traffic::{RuleSet, TrafficParts};
use lookback_store::{
    NewDeadLetter, NewWebhookDelivery, Store, StoreResult, WebhookDeliveryOutcome,
};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinSet;

use super::WebhookError;
use super::extract::{ExtractedEvent, extract_with_traffic, form_pairs};
use super::normalizer::{NormalizeSummary, normalize_pending, normalizer_version};
use super::verify::{Rejection, Scheme, SignatureHeaders, verify};
use crate::secret::Secret;

/// The default address: loopback only. Another address must be chosen explicitly.
pub const DEFAULT_BIND: &str = "127.0.0.1:8787";
/// The default clock distance accepted on signed timestamps.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The default body cap; larger deliveries get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of a refused (oversized) body is read and discarded before the 413, and for how
/// long: enough for a sender a few MiB over the cap to read the answer.
const DRAIN_BUDGET_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The most jobs the writer commits in one transaction.
const MAX_BATCH: usize = 1024;
/// How long a handler waits for its commit before answering 503 (the sender retries). Well
/// inside the 5 s most platforms allow.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(4);

/// The secrets of every source, by source name. Shared with the running receiver, which
/// replaces the map when the workspace's secret references change (see `SecretWatch`), so a
/// rotation (`webhook secret add`, from the window or another process) applies without a
/// restart.
pub type SecretMap = Arc<RwLock<HashMap<String, Arc<Vec<Secret>>>>>;

/// How the receiver runs.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub bind: SocketAddr,
    pub tolerance: Duration,
    pub max_body_bytes: usize,
    pub secrets: SecretMap,
}

impl ReceiverConfig {
    /// Loopback on [`DEFAULT_BIND`], 5 min tolerance, 1 MiB cap, the given secrets.
    pub fn new(secrets: HashMap<String, Vec<Secret>>) -> ReceiverConfig {
        ReceiverConfig {
            bind: DEFAULT_BIND.parse().expect("a valid address"),
            tolerance: DEFAULT_TOLERANCE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            secrets: secret_map(secrets),
        }
    }
}

/// Wraps secrets for [`ReceiverConfig::secrets`].
pub fn secret_map(secrets: HashMap<String, Vec<Secret>>) -> SecretMap {
    Arc::new(RwLock::new(shared_secrets(secrets)))
}

fn shared_secrets(secrets: HashMap<String, Vec<Secret>>) -> HashMap<String, Arc<Vec<Secret>>> {
    secrets.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

/// How often the normalizer thread compares the workspace's webhook secret references with the
/// ones the running receiver loaded.
const SECRET_WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// Keeps a running receiver's secrets in step with the workspace: when the set of secret
/// references in the store differs from the one last loaded, every secret is read again from
/// the keyring and the map is swapped whole. Until then (and if the keyring cannot be read,
/// until it can) the previous secrets keep verifying.
struct SecretWatch {
    secrets: SecretMap,
    /// The references the map was loaded for; `None` until the first look.
    known: Option<Vec<String>>,
    last_look: std::time::Instant,
}

impl SecretWatch {
    fn new(secrets: SecretMap, store: &Store) -> SecretWatch {
        SecretWatch {
            secrets,
            known: reference_list(store).ok(),
            last_look: std::time::Instant::now(),
        }
    }

    fn tick(&mut self, store: &Store) {
        if self.last_look.elapsed() < SECRET_WATCH_INTERVAL {
            return;
        }
        self.last_look = std::time::Instant::now();
        let Ok(current) = reference_list(store) else {
            return;
        };
        if self.known.as_ref() == Some(&current) {
            return;
        }
        if let Ok(loaded) = super::load_webhook_secrets(store)
            && let Ok(mut map) = self.secrets.write()
        {
            *map = shared_secrets(loaded);
            self.known = Some(current);
        }
    }
}

fn reference_list(store: &Store) -> StoreResult<Vec<String>> {
    let mut refs: Vec<String> = store
        .webhook_secret_refs(None)?
        .into_iter()
        .map(|r| r.secret_ref)
        .collect();
    refs.sort();
    Ok(refs)
}

/// What the receiver tells open views: a new event was stored, a batch was normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealtimeEvent {
    Stored {
        source: String,
        stream: String,
        event_id: String,
    },
    Normalized(NormalizeSummary),
}

/// The writer's answer to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Stored,
    Duplicate,
    DeadLettered,
}

enum Job {
    Event {
        scheme: Scheme,
        source: String,
        event: ExtractedEvent,
        payload: String,
        /// What the request said that classifies a touch (nothing personal), when it said any.
        traffic_signals: Option<String>,
        received_at_ms: i64,
    },
    Unreadable {
        scheme: Scheme,
        source: String,
        reason: String,
        received_at_ms: i64,
    },
}

struct WriteRequest {
    job: Job,
    reply: oneshot::Sender<Result<Written, ()>>,
}

/// State every connection shares.
struct Shared {
    jobs: std_mpsc::Sender<WriteRequest>,
    secrets: SecretMap,
    tolerance_s: i64,
    max_body_bytes: usize,
    /// The workspace's `store_raw_pii` setting, read when the receiver starts.
    keep_raw_pii: bool,
    /// The traffic rules in force when the receiver started: a delivery's user agent is named
    /// by its family under them before it is redacted (issue 15).
    traffic_rules: RuleSet,
}

/// A receiver that is running. Drop it or call [`RunningReceiver::shutdown`] to stop.
pub struct RunningReceiver {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    accept: Option<tokio::task::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<()>>,
    normalizer: Option<std::thread::JoinHandle<()>>,
    events: broadcast::Sender<RealtimeEvent>,
    secrets: SecretMap,
}

impl RunningReceiver {
    /// The address it listens on (the real port when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Live updates for open views.
    pub fn subscribe(&self) -> broadcast::Receiver<RealtimeEvent> {
        self.events.subscribe()
    }

    /// The secrets in use; replace entries to rotate without a restart.
    pub fn secrets(&self) -> SecretMap {
        Arc::clone(&self.secrets)
    }

    /// Stops accepting, aborts open connections (no request is acknowledged after this), lets
    /// the writer commit what it holds, runs a last normalization, and closes both stores.
    pub async fn shutdown(mut self) {
        self.stop_and_join().await;
    }

    async fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        let writer = self.writer.take();
        let normalizer = self.normalizer.take();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(writer) = writer {
                let _ = writer.join();
            }
            if let Some(normalizer) = normalizer {
                let _ = normalizer.join();
            }
        })
        .await;
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Starts the receiver on the workspace at `store_path`: binds, opens the writer's and the
/// normalizer's connections, and serves until shut down. Must be called inside a tokio runtime.
pub async fn start_receiver(
    store_path: &Path,
    config: ReceiverConfig,
) -> Result<RunningReceiver, WebhookError> {
    let writer_store = Store::open(store_path)?;
    let keep_raw_pii = writer_store.store_raw_pii()?;
    let (_, traffic_rules) = writer_store.traffic_rules()?;
    let normalizer_store = Store::open(store_path)?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| WebhookError::Bind {
            address: config.bind,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| WebhookError::Bind {
        address: config.bind,
        source,
    })?;

    let (events, _) = broadcast::channel(1024);
    let (jobs, job_receiver) = std_mpsc::channel::<WriteRequest>();
    // A bound of one coalesces wake-ups: one pending signal covers any number of commits.
    let (wake, wake_receiver) = std_mpsc::sync_channel::<()>(1);

    let writer_events = events.clone();
    let writer = std::thread::Builder::new()
        .name("webhook-writer".to_owned())
        .spawn(move || writer_loop(writer_store, job_receiver, wake, writer_events))
        .map_err(WebhookError::Thread)?;
    let normalizer_events = events.clone();
    let watch = SecretWatch::new(Arc::clone(&config.secrets), &normalizer_store);
    let normalizer = std::thread::Builder::new()
        .name("webhook-normalizer".to_owned())
        .spawn(move || normalizer_loop(normalizer_store, wake_receiver, normalizer_events, watch))
        .map_err(WebhookError::Thread)?;

    let shared = Arc::new(Shared {
        jobs,
        secrets: Arc::clone(&config.secrets),
        tolerance_s: config.tolerance.as_secs() as i64,
        max_body_bytes: config.max_body_bytes,
        keep_raw_pii,
        traffic_rules,
    });
    let (stop, stop_receiver) = oneshot::channel();
    let accept = tokio::spawn(accept_loop(listener, shared, stop_receiver));
    Ok(RunningReceiver {
        local_addr,
        stop: Some(stop),
        accept: Some(accept),
        writer: Some(writer),
        normalizer: Some(normalizer),
        events,
        secrets: config.secrets,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(request, Arc::clone(&shared)));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        }
    }
    // Dropping the connections drops their handles on the writer's queue, which is how the
    // writer learns there is nothing more to come.
    connections.shutdown().await;
}

/// Reads a request body of at most `cap` bytes. A longer one is drained (see
/// [`drain_refused_body`]) and answered 413; a body that breaks off mid-way is a 400.
async fn read_capped_body(mut body: Incoming, cap: usize) -> Result<Bytes, StatusCode> {
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > cap {
                drain_refused_body(body, collected.len() + data.len()).await;
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}

/// Reads and discards the rest of a refused body — bounded in bytes and time — before the 413
/// is sent. Closing a connection while the sender is still writing resets it, and the sender
/// then sees a broken pipe instead of the 413 that tells it not to retry (servers call this a
/// lingering close). `already_read` counts toward the byte budget.
async fn drain_refused_body(mut body: Incoming, already_read: usize) {
    let mut read = already_read;
    let drain = async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > DRAIN_BUDGET_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn is_valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(handle_inner(request, &shared).await.unwrap_or_else(empty))
}

/// Every early return is a bare status with an empty body: no detail helps an attacker.
async fn handle_inner(
    request: Request<Incoming>,
    shared: &Shared,
) -> Result<Response<Full<Bytes>>, StatusCode> {
    let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
    let (scheme, source) = match path.as_slice() {
        ["webhooks", scheme, source] => (
            Scheme::parse(scheme)
                .filter(|s| *s != Scheme::Postback)
                .ok_or(StatusCode::NOT_FOUND)?,
            *source,
        ),
        ["postback", source] => (Scheme::Postback, *source),
        _ => return Err(StatusCode::NOT_FOUND),
    };
    let method_ok = request.method() == Method::POST
        || (scheme == Scheme::Postback && request.method() == Method::GET);
    if !method_ok {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    if !is_valid_source_name(source) {
        return Err(StatusCode::NOT_FOUND);
    }
    let source = source.to_owned();
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body_bytes as u64) {
        drain_refused_body(request.into_body(), 0).await;
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let stripe_signature = header("stripe-signature");
    let dub_signature = header("dub-signature");
    let x_signature = header("x-signature");
    let x_timestamp = header("x-timestamp");
    let content_type = header("content-type");
    let mut query = request.uri().query().map(form_pairs).unwrap_or_default();
    let token = query
        .iter()
        .position(|(k, _)| k == "token")
        .map(|i| query.remove(i).1);

    let body = read_capped_body(request.into_body(), shared.max_body_bytes).await?;
    let secrets = shared
        .secrets
        .read()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .get(&source)
        .cloned()
        .unwrap_or_default();
    let headers = SignatureHeaders {
        stripe_signature: stripe_signature.as_deref(),
        dub_signature: dub_signature.as_deref(),
        x_signature: x_signature.as_deref(),
        x_timestamp: x_timestamp.as_deref(),
    };
    let received_at_ms = now_ms();
    verify(
        scheme,
        &headers,
        token.as_deref(),
        &body,
        &secrets,
        received_at_ms / 1000,
        shared.tolerance_s,
    )
    .map_err(|r| match r {
        Rejection::Unauthorized => StatusCode::UNAUTHORIZED,
        Rejection::BadRequest => StatusCode::BAD_REQUEST,
    })?;

    // Parsing and hashing happen here, on the connection's task, so the writer only writes.
    let job = match extract_with_traffic(
        scheme,
        &body,
        &query,
        content_type.as_deref(),
        shared.keep_raw_pii,
    ) {
        Ok((event, traffic)) => {
            let payload = event.payload.to_string();
            let traffic_signals = (traffic != TrafficParts::default())
                .then(|| traffic.signals(&shared.traffic_rules).to_json().to_string());
            Job::Event {
                scheme,
                source,
                event,
                payload,
                traffic_signals,
                received_at_ms,
            }
        }
        Err(unreadable) => {
            // The body itself is not kept: it could not be parsed, so its e-mail addresses could
            // not be hashed. Its size and hash let a person match it with the sender's log.
            let reason = format!(
                "{} ({} bytes, sha256 {}); ask the sender to resend it in the documented format",
                unreadable.reason,
                body.len(),
                hex::encode(Sha256::digest(&body))
            );
            Job::Unreadable {
                scheme,
                source,
                reason,
                received_at_ms,
            }
        }
    };
    let (reply, answer) = oneshot::channel();
    shared
        .jobs
        .send(WriteRequest { job, reply })
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    match tokio::time::timeout(COMMIT_TIMEOUT, answer).await {
        Ok(Ok(Ok(_written))) => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"{\"received\":true}")));
            response.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        // Not committed: a 5xx makes the platform retry, which is the at-least-once half.
        _ => Err(StatusCode::SERVICE_UNAVAILABLE),
    }
}

fn writer_loop(
    mut store: Store,
    jobs: std_mpsc::Receiver<WriteRequest>,
    wake: std_mpsc::SyncSender<()>,
    events: broadcast::Sender<RealtimeEvent>,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&mut store, &batch) {
            Ok(outcomes) => {
                let mut stored_any = false;
                for (request, written) in batch.into_iter().zip(outcomes) {
                    if written == Written::Stored {
                        stored_any = true;
                        if let Job::Event { source, event, .. } = &request.job {
                            let _ = events.send(RealtimeEvent::Stored {
                                source: source.clone(),
                                stream: event.stream.clone(),
                                event_id: event.event_id.clone(),
                            });
                        }
                    }
                    let _ = request.reply.send(Ok(written));
                }
                if stored_any {
                    let _ = wake.try_send(());
                }
            }
            Err(_) => {
                // Nothing of the batch is kept; every sender gets a 503 and retries.
                for request in batch {
                    let _ = request.reply.send(Err(()));
                }
            }
        }
    }
}

fn write_batch(store: &mut Store, batch: &[WriteRequest]) -> StoreResult<Vec<Written>> {
    let mut tx = store.begin()?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        let written = match &request.job {
            Job::Event {
                scheme,
                source,
                event,
                payload,
                traffic_signals,
                received_at_ms,
            } => {
                let outcome = tx.record_webhook_delivery(&NewWebhookDelivery {
                    source,
                    scheme: scheme.as_str(),
                    event_id: &event.event_id,
                    stream: &event.stream,
                    external_id: &event.external_id,
                    payload,
                    received_at_ms: *received_at_ms,
                    normalizer_version: normalizer_version(*scheme),
                    traffic_signals: traffic_signals.as_deref(),
                })?;
                match outcome {
                    WebhookDeliveryOutcome::Stored { .. } => Written::Stored,
                    WebhookDeliveryOutcome::AlreadyKnown { .. }
                    | WebhookDeliveryOutcome::Duplicate => Written::Duplicate,
                }
            }
            Job::Unreadable {
                scheme,
                source,
                reason,
                received_at_ms,
            } => {
                tx.insert_dead_letter(&NewDeadLetter {
                    source: source.clone(),
                    stream: "webhook".to_owned(),
                    location: format!("webhook {}/{source} (unreadable delivery)", scheme.as_str()),
                    reason: reason.clone(),
                    payload: "{}".to_owned(),
                    created_at_ms: *received_at_ms,
                })?;
                Written::DeadLettered
            }
        };
        outcomes.push(written);
    }
    tx.commit()?;
    Ok(outcomes)
}

fn normalizer_loop(
    mut store: Store,
    wake: std_mpsc::Receiver<()>,
    events: broadcast::Sender<RealtimeEvent>,
    mut watch: SecretWatch,
) {
    loop {
        watch.tick(&store);
        let disconnected = match wake.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(std_mpsc::RecvTimeoutError::Timeout) => false,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => true,
        };
        // A failed pass (a locked file, a full disk) is retried on the next tick; the
        // deliveries stay pending in the store, so nothing is lost.
        if let Ok(summary) = normalize_pending(&mut store, now_ms())
            && summary.handled > 0
        {
            let _ = events.send(RealtimeEvent::Normalized(summary));
        }
        if disconnected {
            return;
        }
    }
}
