//! The real-time tables (migration 0004): webhook deliveries — the receiver's durable log and
//! idempotency key —, references to webhook secrets in the keyring, alert rules, alert
//! notifications, and the two reads the alert rules evaluate (orders through creator links,
//! and the sync state of sources is read through [`Store::sources`]).
//!
//! Architecture Invariant: a webhook delivery and its raw event are written in one statement
//! sequence of one transaction, keyed by `(source, event_id)` with a UNIQUE constraint, so a
//! delivery that is acknowledged is stored, and a duplicate delivery writes nothing.
//!
//! Architecture Invariant: a notification row is inserted (state `pending`) before anything is
//! sent, keyed by `(rule_id, subject, window_key)`; a second claim of the same key is a no-op.

use rusqlite::{OptionalExtension, params};

use crate::raw_payloads::{PayloadDecoder, StoredPayload, qualified_payload_columns};
use crate::runs::credit_touch_join;
use crate::{NewRawEvent, RawEventOutcome, Store, StoreError, StoreResult, WriteTx};

/// A verified delivery to store, with the raw event it carries.
#[derive(Debug, Clone)]
pub struct NewWebhookDelivery<'a> {
    /// The source name from the endpoint's path (`/webhooks/stripe/<source>`).
    pub source: &'a str,
    /// `stripe`, `dub`, `generic` or `postback`: how it was verified and how it is normalized.
    pub scheme: &'a str,
    /// The platform's own event id: the idempotency key of deliveries.
    pub event_id: &'a str,
    /// The raw event's stream (`charges`, `sales`, `events`, ...) and id in that stream.
    pub stream: &'a str,
    pub external_id: &'a str,
    /// The record as the normalizer reads it (e-mails already hashed).
    pub payload: &'a str,
    pub received_at_ms: i64,
    pub normalizer_version: i64,
    /// What the request said that classifies a touch (`TrafficSignals` as JSON, nothing
    /// personal), read before the payload was minimized; `None` when it said nothing.
    pub traffic_signals: Option<&'a str>,
}

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeliveryOutcome {
    /// A new delivery; its raw event is new (or a new version) and awaits normalization.
    Stored { delivery_id: i64, raw_event_id: i64 },
    /// A new delivery whose record equals the stored latest version (a poll got there first):
    /// recorded as delivered and already normalized.
    AlreadyKnown { delivery_id: i64, raw_event_id: i64 },
    /// This event id was delivered before: nothing was written.
    Duplicate,
}

/// A delivery the normalizer has not handled yet, with its raw event's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWebhookDelivery {
    pub delivery_id: i64,
    pub source: String,
    pub scheme: String,
    pub event_id: String,
    pub stream: String,
    pub raw_event_id: i64,
    pub payload: String,
    /// The delivery's traffic signals as stored at receipt (see [`NewWebhookDelivery`]).
    pub traffic_signals: Option<String>,
}

/// A keyring reference of a webhook secret (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecretRef {
    pub secret_ref: String,
    pub source: String,
    pub added_at_ms: i64,
}

/// An alert rule as stored. `kind` and `channel` are the closed vocabularies of migration 0004.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRule {
    pub rule_id: i64,
    pub kind: String,
    /// A creator id or source id the rule is limited to; `None` means every one.
    pub subject: Option<String>,
    pub threshold: i64,
    pub currency: Option<String>,
    pub include_provisional: bool,
    pub grace_minutes: i64,
    pub channel: String,
    pub created_at_ms: i64,
}

/// A rule to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertRule {
    pub kind: String,
    pub subject: Option<String>,
    pub threshold: i64,
    pub currency: Option<String>,
    pub include_provisional: bool,
    pub grace_minutes: i64,
    pub channel: String,
    pub created_at_ms: i64,
}

/// A notification to claim (insert before sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertNotification {
    pub rule_id: i64,
    pub subject: String,
    pub window_key: String,
    pub channel: String,
    pub title: String,
    pub body: String,
    /// JSON with the facts (creator, order id, model, amounts, provisional or settled).
    pub context: String,
    pub created_at_ms: i64,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotification {
    pub notification_id: i64,
    pub rule_id: i64,
    pub subject: String,
    pub window_key: String,
    pub channel: String,
    pub title: String,
    pub body: String,
    pub context: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub last_error: Option<String>,
}

