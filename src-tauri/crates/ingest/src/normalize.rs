//! One CSV row to one canonical record: required values present, instants parsed, amounts
//! converted exactly to minor units, emails hashed. A row that cannot be used yields a reason
//! a person can act on, which becomes its dead letter.
//!
//! Normalization is a pure function of the row, the header and the workspace's reporting
//! zone (plus `now` for identity links' `created_at_ms`), so reprocessing the raw payloads
//! reproduces the same canonical rows.

use lookback_core::CoreError;
use lookback_core::identity::{email_sha256, identity_key_from_column};
use lookback_core::money::{Currency, parse_major_decimal};
use lookback_core::time::{NaiveDate, parse_instant_ms, parse_time_zone};
use lookback_store::{
    AdSpend, AdjustmentKind, CreatorCost, CreatorCostKind, FxRate, IdentityKey, IdentityKeyType,
    IdentityKeys, IdentityLink, Order, OrderAdjustment, Touch,
};
use sha2::{Digest, Sha256};

use crate::columns::{
    Columns, CostColumns, KindColumns, LinkColumns, OrderColumns, RateColumns, RefundColumns,
    SpendColumns, TouchColumns,
};

/// The `source` of every canonical row and raw event written by a CSV import.
pub(crate) const SOURCE: &str = "csv";

pub(crate) use lookback_core::pii::{REDACTED, WITHHELD};

/// Refund statuses the store understands (see `COUNTED_ADJUSTMENT`).
const REFUND_STATUSES: [&str; 5] = ["succeeded", "pending", "failed", "canceled", "cancelled"];
/// Chargeback statuses: `open` while disputed, then `won` or `lost`; `prevented` for a dispute
/// stopped before it became a chargeback (it takes no money, like `won`).
const CHARGEBACK_STATUSES: [&str; 4] = ["open", "won", "lost", "prevented"];

/// A normalized row, ready to be written.
pub(crate) enum Record {
    Touch(Touch),
    /// `explicit_status` says the file gave a status, which a restated row may apply.
    Order {
        order: Order,
        explicit_status: bool,
    },
    Adjustment {
        adjustment: OrderAdjustment,
        explicit_status: bool,
    },
    Spend(AdSpend),
    Cost(CreatorCost),
    Link(IdentityLink),
    Rate(FxRate),
}

/// A normalized row and the id it is logged under in `raw_events.external_id`.
pub(crate) struct Normalized {
    pub external_id: String,
    pub record: Record,
}

/// Personal data found in a row: the payload overrides that hide it, the email hash for the
/// identity keys, and an error if an email that must be used is not an address.
#[derive(Default)]
pub(crate) struct Pii {
    pub overrides: Vec<(usize, String)>,
    pub email_sha256: Option<String>,
    pub error: Option<String>,
}

/// Finds the emails of a row and replaces them by their hashes (or [`WITHHELD`]) for the
/// payload. Runs before anything else, so not even a dead letter can hold a raw address.
///
/// Besides the `email` column (and `email` keys of identity links), any value that looks like
/// an email address (one token with an `@`, see `normalize_email`) is hashed in the extra
/// columns, and in every column when `misaligned` (a row whose fields do not line up with the
/// header may carry its address in any column).
pub(crate) fn protect_pii(columns: &Columns, fields: &[&str], misaligned: bool) -> Pii {
    let mut pii = Pii::default();
    let scrub = |index: usize, pii: &mut Pii| {
        let value = field(fields, index);
        if value.contains('@')
            && Some(index) != columns.email
            && let Some(hash) = email_sha256(value)
        {
            pii.overrides.push((index, hash));
        }
    };
    if misaligned {
        (0..fields.len()).for_each(|i| scrub(i, &mut pii));
    } else {
        columns.extra.iter().for_each(|&i| scrub(i, &mut pii));
    }
    for &index in &columns.personal {
        let already = pii.overrides.iter().any(|(i, _)| *i == index);
        if !already && !field(fields, index).is_empty() {
            pii.overrides.push((index, REDACTED.to_owned()));
        }
    }
    if let Some(index) = columns.email {
        let value = field(fields, index);
        if !value.is_empty() {
            match email_sha256(value) {
                Some(hash) => {
                    pii.overrides.push((index, hash.clone()));
                    pii.email_sha256 = Some(hash);
                }
                None => {
                    pii.overrides.push((index, WITHHELD.to_owned()));
                    // Only touches and orders use the column; elsewhere it is an extra column
                    // that is hidden but does not spoil the row.
                    if !columns.identity.is_empty() {
                        pii.error = Some(
                            "email is not a valid email address (the value is not stored)"
                                .to_owned(),
                        );
                    }
                }
            }
        }
    }
    if let KindColumns::Identities(c) = &columns.kind {
        for (side, type_index, key_index) in [
            ("key_a", c.key_type_a, c.key_a),
            ("key_b", c.key_type_b, c.key_b),
        ] {
            if !field(fields, type_index).eq_ignore_ascii_case("email") {
                continue;
            }
            match email_sha256(field(fields, key_index)) {
                Some(hash) => {
                    pii.overrides.push((type_index, "email_sha256".to_owned()));
                    pii.overrides.push((key_index, hash));
                }
                None => {
                    pii.overrides.push((key_index, WITHHELD.to_owned()));
                    pii.error.get_or_insert_with(|| {
                        format!("{side} is not a valid email address (the value is not stored)")
                    });
                }
            }
        }
    }
    pii
}

