//! The Rust half of the contract tests: a captured [`Exchange`] (what a connector sent a mock
//! and what the mock answered), written as JSON lines with every secret redacted, and
//! [`Validators`], which hands such a file to the validator programs in `tests/contract/`. Those
//! check each exchange against what the platform itself publishes (its official SDK's types and
//! schemas), so a mock that drifted from the real API, or a connector that sends a parameter the
//! API does not have, fails a test instead of passing against a mock that agrees with it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{MockApi, MockRequest, MockResponse};

/// One request a mock received and the response it sent.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: MockRequest,
    pub response: MockResponse,
}

/// Headers whose values are credentials: their values are replaced, the scheme of an
/// `Authorization` header kept (a validator checks it), before anything is written.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "access-token",
    "x-shopify-access-token",
    "developer-token",
    "cookie",
    "proxy-authorization",
];

/// Query parameters whose values are credentials (Meta puts the token in the query string).
const SECRET_QUERY: [&str; 3] = ["access_token", "appsecret_proof", "api_key"];

const REDACTED: &str = "<redacted>";

fn redact_header(name: &str, value: &str) -> String {
    if !SECRET_HEADERS.contains(&name) {
        return redact_tokens_in_text(value);
    }
    match value.split_once(' ') {
        Some((scheme, _)) if name.ends_with("authorization") => format!("{scheme} {REDACTED}"),
        _ => REDACTED.to_owned(),
    }
}

/// Replaces the value of every `access_token=` in a text (Meta's paging links embed the token,
/// and a connector's request target may carry it).
pub fn redact_tokens_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("access_token=") {
        let start = at + "access_token=".len();
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        let tail = &rest[start..];
        let end = tail
            .find(['&', '"', '\'', '>', ' ', '\\', ',', ';'])
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn pairs(pairs: impl Iterator<Item = (String, String)>) -> Value {
    Value::Array(pairs.map(|(k, v)| json!([k, v])).collect())
}

impl Exchange {
    /// The exchange as one JSON object, secrets redacted. Bodies stay text, byte for byte (a
    /// validator parses them itself: Google's JSON parser must see exactly what was sent).
    pub fn to_json(&self) -> Value {
        let request = &self.request;
        json!({
            "method": request.method,
            "path": request.path,
            "query": pairs(request.query_pairs.iter().map(|(k, v)| {
                let value = if SECRET_QUERY.contains(&k.as_str()) { REDACTED.to_owned() } else { v.clone() };
                (k.clone(), value)
            })),
            "headers": pairs(request.headers.iter().map(|(k, v)| (k.clone(), redact_header(k, v)))),
            "body": redact_tokens_in_text(&String::from_utf8_lossy(&request.body)),
            "status": self.response.status,
            "response_headers": pairs(self.response.headers.iter().map(|(k, v)| {
                let name = k.to_ascii_lowercase();
                let value = redact_header(&name, v);
                (name, value)
            })),
            "response_body": redact_tokens_in_text(&String::from_utf8_lossy(&self.response.body)),
        })
    }
}

/// Writes exchanges as JSON lines (one exchange per line) to `path`.
pub fn write_exchanges(path: &Path, exchanges: &[Exchange]) {
    let mut text = String::new();
    for exchange in exchanges {
        text.push_str(&exchange.to_json().to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Writes already serialized exchanges (e.g. deliberately altered ones) as JSON lines.
pub fn write_exchange_values(path: &Path, exchanges: &[Value]) {
    let text: String = exchanges.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// What a validator found in one file of exchanges.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// One line per distinct violation: `platform: Object.field: what the schema says`,
    /// followed by where it was first seen.
    pub violations: Vec<String>,
    /// Everything the validator printed, for the failure message.
    pub output: String,
}

impl Verdict {
    /// The violations without the trailing `  [seen in …]` part, so that two runs over
    /// different captures can be compared.
    pub fn findings(&self) -> Vec<String> {
        self.violations
            .iter()
            .map(|line| line.split("  [").next().unwrap_or(line).to_owned())
            .collect()
    }
}

/// The installed validator programs: the virtualenv with the platforms' official Python SDKs
/// and `tests/contract/` with its `node_modules`.
pub struct Validators {
    python: PathBuf,
    dir: PathBuf,
}

/// The command that installs the validators, for the message when they are missing.
pub const INSTALL_HINT: &str = "run ./.ci/setup, or by hand: python3 -m venv \"${XDG_CACHE_HOME:-$HOME/.cache}/lookback/contract-venv\" && \"${XDG_CACHE_HOME:-$HOME/.cache}/lookback/contract-venv/bin/pip\" install -r tests/contract/requirements.txt -c tests/contract/constraints.txt && (cd tests/contract && npm install)";

impl Validators {
    /// The virtualenv named by `LOOKBACK_CONTRACT_VENV` (set by `.ci/test`), else the default
    /// `${XDG_CACHE_HOME:-$HOME/.cache}/lookback/contract-venv`. A missing install is an error
    /// naming the command that installs it: a contract test never skips.
    pub fn locate() -> Result<Validators, String> {
        let venv = match std::env::var_os("LOOKBACK_CONTRACT_VENV") {
            Some(path) => PathBuf::from(path),
            None => {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
                cache.join("lookback").join("contract-venv")
            }
        };
        let python = venv.join("bin").join("python");
        let dir = crate::repo_root().join("tests").join("contract");
        if !python.exists() {
            return Err(format!(
                "the contract validators' virtualenv is missing ({} does not exist): {INSTALL_HINT}",
                python.display()
            ));
        }
        if !dir
            .join("node_modules")
            .join("@shopify")
            .join("shopify-api")
            .exists()
            || !dir.join("node_modules").join("dub").exists()
        {
            return Err(format!(
                "the contract validators' Node packages are missing ({}/node_modules): {INSTALL_HINT}",
                dir.display()
            ));
        }
        Ok(Validators { python, dir })
    }

    /// The exchanges with every response field the platform's SDK marks optional set to null
    /// (`validate.py --null-optional`), but the fields in `keep` (`Refund.charge`).
    pub fn null_optional(
        &self,
        platform: &str,
        exchanges: &[Exchange],
        keep: &[&str],
    ) -> Vec<Value> {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("in.jsonl");
        let output = dir.path().join("out.jsonl");
        write_exchanges(&input, exchanges);
        let run = Command::new(&self.python)
            .arg(self.dir.join("validate.py"))
            .args(["--null-optional", platform])
            .arg(&input)
            .arg(&output)
            .args(keep)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.python.display()));
        assert!(
            run.status.success(),
            "validate.py --null-optional {platform} failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        read_exchange_values(&output)
    }

    /// Runs the validator of `platform` over a file of exchanges. Panics when the validator
    /// itself breaks (an SDK that does not import, a file it cannot read): that is not a verdict.
    pub fn check(&self, platform: &str, exchanges: &Path) -> Verdict {
        let output = Command::new(&self.python)
            .arg(self.dir.join("validate.py"))
            .arg(platform)
            .arg(exchanges)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.python.display()));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let text = format!("{stdout}{stderr}");
        match output.status.code() {
            Some(0) | Some(1) => {}
            _ => panic!(
                "the {platform} validator failed to run ({}):\n{text}",
                output.status
            ),
        }
        let violations: Vec<String> = stdout
            .lines()
            .filter(|line| line.starts_with(&format!("{platform}: ")))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            output.status.code() == Some(1),
            !violations.is_empty(),
            "the {platform} validator's exit status and its report disagree:\n{text}"
        );
        Verdict {
            violations,
            output: text,
        }
    }
}

