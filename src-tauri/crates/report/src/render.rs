//! Renderings of the reports: CSV (RFC 4180: header row, stable column order, quoted only where
//! needed, CRLF-free `\n` line ends as the `csv` crate writes), JSON, and an aligned text table.
//!
//! Every rendering names the run that produced it: the table in its first line, JSON in a `run`
//! object, CSV — which stays pure data so a spreadsheet reads it as is — through [`run_line`],
//! which the caller prints to stderr as one line.
//!
//! Credits CSV columns: `<key>,conversions,revenue,currency` where `<key>` is the grouping name
//! (`channel`, `creator`, `campaign`, `content` or `order`), `conversions` the fractional
//! conversions exact to 9 decimals, `revenue` the credited net revenue as a decimal in the reporting
//! currency, and `currency` that currency's code (repeated per row, so a row stands alone).
//! Weights CSV columns: `channel,<removal_effect|shapley_value>,weight,conversions,paths`.

use lookback_core::money::format_minor;
use lookback_core::time::format_instant_ms;
use lookback_store::CreditBasis;
use serde_json::{Value, json};

use crate::credits::{
    CreditsReport, NONE_KEY, RunInfo, format_conversions, none_label, readable_conversions,
};
use crate::intervals::WeightRowInterval;
use crate::weights::WeightsReport;
use lookback_core::bootstrap::{BootstrapSettings, Confidence};

/// An output format of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Table,
}

fn finished(run: &RunInfo) -> String {
    run.finished_at_ms
        .and_then(|ms| format_instant_ms(ms).ok())
        .unwrap_or_else(|| "—".to_owned())
}

/// One line naming the run: `run 12 · model linear · parameters {…} · bot touches excluded ·
/// finished … · currency USD`.
pub fn run_line(run: &RunInfo) -> String {
    format!(
        "run {} · model {} · parameters {}{} · finished {} · currency {} · inputs {}",
        run.run_id,
        run.model,
        run.parameters,
        touches_in_words(&run.parameters)
            .map(|words| format!(" · {words}"))
            .unwrap_or_default(),
        finished(run),
        run.reporting_currency,
        run.input_watermark
    )
}

/// Which touches a run with these canonical parameters read, in words ("bot touches
/// excluded", "only human touches", "all touches"); `None` for unreadable parameters.
pub fn touches_in_words(parameters: &str) -> Option<&'static str> {
    lookback_core::touch_filter::TouchFilter::of_run_parameters(parameters).map(|f| f.in_words())
}

fn run_json(run: &RunInfo) -> Value {
    let parameters: Value =
        serde_json::from_str(&run.parameters).unwrap_or(Value::String(run.parameters.clone()));
    json!({
        "run_id": run.run_id,
        "model": run.model,
        "parameters": parameters,
        "finished_at": run.finished_at_ms.and_then(|ms| format_instant_ms(ms).ok()),
        "reporting_currency": run.reporting_currency.code(),
        "input_watermark": run.input_watermark,
    })
}

