//! The floor under the import: how fast SQLite itself (the same bundled SQLite, the same
//! pragmas as a workspace) inserts a busy year's touches row by row, with nothing of Lookback's
//! own work around it, and how many bytes each row then takes.
//!
//! Issue 12 asks for an import of ≥ 250k rows/s and ≤ 150 bytes per touch with the raw payloads
//! kept. This program shows which layouts could reach that at all: every row is parsed and
//! hashed *before* the clock starts, so what is timed is only the inserts and the commits, in
//! transactions of 10,000 rows like the CSV import's. Layouts, each in a fresh file:
//!
//! - `key-only`: the canonical touch keyed by its id (the dedup a re-import needs), no other
//!   index;
//! - `touch-indexes`: plus the three secondary indexes the store's queries use (time, click id,
//!   creator);
//! - `touch+raw-log`: plus a raw-event row per touch (its payload, uncompressed, and its
//!   SHA-256) with the external-id index the dedup probe reads;
//! - `bulk`: the same rows and indexes as `touch+raw-log`, but the touch's three secondary
//!   indexes are built once after the load instead of row by row (its time includes them).
//!
//! Run on the CSV files of `busy_year generate` (the 4M set: `--people 1000000`):
//! `cargo run --release -p lookback-store --example insert_floor -- DIR [ROWS]`. The page cache
//! is a workspace's 64 MiB unless `FLOOR_CACHE_MIB` says otherwise (to see how much of the cost
//! is index pages falling out of the cache).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// Rows per transaction, as the CSV import commits.
const ROWS_PER_TRANSACTION: usize = 10_000;

/// One touch as the store would hold it, parsed before timing.
struct Touch {
    touch_id: String,
    occurred_at_ms: i64,
    channel: String,
    touch_type: String,
    creator_id: Option<String>,
    campaign_id: Option<String>,
    content_id: Option<String>,
    click_id: Option<String>,
    anonymous_id: Option<String>,
    email_sha256: Option<[u8; 32]>,
    payload: String,
    payload_sha256: [u8; 32],
}

const TOUCH_TABLE: &str = "CREATE TABLE touches (
    touch_id TEXT PRIMARY KEY, source TEXT NOT NULL, occurred_at_ms INTEGER NOT NULL,
    channel TEXT NOT NULL, touch_type TEXT NOT NULL, creator_id TEXT, campaign_id TEXT,
    content_id TEXT, click_id TEXT, anonymous_id TEXT, email_sha256 BLOB, raw_event_id INTEGER
) STRICT;";
const TOUCH_INDEXES: &str = "
    CREATE INDEX touches_by_time ON touches (occurred_at_ms);
    CREATE INDEX touches_by_click ON touches (click_id) WHERE click_id IS NOT NULL;
    CREATE INDEX touches_by_creator ON touches (creator_id) WHERE creator_id IS NOT NULL;";