/// Everything a row's normalization needs besides the row.
pub(crate) struct RowContext<'a> {
    pub columns: &'a Columns,
    /// The zone of spend rows without a `timezone` value: the workspace's reporting zone.
    pub default_timezone: &'a str,
    pub now_ms: i64,
}

/// Normalizes one row whose emails were already hashed into `pii`.
pub(crate) fn normalize(
    ctx: &RowContext<'_>,
    fields: &[&str],
    pii: &mut Pii,
) -> Result<Normalized, String> {
    match &ctx.columns.kind {
        KindColumns::Touches(c) => touch(ctx, c, fields, pii),
        KindColumns::Orders(c) => order(ctx, c, fields, pii),
        KindColumns::Refunds(c) => refund(c, fields),
        KindColumns::Spend(c) => spend(ctx, c, fields),
        KindColumns::CreatorCosts(c) => cost(c, fields),
        KindColumns::Identities(c) => link(ctx, c, fields),
        KindColumns::FxRates(c) => rate(c, fields),
    }
}

fn touch(
    ctx: &RowContext<'_>,
    c: &TouchColumns,
    fields: &[&str],
    pii: &mut Pii,
) -> Result<Normalized, String> {
    let touch_id = required(fields, c.touch_id, "touch_id")?;
    let occurred_at_ms = instant(fields, c.occurred_at, "occurred_at")?;
    let channel = required(fields, c.channel, "channel")?;
    let identity = identity_keys(ctx.columns, fields, pii)?;
    if identity == IdentityKeys::default() {
        return Err(format!(
            "no identity key: fill at least one of {} so the touch can be joined to a person",
            present_identity_columns(ctx.columns)
        ));
    }
    Ok(Normalized {
        external_id: touch_id.to_owned(),
        record: Record::Touch(Touch {
            touch_id: touch_id.to_owned(),
            source: SOURCE.to_owned(),
            occurred_at_ms,
            channel: channel.to_owned(),
            touch_type: optional(fields, c.touch_type).unwrap_or_else(|| "click".to_owned()),
            creator_id: optional(fields, c.creator_id),
            campaign_id: optional(fields, c.campaign_id),
            ad_id: optional(fields, c.ad_id),
            content_id: optional(fields, c.content_id),
            click_id: optional(fields, c.click_id),
            identity,
            raw_event_id: None,
        }),
    })
}

fn order(
    ctx: &RowContext<'_>,
    c: &OrderColumns,
    fields: &[&str],
    pii: &mut Pii,
) -> Result<Normalized, String> {
    let order_id = required(fields, c.order_id, "order_id")?;
    let occurred_at_ms = instant(fields, c.occurred_at, "occurred_at")?;
    let (gross_minor, currency) = money(fields, c.amount, c.currency)?;
    let click_id = optional(fields, c.click_id);
    let identity = identity_keys(ctx.columns, fields, pii)?;
    if identity == IdentityKeys::default() && click_id.is_none() {
        let mut columns = present_identity_columns(ctx.columns);
        if c.click_id.is_some() {
            columns = if columns.is_empty() {
                "click_id".to_owned()
            } else {
                format!("click_id, {columns}")
            };
        }
        return Err(format!(
            "no click_id and no identity key: fill at least one of {columns}"
        ));
    }
    let status = optional(fields, c.status).map(|s| s.to_lowercase());
    Ok(Normalized {
        external_id: order_id.to_owned(),
        record: Record::Order {
            explicit_status: status.is_some(),
            order: Order {
                order_id: order_id.to_owned(),
                source: SOURCE.to_owned(),
                occurred_at_ms,
                gross_minor,
                currency: currency.code().to_owned(),
                status: status.unwrap_or_else(|| "paid".to_owned()),
                click_id,
                identity,
                raw_event_id: None,
            },
        },
    })
}