/// An RFC 4180 CSV document: the header row, then one record per row.
pub fn csv_document(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail, so the results are safe to ignore.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(&row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Lays out rows under a header, the first column left-aligned and the rest right-aligned.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// The credits report as CSV: `<key>,conversions,revenue,currency`, one row per key.
pub fn credits_csv(report: &CreditsReport) -> String {
    let currency = report.run.reporting_currency;
    csv_document(
        &[report.by.as_str(), "conversions", "revenue", "currency"],
        report.rows.iter().map(|row| {
            vec![
                row.key.clone(),
                format_conversions(row.conversions_ppb),
                format_minor(row.revenue_minor, currency),
                currency.code().to_owned(),
            ]
        }),
    )
}

/// The summary figures of a credits report in one line, for stderr beside a CSV.
pub fn credits_summary_line(report: &CreditsReport) -> String {
    let currency = report.run.reporting_currency;
    let missing: Vec<String> = report
        .missing_fx
        .iter()
        .map(|m| {
            format!(
                "{} orders {} {}",
                m.orders,
                format_minor_or_raw(m.revenue_minor, &m.currency),
                m.currency
            )
        })
        .collect();
    format!(
        "{} · basis {} · attributed {} {} · provisional {} {} · unattributed {} orders {} {} · missing fx {}",
        run_line(&report.run),
        report.basis,
        format_minor(report.total_revenue_minor, currency),
        currency,
        format_minor(report.provisional_revenue_minor, currency),
        currency,
        report.unattributed.orders,
        format_minor(report.unattributed.revenue_minor, currency),
        currency,
        if missing.is_empty() {
            "0 orders".to_owned()
        } else {
            missing.join(", ")
        }
    )
}

fn format_minor_or_raw(minor: i64, code: &str) -> String {
    match lookback_core::money::Currency::parse(code) {
        Ok(currency) => format_minor(minor, currency),
        Err(_) => format!("{minor} minor units"),
    }
}

/// The credits report as JSON: `run`, `by`, `range`, `settled_only`, `currency`, `rows`,
/// `totals`, `provisional`, `attributed`, `unattributed` and `missing_fx`. Money appears both as
/// a decimal string (`revenue`) and as exact minor units (`revenue_minor`).
pub fn credits_json(report: &CreditsReport) -> Value {
    let currency = report.run.reporting_currency;
    let money = |minor: i64| format_minor(minor, currency);
    let outcome = |o: &crate::credits::OutcomeTotal| {
        json!({
            "orders": o.orders,
            "revenue": money(o.revenue_minor),
            "revenue_minor": o.revenue_minor,
            "provisional_revenue": money(o.provisional_revenue_minor),
            "provisional_revenue_minor": o.provisional_revenue_minor,
        })
    };
    json!({
        "run": run_json(&report.run),
        "by": report.by.as_str(),
        "range": report.range.map(|(from, to)| json!({"from": from.to_string(), "to": to.to_string()})),
        "settled_only": report.settled_only,
        "basis": report.basis.as_str(),
        "basis_shift": report.basis_shift.map(|s| json!({
            "from_later_orders_minor": s.from_later_orders_minor,
            "to_earlier_touches_minor": s.to_earlier_touches_minor,
        })),
        "currency": currency.code(),
        "rows": report.rows.iter().map(|row| json!({
            "key": row.key,
            "conversions": format_conversions(row.conversions_ppb),
            "revenue": money(row.revenue_minor),
            "revenue_minor": row.revenue_minor,
        })).collect::<Vec<_>>(),
        "totals": {
            "conversions": format_conversions(report.total_conversions_ppb),
            "revenue": money(report.total_revenue_minor),
            "revenue_minor": report.total_revenue_minor,
        },
        "provisional": {
            "revenue": money(report.provisional_revenue_minor),
            "revenue_minor": report.provisional_revenue_minor,
        },
        "attributed": outcome(&report.attributed),
        "unattributed": outcome(&report.unattributed),
        "missing_fx": {
            "orders": report.missing_fx_orders(),
            "by_currency": report.missing_fx.iter().map(|m| json!({
                "currency": m.currency,
                "orders": m.orders,
                "revenue": format_minor_or_raw(m.revenue_minor, &m.currency),
                "revenue_minor": m.revenue_minor,
            })).collect::<Vec<_>>(),
        },
    })
}

/// The credits report as an aligned table under a line naming the run, with totals, the
/// provisional share, unattributed and missing-fx orders below.
pub fn credits_table(report: &CreditsReport) -> String {
    let currency = report.run.reporting_currency;
    let mut out = run_line(&report.run);
    out.push('\n');
    let scope = match (report.range, report.basis) {
        (Some((from, to)), CreditBasis::Cash) => format!("orders {from} to {to} · cash basis"),
        (Some((from, to)), CreditBasis::Accrual) => {
            format!("touches {from} to {to} · accrual basis")
        }
        (None, basis) => format!("all orders · {basis} basis"),
    };
    out.push_str(&format!(
        "{scope}{} · revenue in {currency}\n\n",
        if report.settled_only {
            ", settled only"
        } else {
            ""
        }
    ));
    let header = [report.by.as_str(), "conversions", "revenue"];
    let mut rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            vec![
                if r.key == NONE_KEY {
                    none_label(report.by.as_str()).to_owned()
                } else {
                    r.key.clone()
                },
                readable_conversions(r.conversions_ppb),
                format_minor(r.revenue_minor, currency),
            ]
        })
        .collect();
    rows.push(vec![
        "total".to_owned(),
        readable_conversions(report.total_conversions_ppb),
        format_minor(report.total_revenue_minor, currency),
    ]);
    out.push_str(&aligned(&header, &rows));
    out.push('\n');
    out.push_str(&format!(
        "provisional   {} {currency} of the attributed revenue\n",
        format_minor(report.provisional_revenue_minor, currency)
    ));
    if let Some(shift) = &report.basis_shift {
        out.push_str(&crate::views::provenance::basis_shift_in_words(
            shift, currency,
        ));
        out.push('\n');
    }
    out.push_str(&format!(
        "unattributed  {} orders, {} {currency}\n",
        report.unattributed.orders,
        format_minor(report.unattributed.revenue_minor, currency)
    ));
    if report.missing_fx.is_empty() {
        out.push_str("missing fx    0 orders\n");
    } else {
        for m in &report.missing_fx {
            out.push_str(&format!(
                "missing fx    {} orders, {} {} (no rate to {currency} on the order day)\n",
                m.orders,
                format_minor_or_raw(m.revenue_minor, &m.currency),
                m.currency
            ));
        }
    }
    out
}

