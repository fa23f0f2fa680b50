//! Workspace settings (typed views over the `workspace_settings` key/value table), the
//! append-only model log, and the input version behind `input_watermark`.
//!
//! Architecture Invariant: the current attribution model changes only through
//! [`Store::set_model_with_log`], which writes the setting and its `model_changes` row in one
//! transaction. There is deliberately no other public way to write the `model` or
//! `model_parameters` keys, and no way to append a log row without changing the setting, so the
//! log and the setting cannot disagree.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::{Store, StoreError, StoreResult};

/// The model a new workspace starts with.
pub const DEFAULT_MODEL: &str = "last-touch";
/// The parameters of a new workspace's model: none. The core crate defines their shape; the
/// store keeps them as opaque text.
pub const DEFAULT_MODEL_PARAMETERS: &str = "{}";
pub const DEFAULT_REPORTING_CURRENCY: &str = "USD";
pub const DEFAULT_REPORTING_TIMEZONE: &str = "UTC";
pub const DEFAULT_LOOKBACK_DAYS: u32 = 30;
pub const DEFAULT_SETTLEMENT_DAYS: u32 = 14;
pub const DEFAULT_NAME: &str = "Untitled workspace";

mod key {
    pub const NAME: &str = "name";
    pub const REPORTING_CURRENCY: &str = "reporting_currency";
    pub const REPORTING_TIMEZONE: &str = "reporting_timezone";
    pub const LOOKBACK_DAYS: &str = "lookback_days";
    pub const SETTLEMENT_DAYS: &str = "settlement_days";
    pub const PROBABILISTIC_MATCHING: &str = "probabilistic_matching";
    pub const MODEL: &str = "model";
    pub const MODEL_PARAMETERS: &str = "model_parameters";
    /// A counter bumped by every committed write that changes an attribution input, and by
    /// every change of a setting attribution depends on. See `Store::input_watermark`.
    pub const INPUT_VERSION: &str = "input_version";
}

/// Every workspace setting, with defaults filled in for keys never written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSettings {
    pub name: String,
    /// ISO-4217 code every view converts to.
    pub reporting_currency: String,
    /// IANA zone name that decides day buckets.
    pub reporting_timezone: String,
    pub lookback_days: u32,
    pub settlement_days: u32,
    pub probabilistic_matching: bool,
    pub model: String,
    pub model_parameters: String,
}

/// A request to switch the workspace's attribution model; the store fills in what it was
/// switched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChangeRequest {
    pub changed_at_ms: i64,
    /// Who made the change (a user name or `cli`); must not be empty.
    pub changed_by: String,
    pub to_model: String,
    pub parameters_after: String,
    /// Why, in the person's words; must not be empty.
    pub reason: String,
}

/// One row of the append-only model log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChange {
    pub change_id: i64,
    pub changed_at_ms: i64,
    pub changed_by: String,
    /// The model in effect before (the default `last-touch` for a workspace never changed).
    pub from_model: Option<String>,
    pub to_model: String,
    pub parameters_before: Option<String>,
    pub parameters_after: String,
    pub reason: String,
}

