//! The header row: which column holds what, resolved once per file so that each row is read
//! by index, and the whole-file checks (required columns present, no duplicate names).
//!
//! Header names are compared trimmed and case-insensitively. Columns a format does not know
//! are kept: they travel in the raw payload and are otherwise ignored.

use crate::payload::push_json_string;
use crate::{ImportKind, IngestError};

/// The identity key columns a touch or order may carry, in the order the formats list them.
/// `email` is hashed on the way in; `email_sha256` takes an already hashed address.
pub(crate) const IDENTITY_COLUMNS: [&str; 6] = [
    "person_id",
    "anonymous_id",
    "email",
    "email_sha256",
    "customer_id",
    "device_id",
];

/// The resolved header of one file.
pub(crate) struct Columns {
    /// How many fields every row should have.
    pub width: usize,
    /// Each column's payload key (escaped JSON literal) and index, sorted by key. The `email`
    /// column's key is `email_sha256`, because its value is replaced by the hash.
    pub payload_keys: Vec<(String, usize)>,
    /// The `email` column, whose value must never be stored.
    pub email: Option<usize>,
    /// The identity key columns present (name from [`IDENTITY_COLUMNS`], index).
    pub identity: Vec<(&'static str, usize)>,
    /// The columns the format does not use, whose values only travel in the payload.
    pub extra: Vec<usize>,
    /// The extra columns that hold personal data (`lookback_core::pii::is_pii_key`, and a
    /// buyer's `name` in orders and refunds): redacted in the payload unless the workspace
    /// keeps raw PII, in which case the importer empties this list.
    pub personal: Vec<usize>,
    /// The kind-specific columns.
    pub kind: KindColumns,
}

/// Column indices of a touches file.
pub(crate) struct TouchColumns {
    pub touch_id: usize,
    pub occurred_at: usize,
    pub channel: usize,
    pub touch_type: Option<usize>,
    pub creator_id: Option<usize>,
    pub campaign_id: Option<usize>,
    pub ad_id: Option<usize>,
    pub content_id: Option<usize>,
    pub click_id: Option<usize>,
    /// Read to classify the touch before the payload is minimized (issue 15); not stored as
    /// such: `user_agent` is personal and redacted in the payload like any extra column.
    pub user_agent: Option<usize>,
    /// The tracker's own bot or fraud verdict (`bot`, `is_bot` or `fraud_status`).
    pub verdict: Option<usize>,
}

/// Column indices of an orders file.
pub(crate) struct OrderColumns {
    pub order_id: usize,
    pub occurred_at: usize,
    pub amount: usize,
    pub currency: usize,
    pub status: Option<usize>,
    pub click_id: Option<usize>,
}

/// Column indices of a refunds file.
pub(crate) struct RefundColumns {
    pub refund_id: usize,
    pub order_id: usize,
    pub occurred_at: usize,
    pub amount: usize,
    pub currency: usize,
    pub kind: Option<usize>,
    pub status: Option<usize>,
}

/// Column indices of a spend file.
pub(crate) struct SpendColumns {
    pub date: usize,
    pub channel: usize,
    pub amount: usize,
    pub currency: usize,
    pub platform: Option<usize>,
    pub account_id: Option<usize>,
    pub campaign_id: Option<usize>,
    pub ad_id: Option<usize>,
    pub creator_id: Option<usize>,
    pub impressions: Option<usize>,
    pub clicks: Option<usize>,
    pub timezone: Option<usize>,
}

/// Column indices of a creator-costs file.
pub(crate) struct CostColumns {
    pub date: usize,
    pub creator_id: usize,
    pub amount: usize,
    pub currency: usize,
    pub kind: Option<usize>,
    pub cost_id: Option<usize>,
}

/// Column indices of an identities file.
pub(crate) struct LinkColumns {
    pub key_type_a: usize,
    pub key_a: usize,
    pub key_type_b: usize,
    pub key_b: usize,
}

/// Column indices of an exchange-rates file.
pub(crate) struct RateColumns {
    pub date: usize,
    pub from_currency: usize,
    pub to_currency: usize,
    pub rate: usize,
}

/// The kind-specific part of [`Columns`].
pub(crate) enum KindColumns {
    Touches(TouchColumns),
    Orders(OrderColumns),
    Refunds(RefundColumns),
    Spend(SpendColumns),
    CreatorCosts(CostColumns),
    Identities(LinkColumns),
    FxRates(RateColumns),
}

/// Collects the required columns that are missing while the kind's columns are looked up, so
/// the error names all of them at once.
struct Lookup<'a> {
    names: &'a [String],
    missing: Vec<String>,
}

