//! Template files: for each kind of import, a CSV whose header is every column the importer
//! reads for that kind (taken from the resolver's own list, so a template never names a column
//! the importer ignores or misses one it reads) and one example row showing each value's
//! format. The window's **Download template** and `lookback import --template KIND` write it.

use crate::ImportKind;
use crate::columns::known_columns;

/// The header of `kind`'s template: the importer's columns, with the address column `email`
/// (hashed on the way in) in place of `email_sha256`, which takes an already hashed one.
pub fn template_columns(kind: ImportKind) -> Vec<&'static str> {
    known_columns(kind)
        .iter()
        .map(|&name| {
            if name == "email_sha256" {
                "email"
            } else {
                name
            }
        })
        .collect()
}

/// The template CSV of `kind`: the header and one example row, newline-terminated.
pub fn template_csv(kind: ImportKind) -> String {
    let columns = template_columns(kind);
    let example: Vec<&str> = columns.iter().map(|c| example_value(kind, c)).collect();
    format!("{}\n{}\n", columns.join(","), example.join(","))
}

/// The example row's value of `column` (empty for optional columns an example leaves out).
fn example_value(kind: ImportKind, column: &str) -> &'static str {
    use ImportKind::*;
    match (kind, column) {
        (Touches, "touch_id") => "touch-1001",
        (Touches, "occurred_at") => "2026-01-15T10:30:00Z",
        (Touches, "channel") => "creator_link",
        (Touches, "touch_type") => "click",
        (Touches, "creator_id") => "creator-ana",
        (Touches, "content_id") => "post-17",
        (Touches | Orders, "click_id") => "click-1001",
        (Touches | Orders, "email") => "buyer@example.com",
        (Touches | Orders, "customer_id") => "customer-1001",
        (Orders, "order_id") => "order-1001",
        (Orders, "occurred_at") => "2026-01-15T11:05:00Z",
        (Orders, "amount") => "49.00",
        (Orders, "status") => "paid",
        (Refunds, "refund_id") => "refund-1001",
        (Refunds, "order_id") => "order-1001",
        (Refunds, "occurred_at") => "2026-01-20T09:00:00Z",
        (Refunds, "amount") => "10.00",
        (Refunds, "kind") => "refund",
        (Refunds, "status") => "succeeded",
        (Spend, "date") | (CreatorCosts, "date") => "2026-01-15",
        (Spend, "channel") => "paid_social",
        (Spend, "amount") => "120.00",
        (Spend, "platform") => "meta",
        (Spend, "account_id") => "act-1",
        (Spend, "campaign_id") => "spring-sale",
        (Spend, "impressions") => "10000",
        (Spend, "clicks") => "250",
        (Spend, "timezone") => "UTC",
        (CreatorCosts, "creator_id") => "creator-ana",
        (CreatorCosts, "amount") => "300.00",
        (CreatorCosts, "kind") => "fee",
        (CreatorCosts, "cost_id") => "invoice-1001",
        (Identities, "key_type_a") => "email",
        (Identities, "key_a") => "buyer@example.com",
        (Identities, "key_type_b") => "customer_id",
        (Identities, "key_b") => "customer-1001",
        (FxRates, "date") => "2026-01-15",
        (FxRates, "from_currency") => "EUR",
        (FxRates, "to_currency") => "USD",
        (FxRates, "rate") => "1.0834",
        (_, "currency") => "USD",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_names_the_importers_columns_once() {
        for kind in ImportKind::ALL {
            let columns = template_columns(kind);
            assert_eq!(columns.len(), known_columns(kind).len(), "{kind}");
            let mut sorted = columns.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), columns.len(), "{kind}: a column twice");
            let csv = template_csv(kind);
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines.len(), 2, "{kind}");
            assert_eq!(
                lines[0].split(',').count(),
                lines[1].split(',').count(),
                "{kind}"
            );
        }
    }
}