const RAW_LOG: &str = "CREATE TABLE raw_events (
    raw_event_id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, received_at_ms INTEGER NOT NULL,
    payload BLOB NOT NULL, payload_hash BLOB NOT NULL
) STRICT;
CREATE INDEX raw_events_by_external_id ON raw_events (external_id);";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: insert_floor DIR_OF_BUSY_YEAR_CSV [ROWS]")?,
    );
    let limit: usize = match args.next() {
        Some(n) => n.parse()?,
        None => usize::MAX,
    };
    let touches = read_touches(&dir, limit)?;
    println!("{} touches parsed from {}", touches.len(), dir.display());
    let scratch = std::env::temp_dir().join(format!("insert_floor-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    for (name, schema, with_raw) in [
        ("key-only", TOUCH_TABLE.to_string(), false),
        (
            "touch-indexes",
            format!("{TOUCH_TABLE}{TOUCH_INDEXES}"),
            false,
        ),
        (
            "touch+raw-log",
            format!("{TOUCH_TABLE}{TOUCH_INDEXES}{RAW_LOG}"),
            true,
        ),
        ("bulk", format!("{TOUCH_TABLE}{RAW_LOG}"), true),
    ] {
        let path = scratch.join(format!("{name}.sqlite"));
        let mut seconds = insert_all(&path, &schema, with_raw, &touches)?;
        if name == "bulk" {
            // The touch's secondary indexes built once, by sorting, after the load.
            let started = Instant::now();
            let conn = Connection::open(&path)?;
            conn.execute_batch(TOUCH_INDEXES)?;
            conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
            let building = started.elapsed().as_secs_f64();
            println!("          bulk: indexes built after the load in {building:.1} s");
            seconds += building;
        }
        let bytes = std::fs::metadata(&path)?.len();
        println!(
            "{name:>14}: {:>8.0} rows/s ({seconds:.1} s), {:>5.0} bytes per touch",
            touches.len() as f64 / seconds,
            bytes as f64 / touches.len() as f64
        );
        std::fs::remove_file(&path)?;
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

/// Inserts every touch into a fresh file with `schema`, committing every
/// [`ROWS_PER_TRANSACTION`] rows, and returns the seconds it took up to a checkpointed file.
fn insert_all(
    path: &Path,
    schema: &str,
    with_raw: bool,
    touches: &[Touch],
) -> Result<f64, Box<dyn Error>> {
    let mut conn = Connection::open(path)?;
    // The pragmas a workspace connection sets (store `opening.rs`).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    let cache_mib: i64 = std::env::var("FLOOR_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    conn.pragma_update(None, "cache_size", -cache_mib * 1024)?;
    conn.execute_batch(schema)?;
    let started = Instant::now();
    for batch in touches.chunks(ROWS_PER_TRANSACTION) {
        let tx = conn.transaction()?;
        {
            let mut touch = tx.prepare_cached(
                "INSERT INTO touches (touch_id, source, occurred_at_ms, channel, touch_type,
                 creator_id, campaign_id, content_id, click_id, anonymous_id, email_sha256,
                 raw_event_id) VALUES (?1, 'csv', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut raw = with_raw
                .then(|| {
                    tx.prepare_cached(
                        "INSERT INTO raw_events (external_id, received_at_ms, payload, payload_hash)
                         VALUES (?1, 0, ?2, ?3)",
                    )
                })
                .transpose()?;
            for t in batch {
                let raw_event_id = match raw.as_mut() {
                    Some(raw) => {
                        raw.execute(params![
                            t.touch_id,
                            t.payload.as_bytes(),
                            &t.payload_sha256[..]
                        ])?;
                        Some(tx.last_insert_rowid())
                    }
                    None => None,
                };
                touch.execute(params![
                    t.touch_id,
                    t.occurred_at_ms,
                    t.channel,
                    t.touch_type,
                    t.creator_id,
                    t.campaign_id,
                    t.content_id,
                    t.click_id,
                    t.anonymous_id,
                    t.email_sha256.as_ref().map(|h| &h[..]),
                    raw_event_id,
                ])?;
            }
        }
        tx.commit()?;
    }
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok(started.elapsed().as_secs_f64())
}

/// Reads the `touches-*.csv` files of a busy-year directory (no quoted fields: the generator
/// writes none), up to `limit` rows.
fn read_touches(dir: &Path, limit: usize) -> Result<Vec<Touch>, Box<dyn Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("touches-") && n.ends_with(".csv"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no touches-*.csv in {}", dir.display()).into());
    }
    let mut touches = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for (index, line) in text.lines().enumerate().skip(1) {
            if touches.len() == limit {
                return Ok(touches);
            }
            let fields: Vec<&str> = line.split(',').collect();
            let [
                id,
                at,
                channel,
                kind,
                creator,
                campaign,
                content,
                click,
                anon,
                email,
            ] = fields[..]
            else {
                return Err(format!(
                    "{}:{}: expected 10 fields, found {}",
                    file.display(),
                    index + 1,
                    fields.len()
                )
                .into());
            };
            let occurred_at_ms = parse_utc_ms(at)
                .ok_or_else(|| format!("{}:{}: occurred_at {at:?}", file.display(), index + 1))?;
            let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
            touches.push(Touch {
                touch_id: id.to_string(),
                occurred_at_ms,
                channel: channel.to_string(),
                touch_type: kind.to_string(),
                creator_id: optional(creator),
                campaign_id: optional(campaign),
                content_id: optional(content),
                click_id: optional(click),
                anonymous_id: optional(anon),
                email_sha256: (!email.is_empty()).then(|| Sha256::digest(email).into()),
                payload: line.to_string(),
                payload_sha256: Sha256::digest(line).into(),
            });
        }
    }
    Ok(touches)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` as milliseconds since the epoch.
fn parse_utc_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((((days * 24 + hh) * 60 + mm) * 60 + ss) * 1000 + ms)
}
