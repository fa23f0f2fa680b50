//! Loopback mock servers of the platforms Lookback syncs from. [`MockServer`] is a small
//! HTTP/1.1 server on 127.0.0.1 with its own thread and tokio runtime, so it serves in-process
//! sync tests and `lookback` child processes alike; each platform's behaviour (auth, paging,
//! throttling, errors) lives in a [`MockApi`] in a module beside this one. Every server has a
//! [`RequestGate`] that can hold requests at a chosen point, so a test can kill a sync process
//! at a known place in its run. A server started with [`MockServer::start_capturing`] also keeps
//! every exchange (request and response) for the contract tests ([`contract`]).

pub mod ad_ledger;
pub mod contract;
pub mod dub;
pub mod generic;
pub mod google_ads;
pub mod harness;
pub mod meta;
pub mod oauth_tokens;
pub mod rewardful;
pub mod shopify;
pub mod stripe;
pub mod tiktok;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    pub method: String,
    /// The path without the query string, e.g. `/v1/events`.
    pub path: String,
    /// The raw target, path and query as sent.
    pub target: String,
    /// Query pairs, percent-decoded, in order.
    pub query_pairs: Vec<(String, String)>,
    /// Headers with lowercase names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl MockRequest {
    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The token of `Authorization: Bearer <token>`.
    pub fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

/// A response the mock sends, optionally after a delay (to make a sync slow enough to kill).
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl MockResponse {
    pub fn json(status: u16, body: &serde_json::Value) -> MockResponse {
        MockResponse::raw_json(status, body.to_string().into_bytes())
    }

    /// A JSON body that is already serialized (the benchmark builds pages as text).
    pub fn raw_json(status: u16, body: Vec<u8>) -> MockResponse {
        MockResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            delay: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: &str) -> MockResponse {
        MockResponse {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> MockResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> MockResponse {
        self.delay = delay;
        self
    }
}

/// One platform's behaviour.
pub trait MockApi: Send + Sync + 'static {
    fn handle(&self, request: &MockRequest) -> MockResponse;
}

/// Holds a mock's requests from a chosen point on, so that a sync under test stops at a known
/// place in its run: after [`RequestGate::hold_after`]`(n)`, `n` more requests are served and
/// every later one waits, unanswered, until [`RequestGate::open`]. A held request is then
/// dropped (the connection closes without an answer) rather than served late, because its
/// client was, in the tests that use this, killed meanwhile; so a held request never changes
/// the mock's state. Open (serving everything) until told otherwise.
#[derive(Debug, Default)]
pub struct RequestGate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    /// Requests still let through before holding; `None` when the gate is open.
    allowance: Option<u64>,
    /// Requests let through since the last `hold_after`.
    passed: u64,
    /// Requests held since the last `hold_after`.
    held: u64,
}

impl RequestGate {
    /// Serves `n` more requests, then holds every later one until [`RequestGate::open`].
    pub fn hold_after(&self, n: u64) {
        *self.state.lock().unwrap() = GateState {
            allowance: Some(n),
            passed: 0,
            held: 0,
        };
    }

    /// Serves every request from now on; requests being held are dropped unanswered.
    pub fn open(&self) {
        self.state.lock().unwrap().allowance = None;
    }

    /// Requests served since the last `hold_after`.
    pub fn passed(&self) -> u64 {
        self.state.lock().unwrap().passed
    }

    /// Requests held since the last `hold_after`.
    pub fn held(&self) -> u64 {
        self.state.lock().unwrap().held
    }

    fn is_open(&self) -> bool {
        self.state.lock().unwrap().allowance.is_none()
    }

    /// Whether a request that just arrived is served now (else it is held).
    fn admit(&self) -> bool {
        let mut state = self.state.lock().unwrap();
        match state.allowance {
            None => true,
            Some(0) => {
                state.held += 1;
                false
            }
            Some(n) => {
                state.allowance = Some(n - 1);
                state.passed += 1;
                true
            }
        }
    }
}