fn refund(c: &RefundColumns, fields: &[&str]) -> Result<Normalized, String> {
    let refund_id = required(fields, c.refund_id, "refund_id")?;
    let order_id = required(fields, c.order_id, "order_id")?;
    let occurred_at_ms = instant(fields, c.occurred_at, "occurred_at")?;
    let (amount_minor, currency) = money(fields, c.amount, c.currency)?;
    let kind = match optional(fields, c.kind) {
        None => AdjustmentKind::Refund,
        Some(text) => AdjustmentKind::parse(&text.to_lowercase())
            .ok_or_else(|| format!("kind {text:?} is not refund or chargeback"))?,
    };
    let (allowed, default): (&[&str], &str) = match kind {
        AdjustmentKind::Refund => (&REFUND_STATUSES, "succeeded"),
        AdjustmentKind::Chargeback => (&CHARGEBACK_STATUSES, "open"),
    };
    let status = optional(fields, c.status).map(|s| s.to_lowercase());
    if let Some(status) = &status
        && !allowed.contains(&status.as_str())
    {
        return Err(format!(
            "status {status:?} is not a {kind} status: expected one of {}",
            allowed.join(", ")
        ));
    }
    Ok(Normalized {
        external_id: refund_id.to_owned(),
        record: Record::Adjustment {
            explicit_status: status.is_some(),
            adjustment: OrderAdjustment {
                adjustment_id: refund_id.to_owned(),
                order_id: order_id.to_owned(),
                source: SOURCE.to_owned(),
                kind,
                occurred_at_ms,
                amount_minor,
                currency: currency.code().to_owned(),
                status: status.unwrap_or_else(|| default.to_owned()),
                raw_event_id: None,
            },
        },
    })
}

fn spend(ctx: &RowContext<'_>, c: &SpendColumns, fields: &[&str]) -> Result<Normalized, String> {
    let day = day(fields, c.date, "date")?;
    let channel = required(fields, c.channel, "channel")?;
    let (spend_minor, currency) = money(fields, c.amount, c.currency)?;
    let zone_name = c
        .timezone
        .map(|i| field(fields, i))
        .filter(|z| !z.is_empty())
        .unwrap_or(ctx.default_timezone);
    let zone = parse_time_zone(zone_name).map_err(|_| {
        format!("timezone {zone_name:?} is not an IANA time zone name such as \"America/New_York\" or \"UTC\"")
    })?;
    // Without a platform the channel keys the row, so two channels' spend on one day stays two rows.
    let platform = optional(fields, c.platform).unwrap_or_else(|| channel.to_owned());
    let account_id = optional(fields, c.account_id).unwrap_or_default();
    let campaign_id = optional(fields, c.campaign_id).unwrap_or_default();
    let ad_id = optional(fields, c.ad_id).unwrap_or_default();
    let external_id = format!("{platform}|{account_id}|{campaign_id}|{ad_id}|{day}");
    Ok(Normalized {
        external_id,
        record: Record::Spend(AdSpend {
            platform,
            account_id,
            campaign_id,
            ad_id,
            day,
            account_timezone: zone.name().to_owned(),
            channel: channel.to_owned(),
            creator_id: optional(fields, c.creator_id),
            spend_minor,
            currency: currency.code().to_owned(),
            impressions: count(fields, c.impressions, "impressions")?,
            clicks: count(fields, c.clicks, "clicks")?,
            source: SOURCE.to_owned(),
            raw_event_id: None,
            updated_at_ms: ctx.now_ms,
        }),
    })
}