impl Lookup<'_> {
    fn optional(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn required(&mut self, name: &str) -> usize {
        self.optional(name).unwrap_or_else(|| {
            self.missing.push(name.to_owned());
            usize::MAX
        })
    }
}

impl Columns {
    /// Resolves the header of `file` for `kind`. Fails, naming the file and every missing
    /// column, if a required column is absent; and on duplicate names.
    pub(crate) fn resolve(
        kind: ImportKind,
        file: &str,
        header: &[&str],
    ) -> Result<Columns, IngestError> {
        let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(IngestError::BadHeader {
                    file: file.to_owned(),
                    detail: format!("the column {name:?} appears twice"),
                });
            }
        }
        let email = names.iter().position(|n| n == "email");
        let identity: Vec<(&'static str, usize)> = IDENTITY_COLUMNS
            .iter()
            .filter_map(|&name| names.iter().position(|n| n == name).map(|i| (name, i)))
            .collect();

        let mut look = Lookup {
            names: &names,
            missing: Vec::new(),
        };
        let uses_identity = matches!(kind, ImportKind::Touches | ImportKind::Orders);
        if email.is_some() && look.optional("email_sha256").is_some() {
            return Err(IngestError::BadHeader {
                file: file.to_owned(),
                detail: "it has both email and email_sha256 columns; keep one of them".to_owned(),
            });
        }
        let kind_columns = match kind {
            ImportKind::Touches => {
                let columns = TouchColumns {
                    touch_id: look.required("touch_id"),
                    occurred_at: look.required("occurred_at"),
                    channel: look.required("channel"),
                    touch_type: look.optional("touch_type"),
                    creator_id: look.optional("creator_id"),
                    campaign_id: look.optional("campaign_id"),
                    ad_id: look.optional("ad_id"),
                    content_id: look.optional("content_id"),
                    click_id: look.optional("click_id"),
                    user_agent: look.optional("user_agent"),
                    verdict: look
                        .optional("bot")
                        .or_else(|| look.optional("is_bot"))
                        .or_else(|| look.optional("fraud_status")),
                };
                if identity.is_empty() {
                    look.missing
                        .push(format!("one of {}", IDENTITY_COLUMNS.join(", ")));
                }
                KindColumns::Touches(columns)
            }
            ImportKind::Orders => {
                let columns = OrderColumns {
                    order_id: look.required("order_id"),
                    occurred_at: look.required("occurred_at"),
                    amount: look.required("amount"),
                    currency: look.required("currency"),
                    status: look.optional("status"),
                    click_id: look.optional("click_id"),
                };
                if identity.is_empty() && columns.click_id.is_none() {
                    look.missing
                        .push(format!("one of click_id, {}", IDENTITY_COLUMNS.join(", ")));
                }
                KindColumns::Orders(columns)
            }
            ImportKind::Refunds => KindColumns::Refunds(RefundColumns {
                refund_id: look.required("refund_id"),
                order_id: look.required("order_id"),
                occurred_at: look.required("occurred_at"),
                amount: look.required("amount"),
                currency: look.required("currency"),
                kind: look.optional("kind"),
                status: look.optional("status"),
            }),
            ImportKind::Spend => KindColumns::Spend(SpendColumns {
                date: look.required("date"),
                channel: look.required("channel"),
                amount: look.required("amount"),
                currency: look.required("currency"),
                platform: look.optional("platform"),
                account_id: look.optional("account_id"),
                campaign_id: look.optional("campaign_id"),
                ad_id: look.optional("ad_id"),
                creator_id: look.optional("creator_id"),
                impressions: look.optional("impressions"),
                clicks: look.optional("clicks"),
                timezone: look.optional("timezone"),
            }),
            ImportKind::CreatorCosts => KindColumns::CreatorCosts(CostColumns {
                date: look.required("date"),
                creator_id: look.required("creator_id"),
                amount: look.required("amount"),
                currency: look.required("currency"),
                kind: look.optional("kind"),
                cost_id: look.optional("cost_id"),
            }),
            ImportKind::Identities => KindColumns::Identities(LinkColumns {
                key_type_a: look.required("key_type_a"),
                key_a: look.required("key_a"),
                key_type_b: look.required("key_type_b"),
                key_b: look.required("key_b"),
            }),
            ImportKind::FxRates => KindColumns::FxRates(RateColumns {
                date: look.required("date"),
                from_currency: look.required("from_currency"),
                to_currency: look.required("to_currency"),
                rate: look.required("rate"),
            }),
        };
        if !look.missing.is_empty() {
            return Err(IngestError::MissingColumns {
                file: file.to_owned(),
                kind,
                missing: look.missing,
            });
        }

        // Only touches and orders treat `email` as an identity column to hash. Any other
        // kind's `email` column is an extra column, but it is still an email address, so it
        // is hashed in the payload all the same.
        let identity = if uses_identity { identity } else { Vec::new() };
        let mut payload_keys: Vec<(String, usize)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let key = if Some(i) == email {
                    "email_sha256"
                } else {
                    name.as_str()
                };
                let mut literal = String::with_capacity(key.len() + 2);
                push_json_string(&mut literal, key);
                (literal, i)
            })
            .collect();
        payload_keys.sort();
        let known = known_columns(kind);
        let extra: Vec<usize> = (0..names.len())
            .filter(|&i| Some(i) != email && !known.contains(&names[i].as_str()))
            .collect();
        let buyer_name = matches!(kind, ImportKind::Orders | ImportKind::Refunds);
        let personal = extra
            .iter()
            .copied()
            .filter(|&i| {
                let name = names[i].as_str();
                lookback_core::pii::is_pii_key(name) || (buyer_name && name == "name")
            })
            .collect();
        Ok(Columns {
            width: names.len(),
            payload_keys,
            email,
            identity,
            extra,
            personal,
            kind: kind_columns,
        })
    }
}