/// A running mock server; stops when dropped.
pub struct MockServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// Holds requests at a chosen point (open unless a test closes it).
    pub gate: Arc<RequestGate>,
    requests: Arc<Mutex<Vec<MockRequest>>>,
    /// Every exchange, when the server was started to capture them (`None` otherwise, so that
    /// benchmarks serving millions of records do not keep every page in memory).
    exchanges: Arc<Mutex<Option<Vec<contract::Exchange>>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts serving `api` on a free loopback port.
    pub fn start(api: Arc<dyn MockApi>) -> MockServer {
        MockServer::start_with(api, None)
    }

    /// Starts serving `api` and keeps every exchange, for [`MockServer::exchanges`].
    pub fn start_capturing(api: Arc<dyn MockApi>) -> MockServer {
        MockServer::start_with(api, Some(Vec::new()))
    }

    fn start_with(api: Arc<dyn MockApi>, exchanges: Option<Vec<contract::Exchange>>) -> MockServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let exchanges = Arc::new(Mutex::new(exchanges));
        let exchange_log = Arc::clone(&exchanges);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let log = Arc::clone(&requests);
        let gate = Arc::new(RequestGate::default());
        let server_gate = Arc::clone(&gate);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("mock runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                ready_tx
                    .send(listener.local_addr().expect("local addr"))
                    .expect("report address");
                let accept = async {
                    loop {
                        let Ok((socket, _)) = listener.accept().await else {
                            continue;
                        };
                        let api = Arc::clone(&api);
                        let log = Arc::clone(&log);
                        let exchange_log = Arc::clone(&exchange_log);
                        let gate = Arc::clone(&server_gate);
                        tokio::spawn(async move {
                            let _ = serve_connection(socket, api, log, exchange_log, gate).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = shutdown_rx => {}
                }
            });
        });
        let address = ready_rx.recv().expect("mock server started");
        MockServer {
            base_url: format!("http://{address}"),
            gate,
            requests,
            exchanges,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<MockRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Every exchange so far, in the order the responses were sent; empty unless the server
    /// was started with [`MockServer::start_capturing`].
    pub fn exchanges(&self) -> Vec<contract::Exchange> {
        self.exchanges.lock().unwrap().clone().unwrap_or_default()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.requests.lock().unwrap().clear();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves HTTP/1.1 requests on one connection until the client closes it (keep-alive).
async fn serve_connection(
    socket: tokio::net::TcpStream,
    api: Arc<dyn MockApi>,
    log: Arc<Mutex<Vec<MockRequest>>>,
    exchange_log: Arc<Mutex<Option<Vec<contract::Exchange>>>>,
    gate: Arc<RequestGate>,
) -> std::io::Result<()> {
    // Without NODELAY, Nagle's algorithm holds a response's last segment until the client's
    // delayed ACK (40 ms), which would make every page look slow.
    socket.set_nodelay(true)?;
    let (reader, mut writer) = socket.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("/").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
        let request = MockRequest {
            method,
            path: path.to_owned(),
            target: target.clone(),
            query_pairs: parse_query(query),
            headers,
            body,
        };
        if !gate.admit() {
            while !gate.is_open() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            return Ok(());
        }
        log.lock().unwrap().push(request.clone());
        let response = api.handle(&request);
        if let Some(exchanges) = exchange_log.lock().unwrap().as_mut() {
            exchanges.push(contract::Exchange {
                request: request.clone(),
                response: response.clone(),
            });
        }
        if !response.delay.is_zero() {
            tokio::time::sleep(response.delay).await;
        }
        let mut head = format!(
            "HTTP/1.1 {} {}\r\ncontent-length: {}\r\n",
            response.status,
            reason(response.status),
            response.body.len()
        );
        for (name, value) in &response.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(&response.body);
        writer.write_all(&message).await?;
        writer.flush().await?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Decodes `a=1&b=x%20y` (with `+` as space) into pairs.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(())
                {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