fn cost(c: &CostColumns, fields: &[&str]) -> Result<Normalized, String> {
    let day = day(fields, c.date, "date")?;
    let creator_id = required(fields, c.creator_id, "creator_id")?;
    let (amount_minor, currency) = money(fields, c.amount, c.currency)?;
    let kind = match optional(fields, c.kind) {
        None => CreatorCostKind::Fee,
        Some(text) => CreatorCostKind::parse(&text.to_lowercase())
            .ok_or_else(|| format!("kind {text:?} is not fee or commission"))?,
    };
    let cost_id = optional(fields, c.cost_id)
        .unwrap_or_else(|| derived_cost_id(&day, creator_id, kind, amount_minor, currency));
    Ok(Normalized {
        external_id: cost_id.clone(),
        record: Record::Cost(CreatorCost {
            cost_id,
            creator_id: creator_id.to_owned(),
            day,
            kind,
            amount_minor,
            currency: currency.code().to_owned(),
            source: SOURCE.to_owned(),
            raw_event_id: None,
        }),
    })
}

/// The id of a creator cost row without a `cost_id`: `csv-` and the first 32 hex digits of
/// SHA-256 over `day|creator_id|kind|amount_minor|CURRENCY`. It is built from normalized
/// values, so `10` and `10.00` USD are the same cost; two identical costs on one day need
/// explicit `cost_id`s to be kept apart.
pub(crate) fn derived_cost_id(
    day: &str,
    creator_id: &str,
    kind: CreatorCostKind,
    amount_minor: i64,
    currency: Currency,
) -> String {
    let key = format!("{day}|{creator_id}|{kind}|{amount_minor}|{currency}");
    let digest = Sha256::digest(key.as_bytes());
    format!("csv-{}", hex::encode(&digest[..16]))
}

fn link(ctx: &RowContext<'_>, c: &LinkColumns, fields: &[&str]) -> Result<Normalized, String> {
    let a = link_key(fields, c.key_type_a, c.key_a, "key_type_a", "key_a")?;
    let b = link_key(fields, c.key_type_b, c.key_b, "key_type_b", "key_b")?;
    if a == b {
        return Err("key_a and key_b are the same key; a link needs two different keys".to_owned());
    }
    // Ordered like the store keeps them, so a pair reported either way round is one record.
    let (first, second) = if a <= b { (&a, &b) } else { (&b, &a) };
    let external_id = format!(
        "{}:{}|{}:{}",
        first.key_type, first.value, second.key_type, second.value
    );
    Ok(Normalized {
        external_id,
        record: Record::Link(IdentityLink {
            a,
            b,
            source: SOURCE.to_owned(),
            created_at_ms: ctx.now_ms,
        }),
    })
}

/// One day's rate of one currency pair: 1 `from_currency` buys `rate` `to_currency`, an exact
/// positive decimal kept in its canonical form (`1.0800` is stored as `1.08`). The rate of the
/// day in the reporting time zone converts that day's orders (README, Money).
fn rate(c: &RateColumns, fields: &[&str]) -> Result<Normalized, String> {
    let day = day(fields, c.date, "date")?;
    let currency = |index: usize, name: &str| -> Result<Currency, String> {
        let code = required(fields, index, name)?;
        Currency::parse(code).map_err(|_| {
            format!("{name} {code:?} is not a known ISO-4217 code such as USD, EUR or JPY")
        })
    };
    let from = currency(c.from_currency, "from_currency")?;
    let to = currency(c.to_currency, "to_currency")?;
    if from == to {
        return Err(format!(
            "from_currency and to_currency are both {from}; a rate converts one currency into another"
        ));
    }
    let text = required(fields, c.rate, "rate")?;
    let rate = lookback_core::fx::FxRate::parse(text).map_err(|error| match error {
        CoreError::InvalidRate { reason, .. } => format!("rate {text:?}: {reason}"),
        other => format!("rate {text:?}: {other}"),
    })?;
    Ok(Normalized {
        external_id: format!("{}|{}|{day}", from.code(), to.code()),
        record: Record::Rate(FxRate {
            day,
            from_currency: from.code().to_owned(),
            to_currency: to.code().to_owned(),
            rate: rate.to_string(),
            source: SOURCE.to_owned(),
        }),
    })
}

fn link_key(
    fields: &[&str],
    type_index: usize,
    key_index: usize,
    type_name: &str,
    key_name: &str,
) -> Result<IdentityKey, String> {
    let key_type = required(fields, type_index, type_name)?;
    let value = required(fields, key_index, key_name)?;
    match identity_key_from_column(key_type, value) {
        Ok(Some((kind, value))) => {
            let key_type = IdentityKeyType::parse(kind.as_str())
                .ok_or_else(|| format!("{type_name} {key_type:?} has no identity link type"))?;
            Ok(IdentityKey::new(key_type, value))
        }
        Ok(None) => Err(format!(
            "{key_name} is empty; every identities row needs two keys"
        )),
        Err(CoreError::UnknownKeyType { .. }) => Err(format!(
            "{type_name} {key_type:?} is not a key type: expected person_id, anonymous_id, email, email_sha256, \
             customer_id or device_id"
        )),
        Err(error) => Err(format!("{key_name}: {error}")),
    }
}