/// Every column a format reads (required or optional), besides `email`.
pub(crate) fn known_columns(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Touches => &[
            "touch_id",
            "occurred_at",
            "channel",
            "touch_type",
            "creator_id",
            "campaign_id",
            "ad_id",
            "content_id",
            "click_id",
            "person_id",
            "anonymous_id",
            "email_sha256",
            "customer_id",
            "device_id",
        ],
        ImportKind::Orders => &[
            "order_id",
            "occurred_at",
            "amount",
            "currency",
            "status",
            "click_id",
            "person_id",
            "anonymous_id",
            "email_sha256",
            "customer_id",
            "device_id",
        ],
        ImportKind::Refunds => &[
            "refund_id",
            "order_id",
            "occurred_at",
            "amount",
            "currency",
            "kind",
            "status",
        ],
        ImportKind::Spend => &[
            "date",
            "channel",
            "amount",
            "currency",
            "platform",
            "account_id",
            "campaign_id",
            "ad_id",
            "creator_id",
            "impressions",
            "clicks",
            "timezone",
        ],
        ImportKind::CreatorCosts => &[
            "date",
            "creator_id",
            "amount",
            "currency",
            "kind",
            "cost_id",
        ],
        ImportKind::Identities => &["key_type_a", "key_a", "key_type_b", "key_b"],
        ImportKind::FxRates => &["date", "from_currency", "to_currency", "rate"],
    }
}
