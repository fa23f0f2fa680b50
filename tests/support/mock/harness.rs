//! What every connector test needs besides its mock: a fresh workspace with one registered
//! source (no keyring — in-process tests hand the secret to the engine), a runner that drives
//! a sync to its end on a multi-threaded runtime, and a dump of the tables a sync writes that
//! two stores can be compared by.

use std::path::Path;
use std::time::Duration;

use lookback_store::{Source, Store};
use lookback_sync::{
    CancellationToken, RateLimit, RetryPolicy, Secret, SourceSyncSummary, SyncEvent, SyncOptions,
    SyncResult,
};

/// 2026-03-01T00:00:00Z in ms: the clock of test syncs.
pub const TEST_NOW_MS: i64 = 1_772_323_200_000;

/// A source `name` of `kind` pointing at a loopback mock, added at [`TEST_NOW_MS`].
pub fn loopback_source(kind: &str, name: &str, base_url: &str) -> Source {
    Source {
        source_id: name.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        base_url: Some(base_url.to_owned()),
        account: None,
        credential_ref: None,
        created_at_ms: TEST_NOW_MS,
        last_attempt_at_ms: None,
        last_success_at_ms: None,
        last_error: None,
    }
}

/// Creates a workspace at `path` with a source `name` of `kind` pointing at `base_url`.
pub fn workspace_with_source(
    path: &Path,
    kind: &str,
    name: &str,
    base_url: &str,
) -> (Store, Source) {
    let mut store = Store::create(path).expect("create workspace");
    let source = loopback_source(kind, name, base_url);
    store
        .write(|tx| tx.upsert_source(&source))
        .expect("register source");
    (store, source)
}

/// Options for loopback tests: no client-side rate limit, fast backoff, few attempts.
pub fn fast_options(now_ms: i64) -> SyncOptions {
    let mut options = SyncOptions::new(now_ms);
    options.rate_limit = Some(RateLimit::UNLIMITED);
    options.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(2),
    };
    options
}

/// Runs one sync to its end; `on_event` sees every progress event (and may cancel).
pub fn run_sync_with(
    store: &mut Store,
    source: &Source,
    secret: &str,
    options: &SyncOptions,
    cancel: &CancellationToken,
    mut on_event: impl FnMut(&SyncEvent) + Send,
) -> SyncResult<SourceSyncSummary> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let secret = Secret::new(secret);
    runtime.block_on(lookback_sync::sync_source(
        store,
        source,
        &secret,
        options,
        &mut on_event,
        cancel,
    ))
}

/// Runs one sync to its end with `fast_options(TEST_NOW_MS)`.
pub fn run_sync(store: &mut Store, source: &Source, secret: &str) -> SyncResult<SourceSyncSummary> {
    run_sync_with(
        store,
        source,
        secret,
        &fast_options(TEST_NOW_MS),
        &CancellationToken::new(),
        |_| {},
    )
}

/// Every row a sync writes, as text, without ids and timestamps that legitimately differ
/// between two runs (row ids, received/updated/created times).
pub fn table_dump(path: &Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open workspace");
    // Raw payloads are stored compressed, and how depends on when each stream's dictionary was
    // trained: they are compared decoded, through the store.
    let mut raw = crate::raw_events(path);
    raw.sort_by(|a, b| {
        (&a.source, &a.stream, &a.external_id, a.raw_event_id).cmp(&(
            &b.source,
            &b.stream,
            &b.external_id,
            b.raw_event_id,
        ))
    });
    let mut dump =
        String::from("raw events: source, stream, external_id, payload_sha256, payload\n");
    for event in raw {
        let hash: String = event
            .payload_sha256
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        dump.push_str(&format!(
            "{} | {} | {} | {hash} | {}\n",
            event.source, event.stream, event.external_id, event.payload
        ));
    }
    let queries = [
        "SELECT touch_id, source, occurred_at_ms, channel, touch_type, creator_id, campaign_id, ad_id, content_id, click_id, person_id, anonymous_id, email_sha256, customer_id, device_id FROM touches ORDER BY touch_id",
        "SELECT order_id, source, occurred_at_ms, gross_minor, currency, status, click_id, person_id, anonymous_id, email_sha256, customer_id, device_id FROM orders ORDER BY order_id",
        "SELECT adjustment_id, order_id, source, kind, occurred_at_ms, amount_minor, currency, status FROM order_adjustments ORDER BY adjustment_id",
        "SELECT platform, account_id, campaign_id, ad_id, day, account_timezone, channel, creator_id, spend_minor, currency, impressions, clicks, source FROM ad_spend ORDER BY 1, 2, 3, 4, 5",
        "SELECT cost_id, creator_id, day, kind, amount_minor, currency, source FROM creator_costs ORDER BY cost_id",
        "SELECT source, stream, location, reason, payload, resolved_at_ms IS NOT NULL FROM dead_letters ORDER BY source, stream, location, reason",
        "SELECT source_id, stream, cursor FROM sync_checkpoints ORDER BY source_id, stream",
    ];
    for sql in queries {
        dump.push_str(sql);
        dump.push('\n');
        let mut statement = conn.prepare(sql).expect("prepare dump");
        let columns = statement.column_count();
        let mut rows = statement.query([]).expect("query dump");
        while let Some(row) = rows.next().expect("row") {
            let fields: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i).expect("field") {
                    rusqlite::types::ValueRef::Null => "∅".to_owned(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(f) => f.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                })
                .collect();
            dump.push_str(&fields.join(" | "));
            dump.push('\n');
        }
    }
    dump
}

/// Row count of one table.
pub fn count(path: &Path, table: &str) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open workspace");
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

/// Whether `needle` occurs anywhere in the bytes of the file (and its WAL, if any), or in one
/// of its raw payloads, which are stored compressed and so do not show in the bytes.
pub fn file_contains(path: &Path, needle: &str) -> bool {
    bytes_contain(path, needle)
        || lookback_store::Store::open_read_only(path).is_ok_and(|store| {
            let mut found = false;
            store
                .for_each_raw_event(|event| found |= event.payload.contains(needle))
                .expect("read raw events");
            found
        })
}

fn bytes_contain(path: &Path, needle: &str) -> bool {
    let mut candidates = vec![path.to_path_buf()];
    candidates.push(path.with_extension(format!(
        "{}-wal",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    )));
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    candidates.push(wal.into());
    candidates
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
}
