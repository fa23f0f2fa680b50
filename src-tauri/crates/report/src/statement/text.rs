//! The words and figures of a statement, shared by its PDF and the CLI's summary, so what a
//! creator reads on paper and what `lookback statement` prints are the same text.

use lookback_core::money::{Currency, format_minor};

use super::CreatorStatement;
use crate::credits::readable_conversions;
use crate::ratio::{RATIO_PLACES, format_ratio};

/// An amount of the statement's currency, e.g. `1234.50 EUR`; a negative amount is written
/// with a minus sign.
pub(crate) fn money(statement: &CreatorStatement, minor: i64) -> String {
    match Currency::parse(&statement.currency) {
        Ok(c) => format!("{} {}", format_minor(minor, c), statement.currency),
        Err(_) => format!("{minor} (minor units) {}", statement.currency),
    }
}

/// An amount of a cost's own currency.
pub(crate) fn own_money(minor: i64, code: &str) -> String {
    match Currency::parse(code) {
        Ok(c) => format!("{} {code}", format_minor(minor, c)),
        Err(_) => format!("{minor} (minor units) {code}"),
    }
}

/// A share in billionths as a percentage with 2 decimals, rounded half to even.
pub(crate) fn percent(share_ppb: i64) -> String {
    // 1e9 ppb = 100.00 %: hundredths of a percent are 1e5 ppb.
    let hundredths = super::div_round_half_even(i128::from(share_ppb), 100_000);
    let sign = if hundredths < 0 { "-" } else { "" };
    let h = hundredths.unsigned_abs();
    format!("{sign}{}.{:02} %", h / 100, h % 100)
}

/// The summary of a statement, label and figure per line, in the order the PDF shows them.
pub fn statement_lines(s: &CreatorStatement) -> Vec<(String, String)> {
    let mut lines = vec![
        (
            format!(
                "Orders of the period ({}, {} by share)",
                s.orders.len(),
                readable_conversions(i128::from(s.orders_credited_ppb))
            ),
            money(s, s.settled_minor + s.provisional_minor),
        ),
        ("  Settled".to_owned(), money(s, s.settled_minor)),
        ("  Provisional".to_owned(), money(s, s.provisional_minor)),
        (
            format!("Clawbacks of earlier orders ({})", s.clawbacks.len()),
            money(s, s.clawbacks_minor),
        ),
        ("Net credited revenue".to_owned(), money(s, s.net_minor)),
        (
            "Fees and commissions".to_owned(),
            money(s, s.creator_costs_minor),
        ),
        (
            "Ad spend on their campaigns".to_owned(),
            money(s, s.ad_spend_minor),
        ),
        ("Costs".to_owned(), money(s, s.cost_minor)),
        (
            "ROAS (net / costs)".to_owned(),
            format_ratio(s.roas.as_ref(), RATIO_PLACES),
        ),
    ];
    for m in &s.missing_fx_costs {
        lines.push((
            format!(
                "Costs without an exchange rate ({} rows, not in Costs)",
                m.rows
            ),
            own_money(m.amount_minor, &m.currency),
        ));
    }
    lines
}

/// The attribution behind a statement: the model and its windows, then the run.
pub(crate) fn run_lines(s: &CreatorStatement) -> [String; 2] {
    [
        format!(
            "Model {} (the workspace's) · lookback window {} days · settlement window {} days",
            s.run.model, s.run.lookback_days, s.run.settlement_days
        ),
        format!(
            "Attribution run #{}{} · inputs {}",
            s.run.run_id,
            crate::render::touches_in_words(&s.run.parameters)
                .map(|words| format!(" · {words}"))
                .unwrap_or_default(),
            s.run.input_watermark
        ),
    ]
}

/// A file name stem for a statement: `statement-<creator>-<from>-<to>`, with every character
/// of the creator id that is not a letter, digit, `-` or `_` replaced by `_`.
pub fn statement_file_stem(creator_id: &str, from: &str, to: &str) -> String {
    let creator: String = creator_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("statement-{creator}-{from}-{to}")
}