/// What identifies a request in a capture: method, path, query pairs and body, secrets
/// redacted as in the written capture.
fn replay_key(exchange: &Value) -> String {
    json!([
        exchange["method"],
        exchange["path"],
        exchange["query"],
        exchange["body"]
    ])
    .to_string()
}

/// A mock that answers with captured (and possibly altered) responses: each request gets the
/// next response captured for the same method, path, query and body, and the last one again
/// once they are used up; a request the capture never saw gets a 404. It lets a connector be
/// run against exactly what a validator produced, e.g. every optional field set to null.
pub struct ReplayApi {
    responses: Mutex<HashMap<String, (Vec<MockResponse>, usize)>>,
    /// The `Host` the captured requests were sent to: links in captured responses (Shopify's
    /// `Link` header, Meta's `paging.next`) name it, and are pointed at this server instead.
    captured_host: Option<String>,
}

impl ReplayApi {
    pub fn new(exchanges: &[Value]) -> ReplayApi {
        let mut responses: HashMap<String, (Vec<MockResponse>, usize)> = HashMap::new();
        for exchange in exchanges {
            let response = MockResponse {
                status: exchange["status"].as_u64().unwrap_or(500) as u16,
                headers: exchange["response_headers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|pair| pair[0] != "content-length")
                    .map(|pair| {
                        (
                            pair[0].as_str().unwrap_or_default().to_owned(),
                            pair[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
                body: exchange["response_body"]
                    .as_str()
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
                delay: Duration::ZERO,
            };
            responses
                .entry(replay_key(exchange))
                .or_default()
                .0
                .push(response);
        }
        let captured_host = exchanges.iter().find_map(|exchange| {
            exchange["headers"]
                .as_array()?
                .iter()
                .find(|pair| pair[0] == "host")
                .and_then(|pair| pair[1].as_str())
                .map(str::to_owned)
        });
        ReplayApi {
            responses: Mutex::new(responses),
            captured_host,
        }
    }
}

impl MockApi for ReplayApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        let seen = Exchange {
            request: request.clone(),
            response: MockResponse::text(200, ""),
        }
        .to_json();
        let mut responses = self.responses.lock().unwrap();
        match responses.get_mut(&replay_key(&seen)) {
            Some((list, next)) => {
                let mut response = list[(*next).min(list.len() - 1)].clone();
                *next += 1;
                if let (Some(from), Some(to)) = (&self.captured_host, request.header("host")) {
                    for (_, value) in &mut response.headers {
                        *value = value.replace(from.as_str(), to);
                    }
                    response.body = String::from_utf8_lossy(&response.body)
                        .replace(from.as_str(), to)
                        .into_bytes();
                }
                response
            }
            None => MockResponse::text(404, &format!("not in the capture: {}", request.target)),
        }
    }
}

/// Reads a file of exchanges as JSON values.
pub fn read_exchange_values(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a JSON exchange"))
        .collect()
}