/// An order whose click id leads to a touch through a creator's link, with what counts
/// against it. The alert rules aggregate these; the SQL only joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorLinkOrder {
    pub order_id: String,
    pub creator_id: String,
    pub occurred_at_ms: i64,
    pub gross_minor: i64,
    pub currency: String,
    pub status: String,
    /// Counted refunds and chargebacks in the order's currency (see `COUNTED_ADJUSTMENT`).
    pub deducted_minor: i64,
    /// Whether a chargeback is open.
    pub disputed: bool,
}

/// What a creator earned of one order in one attribution run: the sum of the credits of the
/// creator's touches, in the run's reporting currency. The alert rules aggregate these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorCreditOrder {
    pub order_id: String,
    pub creator_id: String,
    pub occurred_at_ms: i64,
    /// Σ credits of this creator's touches for the order (reporting currency).
    pub credited_minor: i64,
    /// The order's net revenue in the run (reporting currency).
    pub order_net_minor: i64,
    /// Provisional in the run (inside the settlement window, or disputed).
    pub provisional: bool,
    pub status: String,
    /// Whether a chargeback is open.
    pub disputed: bool,
}

/// Whether order `o` has an open chargeback (a disputed order is provisional), for the alert
/// queries below.
const OPEN_CHARGEBACK: &str = "EXISTS (SELECT 1 FROM order_adjustments a
     WHERE a.order_id = o.order_id AND a.kind = 'chargeback' AND a.status = 'open')";