/// The weights report as CSV: `channel,<value name>,weight,conversions,paths`, and with
/// intervals `weight_low,weight_high,interval_note` (the note is
/// `too few conversions to say` when the weight is too uncertain to state, else empty).
pub fn weights_csv(report: &WeightsReport) -> String {
    let mut header = vec![
        "channel",
        report.value_name,
        "weight",
        "conversions",
        "paths",
    ];
    if report.intervals.is_some() {
        header.extend(["weight_low", "weight_high", "interval_note"]);
    }
    csv_document(
        &header,
        report.rows.iter().enumerate().map(|(i, r)| {
            let mut cells = vec![
                r.channel.clone(),
                r.value.to_string(),
                r.weight.to_string(),
                r.conversions.to_string(),
                r.paths.to_string(),
            ];
            if let Some(interval) = weight_interval(report, i) {
                cells.extend([
                    interval.low.to_string(),
                    interval.high.to_string(),
                    interval_note(interval.confidence).to_owned(),
                ]);
            }
            cells
        }),
    )
}

fn weight_interval(report: &WeightsReport, row: usize) -> Option<&WeightRowInterval> {
    report.intervals.as_ref().and_then(|i| i.rows.get(row))
}

/// Empty for a stated figure, the words for one too uncertain to state.
pub fn interval_note(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::Stated => "",
        Confidence::TooFew => Confidence::TOO_FEW_WORDS,
    }
}

/// The weights report as JSON: `run`, `value_name` and `rows`; with intervals also
/// `intervals` (resamples, level, seed) and per row `weight_low`, `weight_high` and
/// `interval_note` (null when stated).
pub fn weights_json(report: &WeightsReport) -> Value {
    let rows: Vec<Value> = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = json!({
                "channel": r.channel,
                report.value_name: r.value,
                "weight": r.weight,
                "conversions": r.conversions,
                "paths": r.paths,
            });
            if let (Some(interval), Some(fields)) =
                (weight_interval(report, i), row.as_object_mut())
            {
                fields.insert("weight_low".into(), json!(interval.low));
                fields.insert("weight_high".into(), json!(interval.high));
                let note = interval_note(interval.confidence);
                fields.insert(
                    "interval_note".into(),
                    if note.is_empty() {
                        Value::Null
                    } else {
                        json!(note)
                    },
                );
            }
            row
        })
        .collect();
    let mut out = json!({
        "run": run_json(&report.run),
        "value_name": report.value_name,
        "rows": rows,
    });
    if let (Some(intervals), Some(fields)) = (&report.intervals, out.as_object_mut()) {
        fields.insert("intervals".into(), settings_json(&intervals.settings));
    }
    out
}

/// Resamples, level and seed of a bootstrap, as JSON.
pub fn settings_json(settings: &BootstrapSettings) -> Value {
    json!({
        "method": "bootstrap over journeys (multinomial over distinct paths), percentile interval",
        "resamples": settings.resamples,
        "level": settings.level,
        "seed": settings.seed,
    })
}

/// One line saying how intervals were made: `90% intervals: 200 bootstrap resamples, seed 14`.
pub fn settings_line(settings: &BootstrapSettings) -> String {
    format!(
        "{}% intervals: {} bootstrap resamples over journeys, seed {}",
        settings.level * 100.0,
        settings.resamples,
        settings.seed
    )
}

/// The weights report as an aligned table under a line naming the run; with intervals, a line
/// saying how they were made, and an `interval` column — and a weight too uncertain to state is
/// shown as words, not as a number.
pub fn weights_table(report: &WeightsReport) -> String {
    let mut out = run_line(&report.run);
    out.push('\n');
    if let Some(intervals) = &report.intervals {
        out.push_str(&settings_line(&intervals.settings));
        out.push('\n');
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut cells = vec![
                r.channel.clone(),
                format!("{:.6}", r.value),
                format!("{:.6}", r.weight),
                r.conversions.to_string(),
                r.paths.to_string(),
            ];
            if let Some(interval) = weight_interval(report, i) {
                match interval.confidence {
                    Confidence::Stated => {
                        cells.push(format!("{:.6}–{:.6}", interval.low, interval.high))
                    }
                    Confidence::TooFew => {
                        cells[2] = Confidence::TOO_FEW_WORDS.to_owned();
                        cells.push("—".to_owned());
                    }
                }
            }
            cells
        })
        .collect();
    let mut header = vec![
        "channel",
        report.value_name,
        "weight",
        "conversions",
        "paths",
    ];
    if report.intervals.is_some() {
        header.push("interval");
    }
    out.push_str(&aligned(&header, &rows));
    out
}
