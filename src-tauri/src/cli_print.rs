//! What the CLI's view commands print in a terminal besides CSV and JSON: aligned text tables
//! and the one provenance line (run, model, parameters, basis, currency, freshness) every view
//! prints under its table. Shared by `cli_views`, `cli_cohorts` and `cli_traffic`.

use lookback_app::wire::SourceState;
use lookback_core::money::Currency;
use lookback_core::touch_filter::TouchFilter;
use lookback_report::Provenance;

/// An aligned table: the first column left-aligned, the others right-aligned.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if i == 0 {
                out.push_str(&format!("{cell}{pad}"));
            } else {
                out.push_str(&format!("  {pad}{cell}"));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

pub(crate) fn provenance_line(p: &Provenance, now: i64) -> String {
    let fresh: Vec<String> = p
        .freshness
        .iter()
        .map(|s| {
            // "Meta: synced 4 min ago", as DESIGN.md §5 puts it.
            let when = match s.last_success_at_ms {
                Some(at) => {
                    let minutes = (now - at).max(0) / 60_000;
                    match minutes {
                        0 => "just now".to_owned(),
                        m if m < 120 => format!("{m} min ago"),
                        m if m < 48 * 60 => format!("{} h ago", m / 60),
                        m => format!("{} days ago", m / (24 * 60)),
                    }
                }
                None => "never".to_owned(),
            };
            // The data-health state when it is not simply ok (the window's badge).
            match lookback_app::views::freshness_state(s, now) {
                SourceState::Ok | SourceState::Imported => format!("{}: synced {when}", s.name),
                state => format!("{}: synced {when} ({})", s.name, state.as_str()),
            }
        })
        .collect();
    let shift = match (&p.basis_shift, Currency::parse(&p.reporting_currency)) {
        (Some(shift), Ok(currency)) => {
            format!(
                " · {}",
                lookback_report::basis_shift_in_words(shift, currency)
            )
        }
        _ => String::new(),
    };
    // Which touches the run read, in words ("bot touches excluded").
    let touches = TouchFilter::of_run_parameters(&p.parameters)
        .map(|filter| format!(" · {}", filter.in_words()))
        .unwrap_or_default();
    format!(
        "run {} · model {} · parameters {} · basis {}{touches} · currency {} · unattributed {} orders · missing fx {} orders{}{shift}{}",
        p.run_id,
        p.model,
        p.parameters,
        p.basis,
        p.reporting_currency,
        p.unattributed_orders,
        p.missing_fx_orders,
        if p.missing_fx_costs.is_empty() {
            String::new()
        } else {
            format!(
                " and {} cost rows",
                p.missing_fx_costs.iter().map(|m| m.rows).sum::<u64>()
            )
        },
        if fresh.is_empty() {
            String::new()
        } else {
            format!(" · {}", fresh.join(", "))
        },
    )
}
