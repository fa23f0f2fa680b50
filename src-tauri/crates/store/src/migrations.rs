//! The schema's numbered migrations, embedded in the binary, and the one place that applies them.
//!
//! Architecture Invariant: a migration that has shipped is never edited; the schema changes only
//! by appending a new `migrations/NNNN_name.sql` file to [`MIGRATIONS`]. `PRAGMA user_version`
//! records how many have been applied, and all pending ones are applied in one transaction, so a
//! crash mid-upgrade leaves the previous version intact.

use rusqlite::{Connection, TransactionBehavior};

use crate::{StoreError, StoreResult};

/// One numbered schema change.
#[derive(Debug)]
pub struct Migration {
    /// The `user_version` the workspace has once this migration is applied (1, 2, 3, ...).
    pub version: i64,
    /// The file name without extension, e.g. `0001_init`.
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration in order: versions 1, 2, 3, … with no gaps, each matching its file name. A
/// workspace's `user_version` is the last one applied; pending migrations are those above it.
/// A shipped migration is never edited or renumbered. A test checks the order and names.
pub static MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_run_weights",
        sql: include_str!("../migrations/0002_run_weights.sql"),
    },
    Migration {
        version: 3,
        name: "0003_attribution_cache",
        sql: include_str!("../migrations/0003_attribution_cache.sql"),
    },
    Migration {
        version: 4,
        name: "0004_webhooks_alerts",
        sql: include_str!("../migrations/0004_webhooks_alerts.sql"),
    },
    Migration {
        version: 5,
        name: "0005_trust",
        sql: include_str!("../migrations/0005_trust.sql"),
    },
    Migration {
        version: 6,
        name: "0006_view_totals",
        sql: include_str!("../migrations/0006_view_totals.sql"),
    },
    Migration {
        version: 7,
        name: "0007_erased_keys",
        sql: include_str!("../migrations/0007_erased_keys.sql"),
    },
    Migration {
        version: 8,
        name: "0008_sync_runs",
        sql: include_str!("../migrations/0008_sync_runs.sql"),
    },
    Migration {
        version: 9,
        name: "0009_pair_totals",
        sql: include_str!("../migrations/0009_pair_totals.sql"),
    },
    Migration {
        version: 10,
        name: "0010_source_health_alerts",
        sql: include_str!("../migrations/0010_source_health_alerts.sql"),
    },
    Migration {
        version: 11,
        name: "0011_order_aliases",
        sql: include_str!("../migrations/0011_order_aliases.sql"),
    },
    Migration {
        version: 12,
        name: "0012_raw_events_by_received",
        sql: include_str!("../migrations/0012_raw_events_by_received.sql"),
    },
    Migration {
        version: 13,
        name: "0013_source_settings",
        sql: include_str!("../migrations/0013_source_settings.sql"),
    },
    Migration {
        version: 14,
        name: "0014_source_credentials",
        sql: include_str!("../migrations/0014_source_credentials.sql"),
    },
    Migration {
        version: 15,
        name: "0015_compact_raw_events",
        sql: include_str!("../migrations/0015_compact_raw_events.sql"),
    },
    Migration {
        version: 16,
        name: "0016_workspace_totals",
        sql: include_str!("../migrations/0016_workspace_totals.sql"),
    },
    Migration {
        version: 17,
        name: "0017_raw_events_received",
        sql: include_str!("../migrations/0017_raw_events_received.sql"),
    },
    Migration {
        version: 18,
        name: "0018_money_by_day",
        sql: include_str!("../migrations/0018_money_by_day.sql"),
    },
    Migration {
        version: 19,
        name: "0019_touch_traffic",
        sql: include_str!("../migrations/0019_touch_traffic.sql"),
    },
    Migration {
        version: 20,
        name: "0020_accrual_totals",
        sql: include_str!("../migrations/0020_accrual_totals.sql"),
    },
    Migration {
        version: 21,
        name: "0021_raw_event_blocks",
        sql: include_str!("../migrations/0021_raw_event_blocks.sql"),
    },
    Migration {
        version: 22,
        name: "0022_journey_cache_by_touches",
        sql: include_str!("../migrations/0022_journey_cache_by_touches.sql"),
    },
    Migration {
        version: 23,
        name: "0023_slim_touch_storage",
        sql: include_str!("../migrations/0023_slim_touch_storage.sql"),
    },
    Migration {
        version: 24,
        name: "0024_narrow_touch_rows",
        sql: include_str!("../migrations/0024_narrow_touch_rows.sql"),
    },
    Migration {
        version: 25,
        name: "0025_touch_time_span",
        sql: include_str!("../migrations/0025_touch_time_span.sql"),
    },
    Migration {
        version: 26,
        name: "0026_traffic_totals",
        sql: include_str!("../migrations/0026_traffic_totals.sql"),
    },
    Migration {
        version: 27,
        name: "0027_traffic_class_check_as_range",
        sql: include_str!("../migrations/0027_traffic_class_check_as_range.sql"),
    },
    Migration {
        version: 28,
        name: "0028_run_checks_as_comparisons",
        sql: include_str!("../migrations/0028_run_checks_as_comparisons.sql"),
    },
    Migration {
        version: 29,
        name: "0029_click_index_generations",
        sql: include_str!("../migrations/0029_click_index_generations.sql"),
    },
    Migration {
        version: 30,
        name: "0030_credit_touch_rows",
        sql: include_str!("../migrations/0030_credit_touch_rows.sql"),
    },
];