impl WriteTx<'_> {
    /// Stores a verified delivery and its raw event. A delivery whose `(source, event_id)` is
    /// known already is a [`WebhookDeliveryOutcome::Duplicate`] and writes nothing.
    pub fn record_webhook_delivery(
        &mut self,
        delivery: &NewWebhookDelivery<'_>,
    ) -> StoreResult<WebhookDeliveryOutcome> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO webhook_deliveries (source, scheme, event_id, stream, received_at_ms, traffic_signals)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, event_id) DO NOTHING",
            )?
            .execute(params![
                delivery.source,
                delivery.scheme,
                delivery.event_id,
                delivery.stream,
                delivery.received_at_ms,
                delivery.traffic_signals
            ])?;
        if inserted == 0 {
            return Ok(WebhookDeliveryOutcome::Duplicate);
        }
        let delivery_id = self.tx.last_insert_rowid();
        let outcome = self.insert_raw_event(&NewRawEvent {
            source: delivery.source,
            stream: delivery.stream,
            external_id: delivery.external_id,
            received_at_ms: delivery.received_at_ms,
            payload: delivery.payload,
            normalizer_version: delivery.normalizer_version,
        })?;
        let (raw_event_id, known) = match outcome {
            RawEventOutcome::Inserted(id) | RawEventOutcome::NewVersion(id) => (id, false),
            RawEventOutcome::Duplicate(id) => (id, true),
        };
        // A record equal to its stored latest version was normalized when it was first stored;
        // normalizing it again could only repeat a dead letter.
        let normalized_at = known.then_some(delivery.received_at_ms);
        self.tx
            .prepare_cached(
                "UPDATE webhook_deliveries SET raw_event_id = ?2, normalized_at_ms = ?3 WHERE delivery_id = ?1",
            )?
            .execute(params![delivery_id, raw_event_id, normalized_at])?;
        Ok(if known {
            WebhookDeliveryOutcome::AlreadyKnown {
                delivery_id,
                raw_event_id,
            }
        } else {
            WebhookDeliveryOutcome::Stored {
                delivery_id,
                raw_event_id,
            }
        })
    }

    /// Marks a delivery as normalized (its rows or its dead letter are written in this
    /// transaction too).
    pub fn mark_webhook_normalized(&mut self, delivery_id: i64, at_ms: i64) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "UPDATE webhook_deliveries SET normalized_at_ms = ?2 WHERE delivery_id = ?1",
            )?
            .execute(params![delivery_id, at_ms])?;
        Ok(())
    }

    /// Records that `secret_ref` (a keyring user name) holds a webhook secret of `source`.
    pub fn add_webhook_secret_ref(
        &mut self,
        source: &str,
        secret_ref: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO webhook_secrets (secret_ref, source, added_at_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![secret_ref, source, at_ms])?;
        Ok(())
    }

    /// Forgets one secret reference; returns whether it existed.
    pub fn remove_webhook_secret_ref(&mut self, secret_ref: &str) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached("DELETE FROM webhook_secrets WHERE secret_ref = ?1")?
            .execute(params![secret_ref])?;
        Ok(changed > 0)
    }

    /// Inserts an alert rule; returns its id.
    pub fn insert_alert_rule(&mut self, rule: &NewAlertRule) -> StoreResult<i64> {
        if let Some(currency) = &rule.currency {
            crate::records::check_currency("alert currency", currency)?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO alert_rules (kind, subject, threshold, currency, include_provisional, grace_minutes, channel, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                rule.kind,
                rule.subject,
                rule.threshold,
                rule.currency,
                rule.include_provisional,
                rule.grace_minutes,
                rule.channel,
                rule.created_at_ms
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::InvalidValue {
                        field: "alert rule",
                        detail: "kind, channel or threshold is not allowed".to_owned(),
                    }
                }
                other => other.into(),
            })?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Retires a rule (its notifications stay); returns false if there is no such active rule.
    pub fn remove_alert_rule(&mut self, rule_id: i64, at_ms: i64) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE alert_rules SET removed_at_ms = ?2 WHERE rule_id = ?1 AND removed_at_ms IS NULL",
            )?
            .execute(params![rule_id, at_ms])?;
        Ok(changed > 0)
    }

    /// Inserts a notification in state `pending` unless its `(rule, subject, window)` exists.
    /// Returns the new id, or `None` when it was claimed before (sent, failed or pending).
    pub fn claim_notification(
        &mut self,
        notification: &NewAlertNotification,
    ) -> StoreResult<Option<i64>> {
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO alert_notifications (rule_id, subject, window_key, channel, title, body, context, state,
                                                  attempts, next_attempt_at_ms, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8, ?8)
                 ON CONFLICT (rule_id, subject, window_key) DO NOTHING",
            )?
            .execute(params![
                notification.rule_id,
                notification.subject,
                notification.window_key,
                notification.channel,
                notification.title,
                notification.body,
                notification.context,
                notification.created_at_ms
            ])?;
        Ok((changed > 0).then(|| self.tx.last_insert_rowid()))
    }

    /// Records the outcome of one delivery attempt: `sent`, `failed` (final), or `pending`
    /// again with the time of the next attempt.
    pub fn record_notification_attempt(
        &mut self,
        notification_id: i64,
        state: &str,
        next_attempt_at_ms: i64,
        error: Option<&str>,
        at_ms: i64,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "UPDATE alert_notifications SET state = ?2, attempts = attempts + 1, next_attempt_at_ms = ?3,
                        last_error = ?4, updated_at_ms = ?5
                 WHERE notification_id = ?1",
            )?
            .execute(params![notification_id, state, next_attempt_at_ms, error, at_ms])?;
        Ok(())
    }
}

/// Orders of a time range joined to the creator touch with their click id (`touches_by_click`,
/// a seek in each generation). Without statistics SQLite would rather build an automatic index
/// of every touch's click id, or walk the touches outside, than seek per generation for each
/// order: the join's order and index are spelt out.
pub(crate) fn creator_link_orders_sql() -> String {
    format!(
        "SELECT o.order_id, MIN(t.creator_id), o.occurred_at_ms, o.gross_minor, o.currency, o.status,
                COALESCE((SELECT SUM(a.amount_minor) FROM order_adjustments a
                          WHERE a.order_id = o.order_id AND a.currency = o.currency AND {counted}), 0),
                {OPEN_CHARGEBACK}
         FROM orders o CROSS JOIN touch_rows t INDEXED BY touches_by_click
              ON {by_click} AND t.click_id = o.click_id AND t.creator_id IS NOT NULL
         WHERE o.occurred_at_ms >= ?1 AND o.occurred_at_ms < ?2
         GROUP BY o.order_id ORDER BY o.occurred_at_ms, o.order_id",
        counted = crate::COUNTED_ADJUSTMENT.replace("status", "a.status").replace("kind", "a.kind"),
        by_click = crate::touch_generations::click_lookup("t."),
    )
}