fn read_setting(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM workspace_settings WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

fn write_setting(conn: &Connection, key: &str, value: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO workspace_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

fn parse_setting<T: std::str::FromStr>(field: &'static str, text: &str) -> StoreResult<T> {
    text.parse().map_err(|_| StoreError::InvalidValue {
        field,
        detail: format!("stored value {text:?} cannot be read"),
    })
}

/// Adds one to the input version. Called inside the transaction whose writes it covers.
pub(crate) fn bump_input_version(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO workspace_settings (key, value) VALUES ('input_version', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
    )?
    .execute([])?;
    Ok(())
}

impl Store {
    /// All settings, defaults filled in.
    pub fn settings(&self) -> StoreResult<WorkspaceSettings> {
        Ok(WorkspaceSettings {
            name: self.name()?,
            reporting_currency: self.reporting_currency()?,
            reporting_timezone: self.reporting_timezone()?,
            lookback_days: self.lookback_days()?,
            settlement_days: self.settlement_days()?,
            probabilistic_matching: self.probabilistic_matching()?,
            model: self.model()?,
            model_parameters: self.model_parameters()?,
        })
    }

    fn text_setting(&self, key: &str, default: &str) -> StoreResult<String> {
        Ok(read_setting(&self.conn, key)?.unwrap_or_else(|| default.to_string()))
    }

    pub fn name(&self) -> StoreResult<String> {
        self.text_setting(key::NAME, DEFAULT_NAME)
    }

    pub fn reporting_currency(&self) -> StoreResult<String> {
        self.text_setting(key::REPORTING_CURRENCY, DEFAULT_REPORTING_CURRENCY)
    }

    pub fn reporting_timezone(&self) -> StoreResult<String> {
        self.text_setting(key::REPORTING_TIMEZONE, DEFAULT_REPORTING_TIMEZONE)
    }

    pub fn lookback_days(&self) -> StoreResult<u32> {
        match read_setting(&self.conn, key::LOOKBACK_DAYS)? {
            Some(text) => parse_setting(key::LOOKBACK_DAYS, &text),
            None => Ok(DEFAULT_LOOKBACK_DAYS),
        }
    }

    pub fn settlement_days(&self) -> StoreResult<u32> {
        match read_setting(&self.conn, key::SETTLEMENT_DAYS)? {
            Some(text) => parse_setting(key::SETTLEMENT_DAYS, &text),
            None => Ok(DEFAULT_SETTLEMENT_DAYS),
        }
    }

    pub fn probabilistic_matching(&self) -> StoreResult<bool> {
        match read_setting(&self.conn, key::PROBABILISTIC_MATCHING)? {
            Some(text) => parse_setting(key::PROBABILISTIC_MATCHING, &text),
            None => Ok(false),
        }
    }

    pub fn model(&self) -> StoreResult<String> {
        self.text_setting(key::MODEL, DEFAULT_MODEL)
    }

    pub fn model_parameters(&self) -> StoreResult<String> {
        self.text_setting(key::MODEL_PARAMETERS, DEFAULT_MODEL_PARAMETERS)
    }

    /// Writes one setting in its own transaction, bumping the input version when attribution
    /// depends on it so a cached run is not reused across the change.
    fn put_setting(
        &mut self,
        key: &str,
        value: &str,
        affects_attribution: bool,
    ) -> StoreResult<()> {
        self.ensure_writable()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let unchanged = read_setting(&tx, key)?.as_deref() == Some(value);
        if !unchanged {
            write_setting(&tx, key, value)?;
            if affects_attribution {
                bump_input_version(&tx)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_name(&mut self, name: &str) -> StoreResult<()> {
        if name.trim().is_empty() {
            return Err(StoreError::InvalidValue {
                field: "name",
                detail: "a workspace name cannot be empty".into(),
            });
        }
        self.put_setting(key::NAME, name.trim(), false)
    }

    pub fn set_reporting_currency(&mut self, currency: &str) -> StoreResult<()> {
        crate::records::check_currency("reporting_currency", currency)?;
        self.put_setting(key::REPORTING_CURRENCY, currency, true)
    }

    /// Sets the IANA zone name. The store only checks it is not blank; whether the zone exists
    /// is for the caller to check (the core crate knows the zone database).
    pub fn set_reporting_timezone(&mut self, timezone: &str) -> StoreResult<()> {
        if timezone.trim().is_empty() || timezone.contains(char::is_whitespace) {
            return Err(StoreError::InvalidValue {
                field: "reporting_timezone",
                detail: format!("{timezone:?} is not an IANA zone name"),
            });
        }
        self.put_setting(key::REPORTING_TIMEZONE, timezone, true)
    }

    /// Sets the lookback window, 1 to 3650 days (the range every model parameter in days has).
    pub fn set_lookback_days(&mut self, days: u32) -> StoreResult<()> {
        if !(1..=3650).contains(&days) {
            return Err(StoreError::InvalidValue {
                field: "lookback_days",
                detail: format!("{days} is not in 1..=3650"),
            });
        }
        self.put_setting(key::LOOKBACK_DAYS, &days.to_string(), true)
    }

    /// Sets the settlement window, 0 to 365 days.
    pub fn set_settlement_days(&mut self, days: u32) -> StoreResult<()> {
        if days > 365 {
            return Err(StoreError::InvalidValue {
                field: "settlement_days",
                detail: format!("{days} is not in 0..=365"),
            });
        }
        self.put_setting(key::SETTLEMENT_DAYS, &days.to_string(), true)
    }

    pub fn set_probabilistic_matching(&mut self, enabled: bool) -> StoreResult<()> {
        self.put_setting(
            key::PROBABILISTIC_MATCHING,
            if enabled { "true" } else { "false" },
            true,
        )
    }

    /// Switches the workspace's model and parameters and appends the change to the model log,
    /// in one transaction. The "before" values are read from the workspace, not trusted from
    /// the caller. Returns the appended log row.
    pub fn set_model_with_log(&mut self, change: &ModelChangeRequest) -> StoreResult<ModelChange> {
        self.ensure_writable()?;
        if change.changed_by.trim().is_empty() {
            return Err(StoreError::InvalidValue {
                field: "changed_by",
                detail: "who made the change is required".into(),
            });
        }
        if change.reason.trim().is_empty() {
            return Err(StoreError::InvalidValue {
                field: "reason",
                detail: "a reason for the change is required".into(),
            });
        }
        if change.to_model.trim().is_empty() {
            return Err(StoreError::InvalidValue {
                field: "to_model",
                detail: "the model name cannot be empty".into(),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let from_model =
            read_setting(&tx, key::MODEL)?.unwrap_or_else(|| DEFAULT_MODEL.to_string());
        let parameters_before = read_setting(&tx, key::MODEL_PARAMETERS)?
            .unwrap_or_else(|| DEFAULT_MODEL_PARAMETERS.to_string());
        write_setting(&tx, key::MODEL, &change.to_model)?;
        write_setting(&tx, key::MODEL_PARAMETERS, &change.parameters_after)?;
        tx.execute(
            "INSERT INTO model_changes (changed_at_ms, changed_by, from_model, to_model, parameters_before,
                                        parameters_after, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                change.changed_at_ms,
                change.changed_by,
                from_model,
                change.to_model,
                parameters_before,
                change.parameters_after,
                change.reason,
            ],
        )?;
        let change_id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(ModelChange {
            change_id,
            changed_at_ms: change.changed_at_ms,
            changed_by: change.changed_by.clone(),
            from_model: Some(from_model),
            to_model: change.to_model.clone(),
            parameters_before: Some(parameters_before),
            parameters_after: change.parameters_after.clone(),
            reason: change.reason.clone(),
        })
    }

    /// The model log, newest first (by order of appending, which a wrong clock cannot reorder).
    pub fn model_changes(&self) -> StoreResult<Vec<ModelChange>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT change_id, changed_at_ms, changed_by, from_model, to_model, parameters_before, parameters_after, reason
             FROM model_changes ORDER BY change_id DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(ModelChange {
                change_id: row.get(0)?,
                changed_at_ms: row.get(1)?,
                changed_by: row.get(2)?,
                from_model: row.get(3)?,
                to_model: row.get(4)?,
                parameters_before: row.get(5)?,
                parameters_after: row.get(6)?,
                reason: row.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A short string that changes whenever anything attribution reads changes: touches,
    /// orders, adjustments, identity links, fx rates, and the settings lookback, settlement,
    /// reporting currency and zone, and probabilistic matching.
    ///
    /// It is `v{input_version}` (the counter every committed store write to those tables and
    /// settings bumps, which also covers updates) followed by the largest rowid of each input
    /// table (which also catches rows inserted behind the store's back, e.g. by a person with
    /// the sqlite3 shell). Each part is an index lookup, so this is cheap at any size.
    pub fn input_watermark(&self) -> StoreResult<String> {
        let version =
            read_setting(&self.conn, key::INPUT_VERSION)?.unwrap_or_else(|| "0".to_string());
        let mut parts = vec![format!("v{version}")];
        for (tag, table) in [
            ("t", "touch_rows"),
            ("o", "orders"),
            ("a", "order_adjustments"),
            ("i", "identity_links"),
            ("f", "fx_rates"),
        ] {
            let max_rowid: i64 = self
                .conn
                .prepare_cached(&format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"))?
                .query_row([], |row| row.get(0))?;
            parts.push(format!("{tag}{max_rowid}"));
        }
        Ok(parts.join("."))
    }
}