/// The schema version this binary writes and understands: the last migration's version.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// `PRAGMA application_id` of every Lookback workspace: the ASCII bytes `LBK1`. SQLite stores it
/// at offset 68 of the file header, so a foreign SQLite file is recognized without reading a
/// single table.
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"LBK1");

/// Whether the file has the table `name`: a workspace opened read-only at an older schema (a
/// damaged file is not migrated) may lack what a later migration made, and its readers then
/// count from the base tables instead.
pub(crate) fn table_exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        )?
        .query_row([name], |row| row.get(0))?)
}

/// Whether the file's table `table` has the column `column` (a later migration's column, which
/// a damaged file opened read-only at an older schema may lack; see [`table_exists`]).
pub(crate) fn column_exists(conn: &Connection, table: &str, column: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)")?
        .query_row([table, column], |row| row.get(0))?)
}

/// Applies every migration newer than the file's `user_version`, in one immediate transaction,
/// and stamps the application id in the same transaction.
pub(crate) fn apply_pending(conn: &mut Connection) -> StoreResult<()> {
    apply_pending_observed(conn, &mut |_| true)
}

/// [`apply_pending`], calling `before_each` before each migration it applies; when that returns
/// false, nothing is applied (the transaction rolls back) and the error is `UpgradeStopped`.
pub(crate) fn apply_pending_observed(
    conn: &mut Connection,
    before_each: &mut dyn FnMut(&Migration) -> bool,
) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read the version again inside the write lock: another process may have migrated between
    // our checks and now, and a newer binary may have done so too.
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerVersion {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        if !before_each(migration) {
            return Err(StoreError::UpgradeStopped {
                path: conn_path(&tx),
                found,
            });
        }
        tx.execute_batch(migration.sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

/// The file a connection has open, for messages.
fn conn_path(conn: &Connection) -> std::path::PathBuf {
    conn.path()
        .map(std::path::PathBuf::from)
        .unwrap_or_default()
}

impl Migration {
    /// What the migration changes, in words for a progress line: its file name without the
    /// number (`0016_workspace_totals` is "workspace totals").
    pub fn title(&self) -> String {
        self.name
            .split_once('_')
            .map_or(self.name, |(_, rest)| rest)
            .replace('_', " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_match_file_names() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                migration.version,
                index as i64 + 1,
                "{} is out of sequence",
                migration.name
            );
        }
        for migration in MIGRATIONS {
            let version = migration.version;
            assert!(
                migration.name.starts_with(&format!("{version:04}_")),
                "{} does not start with {version:04}_",
                migration.name
            );
        }
    }

    /// 0010 rebuilds alert_rules (a table other rows refer to): on a workspace that has rules
    /// and notifications, every row survives and the foreign key still holds.
    #[test]
    fn rebuilding_alert_rules_keeps_rules_and_their_notifications() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        let tx = conn.transaction().unwrap();
        for migration in MIGRATIONS.iter().filter(|m| m.version < 10) {
            tx.execute_batch(migration.sql).unwrap();
        }
        tx.execute_batch(
            "INSERT INTO alert_rules (rule_id, kind, threshold, channel, created_at_ms)
                 VALUES (7, 'dead_letters', 3, 'slack', 1);
             INSERT INTO alert_notifications (rule_id, subject, window_key, channel, title, body, context, state,
                                              next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES (7, 'all', '2026-01-01', 'slack', 't', 'b', '{}', 'sent', 0, 1, 1);",
        )
        .unwrap();
        tx.commit().unwrap();
        let tx = conn.transaction().unwrap();
        let rebuild = MIGRATIONS.iter().find(|m| m.version == 10).unwrap();
        tx.execute_batch(rebuild.sql).unwrap();
        tx.commit().unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(
            count("SELECT COUNT(*) FROM alert_rules WHERE rule_id = 7 AND kind = 'dead_letters'"),
            1
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM alert_notifications WHERE rule_id = 7"),
            1
        );
        assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
        conn.execute(
            "INSERT INTO alert_rules (kind, threshold, channel, created_at_ms) VALUES ('source_health', 60, 'desktop', 2)",
            [],
        )
        .unwrap();
        let orphan = conn.execute(
            "INSERT INTO alert_notifications (rule_id, subject, window_key, channel, title, body, context, state,
                                              next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES (99, 'x', 'w', 'slack', 't', 'b', '{}', 'sent', 0, 1, 1)",
            [],
        );
        assert!(
            orphan.is_err(),
            "the foreign key to alert_rules still holds"
        );
    }
}