/// Every order placed in a time range with its status and open chargeback (`orders_by_time`).
pub(crate) fn order_states_sql() -> String {
    format!(
        "SELECT o.order_id, o.status, {OPEN_CHARGEBACK}
         FROM orders o WHERE o.occurred_at_ms >= ?1 AND o.occurred_at_ms < ?2"
    )
}

/// Deliveries not normalized yet, oldest first, with their payloads
/// (`webhook_deliveries_pending`).
pub(crate) fn pending_deliveries_sql() -> String {
    format!(
        "SELECT d.delivery_id, d.source, d.scheme, d.event_id, d.stream, d.raw_event_id,
                d.traffic_signals, {}
         FROM webhook_deliveries d JOIN raw_events r ON r.raw_event_id = d.raw_event_id
         WHERE d.normalized_at_ms IS NULL ORDER BY d.delivery_id LIMIT ?1",
        qualified_payload_columns("r")
    )
}

/// Webhook secret references of one source or all (`webhook_secrets_by_source`).
pub(crate) const WEBHOOK_SECRET_REFS_SQL: &str =
    "SELECT secret_ref, source, added_at_ms FROM webhook_secrets
     WHERE ?1 IS NULL OR source = ?1 ORDER BY source, added_at_ms, secret_ref";

impl Store {
    /// Deliveries the normalizer has not handled, oldest first, at most `limit`.
    pub fn pending_webhook_deliveries(
        &self,
        limit: usize,
    ) -> StoreResult<Vec<PendingWebhookDelivery>> {
        let mut decoder = PayloadDecoder::default();
        let mut statement = self.conn.prepare_cached(&pending_deliveries_sql())?;
        let mut rows = statement.query(params![limit as i64])?;
        let mut pending = Vec::new();
        while let Some(row) = rows.next()? {
            let raw_event_id = row.get(5)?;
            let traffic_signals = row.get(6)?;
            let stored = StoredPayload::from_row(row, 7)?;
            pending.push(PendingWebhookDelivery {
                delivery_id: row.get(0)?,
                source: row.get(1)?,
                scheme: row.get(2)?,
                event_id: row.get(3)?,
                stream: row.get(4)?,
                raw_event_id,
                payload: decoder.decode(&self.conn, raw_event_id, stored)?,
                traffic_signals,
            });
        }
        Ok(pending)
    }

