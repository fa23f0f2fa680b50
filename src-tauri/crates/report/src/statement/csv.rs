//! A statement as CSV, beside its PDF: one row per line of the statement, with a sidecar
//! (`FILE.csv.json`) holding the run, the period and the totals.
//!
//! Columns: `section,reference,day,order_day,share,credited_gross,refunds,amount,status,currency`.
//! - `order`: an order of the period — `reference` its id, `day` = `order_day` its day,
//!   `share` (9 decimals), `credited_gross`, `refunds` (booked by the period's end, positive),
//!   `amount` = credited gross − refunds, `status` `settled` or `provisional`.
//! - `clawback`: an earlier order's refunds booked in the period — `day` the day of its last
//!   refund or chargeback in the period, `amount` negative, `status` `clawback`.
//! - `fee` / `commission`: a cost of the period in its own currency (`reference` the cost id,
//!   `amount` positive, `currency` the cost's own).
//!
//! So Σ `amount` over `order` and `clawback` rows is the statement's net.

use std::path::Path;

use lookback_core::money::Currency;
use serde_json::{Value, json};

use super::CreatorStatement;
use crate::ReportError;
use crate::export::{
    CsvFile, ExportOptions, ExportSummary, amount, base_meta, fixed, neutralize, ratio,
};

/// Writes the statement's CSV (and its sidecar, with `options.sidecar`) to `out`.
pub fn statement_csv(
    s: &CreatorStatement,
    out: &Path,
    options: &ExportOptions,
    created_at_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&s.currency).ok();
    let mut meta = base_meta("creator-statement", created_at_ms);
    meta.insert("creator_id".into(), Value::String(s.creator_id.clone()));
    meta.insert("creator".into(), Value::String(s.display_name.clone()));
    meta.insert(
        "period".into(),
        json!({ "from": s.from.to_string(), "to": s.to.to_string(), "zone": s.reporting_zone }),
    );
    meta.insert(
        "run".into(),
        json!({
            "run_id": s.run.run_id,
            "model": s.run.model,
            "parameters": serde_json::from_str::<Value>(&s.run.parameters)
                .unwrap_or(Value::String(s.run.parameters.clone())),
            "lookback_days": s.run.lookback_days,
            "settlement_days": s.run.settlement_days,
            "input_watermark": s.run.input_watermark,
        }),
    );
    meta.insert("model".into(), Value::String(s.run.model.clone()));
    if let Some(words) = crate::render::touches_in_words(&s.run.parameters) {
        meta.insert("touches".into(), Value::String(words.to_owned()));
    }
    meta.insert(
        "totals".into(),
        json!({
            "currency": s.currency,
            "settled": amount(s.settled_minor, currency),
            "provisional": amount(s.provisional_minor, currency),
            "clawbacks": amount(s.clawbacks_minor, currency),
            "net": amount(s.net_minor, currency),
            "fees_and_commissions": amount(s.creator_costs_minor, currency),
            "ad_spend": amount(s.ad_spend_minor, currency),
            "costs": amount(s.cost_minor, currency),
            "roas": ratio(s.roas.as_ref()),
            "costs_without_rate": s.missing_fx_costs.iter().map(|m| json!({
                "currency": m.currency, "rows": m.rows, "amount_minor": m.amount_minor,
            })).collect::<Vec<_>>(),
        }),
    );
    meta.insert(
        "model_changes".into(),
        json!(
            s.model_changes
                .iter()
                .map(|c| json!({
                    "change_id": c.change_id,
                    "changed_at_ms": c.changed_at_ms,
                    "from_model": c.from_model,
                    "to_model": c.to_model,
                    "reason": c.reason,
                }))
                .collect::<Vec<_>>()
        ),
    );
    let meta = Value::Object(meta);
    let columns = [
        "section",
        "reference",
        "day",
        "order_day",
        "share",
        "credited_gross",
        "refunds",
        "amount",
        "status",
        "currency",
    ];
    let mut file = CsvFile::with_columns(out, &columns, options, &meta)?;
    for o in &s.orders {
        file.record([
            "order".to_owned(),
            neutralize(&o.order_id).into_owned(),
            o.day.to_string(),
            o.day.to_string(),
            fixed(o.share_ppb, 9),
            amount(o.credited_gross_minor, currency),
            amount(o.refunds_minor, currency),
            amount(o.amount_minor, currency),
            if o.provisional {
                "provisional"
            } else {
                "settled"
            }
            .to_owned(),
            s.currency.clone(),
        ])?;
    }
    for c in &s.clawbacks {
        file.record([
            "clawback".to_owned(),
            neutralize(&c.order_id).into_owned(),
            c.booked_day.to_string(),
            c.order_day.to_string(),
            fixed(c.share_ppb, 9),
            String::new(),
            amount(-c.amount_minor, currency),
            amount(c.amount_minor, currency),
            "clawback".to_owned(),
            s.currency.clone(),
        ])?;
    }
    for c in &s.costs {
        file.record([
            neutralize(&c.kind).into_owned(),
            neutralize(&c.cost_id).into_owned(),
            c.day.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            amount(c.amount_minor, Currency::parse(&c.currency).ok()),
            String::new(),
            neutralize(&c.currency).into_owned(),
        ])?;
    }
    file.finish(options, meta)
}