/// The identity keys of a touch or order. The email hash comes from [`protect_pii`].
fn identity_keys(
    columns: &Columns,
    fields: &[&str],
    pii: &mut Pii,
) -> Result<IdentityKeys, String> {
    let mut keys = IdentityKeys {
        email_sha256: pii.email_sha256.take(),
        ..IdentityKeys::default()
    };
    for &(name, index) in &columns.identity {
        if name == "email" {
            continue;
        }
        let value = field(fields, index);
        if value.is_empty() {
            continue;
        }
        let slot = match name {
            "person_id" => &mut keys.person_id,
            "anonymous_id" => &mut keys.anonymous_id,
            "customer_id" => &mut keys.customer_id,
            "device_id" => &mut keys.device_id,
            _ => &mut keys.email_sha256,
        };
        let normalized = match identity_key_from_column(name, value) {
            Ok(Some((_, normalized))) => normalized,
            Ok(None) => continue,
            Err(error) => return Err(error.to_string()),
        };
        *slot = Some(normalized);
    }
    Ok(keys)
}

fn present_identity_columns(columns: &Columns) -> String {
    columns
        .identity
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The trimmed text of field `index` ("" if the row is short).
fn field<'f>(fields: &[&'f str], index: usize) -> &'f str {
    fields.get(index).map_or("", |f| f.trim())
}

fn optional(fields: &[&str], index: Option<usize>) -> Option<String> {
    index
        .map(|i| field(fields, i))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn required<'f>(fields: &[&'f str], index: usize, name: &str) -> Result<&'f str, String> {
    let value = field(fields, index);
    if value.is_empty() {
        Err(format!("{name} is empty; it is required"))
    } else {
        Ok(value)
    }
}

fn instant(fields: &[&str], index: usize, name: &str) -> Result<i64, String> {
    let value = required(fields, index, name)?;
    parse_instant_ms(value).map_err(|error| match error {
        CoreError::InvalidInstant { reason, .. } => {
            format!("{name} {value:?} is not an ISO-8601 instant with offset: {reason}")
        }
        other => format!("{name}: {other}"),
    })
}

fn day(fields: &[&str], index: usize, name: &str) -> Result<String, String> {
    let value = required(fields, index, name)?;
    let well_formed =
        value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) if well_formed => Ok(date.format("%Y-%m-%d").to_string()),
        _ => Err(format!(
            "{name} {value:?} is not a calendar day written YYYY-MM-DD"
        )),
    }
}

/// An amount and its currency: the currency must be in core's ISO-4217 table, and the amount
/// a non-negative plain decimal with no more decimals than the currency has.
fn money(
    fields: &[&str],
    amount_index: usize,
    currency_index: usize,
) -> Result<(i64, Currency), String> {
    let code = required(fields, currency_index, "currency")?;
    let currency = Currency::parse(code).map_err(|_| {
        format!("currency {code:?} is not a known ISO-4217 code such as USD, EUR or JPY")
    })?;
    let amount = required(fields, amount_index, "amount")?;
    let minor = parse_major_decimal(amount, currency).map_err(|error| match error {
        CoreError::NegativeAmount { .. } => {
            format!("amount {amount:?} is negative; amounts are positive (book refunds in a refunds file)")
        }
        CoreError::TooManyDecimalPlaces { exponent, .. } => {
            format!("amount {amount:?} has more decimal places than {currency} allows ({exponent})")
        }
        CoreError::InvalidAmount { reason, .. } => format!("amount {amount:?} is not a plain decimal number: {reason}"),
        other => format!("amount {amount:?}: {other}"),
    })?;
    Ok((minor, currency))
}

/// A non-negative whole count (impressions, clicks); empty is `None`.
fn count(fields: &[&str], index: Option<usize>, name: &str) -> Result<Option<i64>, String> {
    let Some(index) = index else { return Ok(None) };
    let value = field(fields, index);
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(format!(
            "{name} {value:?} is not a whole number of zero or more"
        )),
    }
}