    /// Every stored delivery's count (for `listen` summaries and the load benchmark).
    pub fn webhook_delivery_count(&self) -> StoreResult<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM webhook_deliveries", [], |row| {
                row.get(0)
            })?)
    }

    /// The webhook secret references of `source` (all sources when `None`), oldest first.
    pub fn webhook_secret_refs(&self, source: Option<&str>) -> StoreResult<Vec<WebhookSecretRef>> {
        let mut statement = self.conn.prepare_cached(WEBHOOK_SECRET_REFS_SQL)?;
        let rows = statement
            .query_map(params![source], |row| {
                Ok(WebhookSecretRef {
                    secret_ref: row.get(0)?,
                    source: row.get(1)?,
                    added_at_ms: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The active (not removed) alert rules, by id.
    pub fn alert_rules(&self) -> StoreResult<Vec<AlertRule>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT rule_id, kind, subject, threshold, currency, include_provisional, grace_minutes, channel, created_at_ms
             FROM alert_rules WHERE removed_at_ms IS NULL ORDER BY rule_id",
        )?;
        let rows = statement
            .query_map([], |row| {
                Ok(AlertRule {
                    rule_id: row.get(0)?,
                    kind: row.get(1)?,
                    subject: row.get(2)?,
                    threshold: row.get(3)?,
                    currency: row.get(4)?,
                    include_provisional: row.get(5)?,
                    grace_minutes: row.get(6)?,
                    channel: row.get(7)?,
                    created_at_ms: row.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Notifications in state `pending` whose next attempt is due at `now_ms`.
    pub fn due_notifications(&self, now_ms: i64) -> StoreResult<Vec<AlertNotification>> {
        self.notifications_where("state = 'pending' AND next_attempt_at_ms <= ?1", now_ms)
    }

    /// Every notification, newest first (for `alert list` and tests).
    pub fn alert_notifications(&self) -> StoreResult<Vec<AlertNotification>> {
        self.notifications_where("?1 IS NOT NULL", 0)
    }

    fn notifications_where(
        &self,
        condition: &str,
        value: i64,
    ) -> StoreResult<Vec<AlertNotification>> {
        let sql = format!(
            "SELECT notification_id, rule_id, subject, window_key, channel, title, body, context, state, attempts,
                    next_attempt_at_ms, last_error
             FROM alert_notifications WHERE {condition} ORDER BY notification_id"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(params![value], |row| {
                Ok(AlertNotification {
                    notification_id: row.get(0)?,
                    rule_id: row.get(1)?,
                    subject: row.get(2)?,
                    window_key: row.get(3)?,
                    channel: row.get(4)?,
                    title: row.get(5)?,
                    body: row.get(6)?,
                    context: row.get(7)?,
                    state: row.get(8)?,
                    attempts: row.get(9)?,
                    next_attempt_at_ms: row.get(10)?,
                    last_error: row.get(11)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Orders placed in `[from_ms, to_ms)` whose click id matches a touch through a creator's
    /// link (the touch with the smallest creator id wins when a click id is shared).
    pub fn creator_link_orders(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<CreatorLinkOrder>> {
        let sql = creator_link_orders_sql();
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(params![from_ms, to_ms], |row| {
                Ok(CreatorLinkOrder {
                    order_id: row.get(0)?,
                    creator_id: row.get(1)?,
                    occurred_at_ms: row.get(2)?,
                    gross_minor: row.get(3)?,
                    currency: row.get(4)?,
                    status: row.get(5)?,
                    deducted_minor: row.get(6)?,
                    disputed: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Per order placed in `[from_ms, to_ms)` and per creator, what the creator's touches were
    /// credited with in run `run_id`.
    pub fn creator_credit_orders(
        &self,
        run_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<CreatorCreditOrder>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT o.order_id, t.creator_id, o.occurred_at_ms, SUM(c.revenue_minor), ro.net_minor, ro.provisional,
                    o.status,
                    {OPEN_CHARGEBACK}
             FROM orders o
             JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = o.order_id
             JOIN credits c ON c.run_id = ?1 AND c.order_id = o.order_id
             JOIN touches t ON {credit_touch} AND t.creator_id IS NOT NULL
             WHERE o.occurred_at_ms >= ?2 AND o.occurred_at_ms < ?3
             GROUP BY o.order_id, t.creator_id
             ORDER BY o.occurred_at_ms, o.order_id, t.creator_id",
            credit_touch = credit_touch_join(&self.conn)?,
        ))?;
        let rows = statement
            .query_map(params![run_id, from_ms, to_ms], |row| {
                Ok(CreatorCreditOrder {
                    order_id: row.get(0)?,
                    creator_id: row.get(1)?,
                    occurred_at_ms: row.get(2)?,
                    credited_minor: row.get(3)?,
                    order_net_minor: row.get(4)?,
                    provisional: row.get(5)?,
                    status: row.get(6)?,
                    disputed: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The status of every order placed in `[from_ms, to_ms)` and whether a chargeback of it is
    /// open, by order id.
    pub fn order_states_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<std::collections::HashMap<String, (String, bool)>> {
        let mut statement = self.conn.prepare_cached(&order_states_sql())?;
        let rows = statement
            .query_map(params![from_ms, to_ms], |row| {
                Ok((row.get(0)?, (row.get(1)?, row.get(2)?)))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many dead letters are unresolved, in all sources or in `source`.
    pub fn unresolved_dead_letter_total(&self, source: Option<&str>) -> StoreResult<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM dead_letters WHERE resolved_at_ms IS NULL AND (?1 IS NULL OR source = ?1)",
            params![source],
            |row| row.get(0),
        )?)
    }

    /// Whether an alert rule with this id exists and is active.
    pub fn alert_rule_exists(&self, rule_id: i64) -> StoreResult<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM alert_rules WHERE rule_id = ?1 AND removed_at_ms IS NULL",
                params![rule_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
