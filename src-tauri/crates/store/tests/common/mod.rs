//! What several store test files share: a workspace file as Lookback wrote it at schema 14,
//! before the compact raw-event layout (migration 0015).

use std::path::Path;

use lookback_store::{APPLICATION_ID, MIGRATIONS, payload_sha256};
use rusqlite::{Connection, params};

/// A workspace file of schema version 14 holding `rows` (source, stream, external id,
/// received at, payload) in the old layout.
pub fn old_workspace(path: &Path, rows: &[(&str, &str, String, i64, String)]) {
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    let tx = conn.transaction().unwrap();
    for migration in MIGRATIONS.iter().filter(|m| m.version <= 14) {
        tx.execute_batch(migration.sql).unwrap();
    }
    for (source, stream, external_id, received_at_ms, payload) in rows {
        tx.execute(
            "INSERT INTO raw_events (source, stream, external_id, received_at_ms, payload, payload_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                source,
                stream,
                external_id,
                received_at_ms,
                payload,
                hex::encode(payload_sha256(payload))
            ],
        )
        .unwrap();
    }
    tx.pragma_update(None, "user_version", 14).unwrap();
    tx.commit().unwrap();
}
