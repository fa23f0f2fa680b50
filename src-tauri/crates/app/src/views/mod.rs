//! The view jobs of the window and the CLI: turn a [`ViewSelection`] (from the window's wire
//! `ViewRequest` or the CLI's flags) into an attribution run (cached when the model, parameters
//! and data are unchanged), ask `lookback-report` for the view, and convert it to wire types
//! for the window; the CLI prints the same report types. No tauri here.
//!
//! - [`selection`]: the selection and its decisions (model, compared models, query).
//! - [`export`]: every CSV export, by [`ExportTable`].
//! - [`cohorts`]: the new-customer cohorts view (screen, CLI table and export).
//! - [`intervals`]: bootstrap intervals beside learned weights and a ROAS view's revenue.
//! - here: the model switch, the ROAS, CAC, compare, creator and reconciliation views, the
//!   charts, and the async jobs the window's commands call.
//!
//! The ROAS screen is two requests: the table (with its provenance) first, then its charts of
//! the run the table shows, so a model switch repaints the numbers without waiting for the
//! charts. The window's views keep the workspace's costs in a [`ViewCache`] between requests
//! (they do not depend on the model), so a switch between cached runs reads only the run's
//! credits.

pub mod cohorts;
pub mod export;
pub mod intervals;
pub mod selection;

use std::path::Path;

use anyhow::Result;
use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::TimeBucket;
use lookback_core::touch_filter::TouchFilter;
use lookback_report::{self as report, ExportOptions, Ratio, ViewCache, ViewQuery};
use lookback_store::{LoggedChange, Store};

pub use cohorts::{cohort_report, cohort_report_cached, cohorts};
pub use export::{CreatorTable, ExportRequest, ExportTable, export};
pub use selection::{
    ViewSelection, compare_runs, compared_models, model_of, parse_day, parse_model, parse_models,
};

use crate::error::{AppError, ErrorKind};
use crate::wire as ipc;
use crate::workspace::money;

/// Decimal places shown for ROAS and payback ratios.
const RATIO_PLACES: u32 = report::RATIO_PLACES;
/// How many keys the ROAS-over-time chart draws before the rest are left to the table.
const CHART_SERIES: usize = 6;

/// The eight models, with the label and meaning the model switch shows for each.
const MODELS: [(Model, &str, &str); 8] = [
    (
        Model::FirstTouch,
        "First touch",
        "All credit to the first touch in the journey.",
    ),
    (
        Model::LastTouch,
        "Last touch",
        "All credit to the touch right before the order.",
    ),
    (
        Model::LastNonDirect,
        "Last non-direct",
        "All credit to the last touch that was not a direct or organic visit.",
    ),
    (
        Model::Linear,
        "Linear",
        "Equal credit to every touch; a channel seen twice gets two shares.",
    ),
    (
        Model::TimeDecay,
        "Time decay",
        "More credit to touches closer to the order, halving every half-life.",
    ),
    (
        Model::PositionBased,
        "Position based",
        "First and last touches get the most (40/20/40 by default), the middle shares the rest.",
    ),
    (
        Model::Markov,
        "Data-driven (Markov)",
        "Channel weights from removal effects in a Markov chain learned from all journeys.",
    ),
    (
        Model::Shapley,
        "Data-driven (Shapley)",
        "Channel weights from Shapley values of channel sets' conversion rates.",
    ),
];

/// A model's name as people read it (the model switch's label).
pub fn model_label(model: Model) -> &'static str {
    MODELS
        .iter()
        .find(|(m, _, _)| *m == model)
        .map_or("", |(_, label, _)| label)
}

/// What produced a view, in words: the model and the parameters it uses, e.g. "Last touch ·
/// 30-day window", "Time decay · 30-day window · half-life 7 days", "Position based · 30-day
/// window · 40/20/40".
pub fn model_in_words(model: Model, params: &ModelParams) -> String {
    let mut words = format!(
        "{} · {}-day window",
        model_label(model),
        params.lookback_days
    );
    match model {
        Model::TimeDecay => words.push_str(&format!(" · half-life {} days", params.half_life_days)),
        Model::PositionBased => {
            let w = params.position_weights;
            words.push_str(&format!(" · {}/{}/{}", w.first, w.middle, w.last));
        }
        _ => {}
    }
    words
}

/// The eight models, with what each means, for the model switch.
pub fn model_catalog(store: &Store) -> Result<ipc::ModelCatalog> {
    let (model, params) = crate::attribution::workspace_model(store)?;
    Ok(ipc::ModelCatalog {
        models: MODELS
            .into_iter()
            .map(|(m, label, description)| ipc::ModelInfo {
                name: m.into(),
                label: label.to_string(),
                description: description.to_string(),
                data_driven: m.is_data_driven(),
            })
            .collect(),
        default: choice_of(model, &params),
        touches: params.touches.into(),
    })
}

/// The days a view without dates covers (the first and last day with an order or touch) and
/// the date presets counted back from today, all in the reporting zone (the zone the views
/// read days in). "Last 7 days" ends today and holds 7 days; "this month" runs from its 1st to
/// today; "last month" is the whole previous month; "all" sets no dates.
pub fn date_range(store: &Store, now_ms: i64) -> Result<ipc::DateRange> {
    use chrono::{Datelike, Days, Months};
    use lookback_core::time::{NaiveDate, day_in_zone, parse_time_zone};

    let zone = parse_time_zone(&store.reporting_timezone()?)?;
    let text = |day: NaiveDate| day.format("%Y-%m-%d").to_string();
    let (first, last) = store.activity_span_ms()?;
    let day_of = |at: Option<i64>| -> Result<Option<String>> {
        Ok(at.map(|at| day_in_zone(at, zone)).transpose()?.map(text))
    };
    let today = day_in_zone(now_ms, zone)?;
    let back = |days: u64| today - Days::new(days - 1);
    let month_start = today.with_day(1).expect("every month has a 1st");
    let last_month_start = month_start - Months::new(1);
    let last_month_end = month_start - Days::new(1);
    let preset = |id: &str, label: &str, range: Option<(NaiveDate, NaiveDate)>| ipc::DatePreset {
        id: id.to_owned(),
        label: label.to_owned(),
        from: range.map(|(from, _)| text(from)),
        to: range.map(|(_, to)| text(to)),
    };
    Ok(ipc::DateRange {
        first_day: day_of(first)?,
        last_day: day_of(last)?,
        today: text(today),
        presets: vec![
            preset("last-7", "Last 7 days", Some((back(7), today))),
            preset("last-30", "Last 30 days", Some((back(30), today))),
            preset("last-90", "Last 90 days", Some((back(90), today))),
            preset("this-month", "This month", Some((month_start, today))),
            preset(
                "last-month",
                "Last month",
                Some((last_month_start, last_month_end)),
            ),
            preset("all", "All time", None),
        ],
    })
}

fn choice_of(model: Model, params: &ModelParams) -> ipc::ModelChoice {
    let w = params.position_weights;
    ipc::ModelChoice {
        model: model.into(),
        window_days: params.lookback_days,
        half_life_days: params.half_life_days,
        position_weights: [w.first, w.middle, w.last],
    }
}

/// The model a request asks for: the chosen one (a preview) or the workspace's default, reading
/// the touches the request names, else the workspace's (as [`ViewSelection::params_of`]).
pub fn model_for(
    store: &Store,
    choice: Option<&ipc::ModelChoice>,
    touches: Option<ipc::Touches>,
) -> Result<(Model, ModelParams)> {
    let (current, current_params) = lookback_engine::current_model(store)?;
    let (model, params) = match choice {
        Some(choice) => model_of(choice)?,
        None => (current, current_params),
    };
    let touches = touches.map_or(current_params.touches, Into::into);
    Ok((model, ModelParams { touches, ..params }))
}

/// The run of a single-model view, computed or reused from the cache (see
/// [`selection::run_for`]). Never changes the workspace's model. The window computes new runs
/// beforehand on a connection of their own (`crate::runs`), so here it finds them cached.
pub use selection::run_for;

fn ratio(r: Option<&Ratio>) -> Option<String> {
    r.map(|r| r.to_decimal_string(RATIO_PLACES))
}

/// A comparison row's spread as a percentage with one decimal place (`12.5`), or `None` when
/// there is no spread ratio (nothing attributed). The window and the CLI show it alike.
pub fn spread_percent(spread_ratio: Option<&Ratio>) -> Option<String> {
    spread_ratio
        .and_then(|s| Ratio::new(s.numerator() * 100, s.denominator()))
        .map(|p| p.to_decimal_string(1))
}

/// Parts per billion as an exact decimal with 9 places (fractional conversions and customers):
/// the window rounds them for reading (ui/src/format.ts `formatConversions`).
fn ppb(value: i64) -> String {
    report::format_conversions(i128::from(value))
}

/// The data-health badge of one freshness line at `now_ms`: the trust crate's state for a
/// connected source, `imported` for data without one (a CSV import: no kind).
pub fn freshness_state(f: &report::SourceFreshnessLine, now_ms: i64) -> ipc::SourceState {
    if f.kind.is_empty() {
        return ipc::SourceState::Imported;
    }
    lookback_trust::health_state_at(
        f.last_attempt_at_ms,
        f.last_success_at_ms,
        f.last_error.is_some(),
        f.needs_reconnect_since_ms.is_some(),
        now_ms,
        lookback_trust::HealthPolicy::default(),
    )
    .into()
}

fn provenance(p: &report::Provenance, now_ms: i64) -> Result<ipc::Provenance> {
    let c = &p.reporting_currency;
    let model = ipc::ModelName::stored(&p.model)?;
    let touches = TouchFilter::of_run_parameters(&p.parameters).ok_or_else(|| {
        AppError::new(
            ErrorKind::Internal,
            format!(
                "run {} has unreadable parameters {:?}",
                p.run_id, p.parameters
            ),
        )
    })?;
    Ok(ipc::Provenance {
        run_id: p.run_id,
        model,
        in_words: model_in_words(model.into(), &ModelParams::parse_canonical(&p.parameters)?),
        parameters: p.parameters.clone(),
        run_finished_at_ms: p.run_finished_at_ms,
        reporting_currency: c.clone(),
        freshness: p
            .freshness
            .iter()
            .map(|f| {
                Ok(ipc::FreshnessLine {
                    name: f.name.clone(),
                    kind: f.kind.clone(),
                    last_success_at_ms: f.last_success_at_ms,
                    state: freshness_state(f, now_ms),
                })
            })
            .collect::<Result<_>>()?,
        deterministic: money(p.revenue_by_join_kind.deterministic_minor, c)?,
        identity_graph: money(p.revenue_by_join_kind.identity_graph_minor, c)?,
        probabilistic: money(p.revenue_by_join_kind.probabilistic_minor, c)?,
        unattributed_orders: i64::try_from(p.unattributed_orders).unwrap_or(i64::MAX),
        unattributed: money(p.unattributed_minor, c)?,
        missing_fx_orders: i64::try_from(p.missing_fx_orders).unwrap_or(i64::MAX),
        provisional: money(p.provisional_minor, c)?,
        basis: p.basis.into(),
        basis_shift: match &p.basis_shift {
            Some(shift) => Some(report::basis_shift_in_words(
                shift,
                lookback_core::money::Currency::parse(c)?,
            )),
            None => None,
        },
        touches: touches.into(),
        touches_in_words: touches.in_words().to_owned(),
    })
}

fn roas_row(r: &report::RoasRow, currency: &str) -> Result<ipc::RoasRow> {
    Ok(ipc::RoasRow {
        key: r.key.clone(),
        label: r.label.clone(),
        bucket: r.bucket.clone(),
        revenue: money(r.attributed_revenue_minor, currency)?,
        ad_spend: money(r.ad_spend_minor, currency)?,
        creator_cost: money(r.creator_cost_minor, currency)?,
        cost: money(r.cost_minor, currency)?,
        roas: ratio(r.roas.as_ref()),
        orders_credited: ppb(r.orders_credited_ppb),
        provisional: money(r.provisional_revenue_minor, currency)?,
    })
}

fn chart(c: report::Chart, title: &str) -> ipc::ChartSvg {
    ipc::ChartSvg {
        title: title.to_string(),
        svg: c.svg,
    }
}

/// The ROAS view of a selection (the screen, `lookback view roas` and both exports share it).
pub fn roas_report(
    store: &mut Store,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::RoasView> {
    roas_report_cached(store, &mut ViewCache::new(), sel, now_ms)
}

/// [`roas_report`] with the costs kept in `cache` between views (the window's session).
pub fn roas_report_cached(
    store: &mut Store,
    cache: &mut ViewCache,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::RoasView> {
    let run_id = run_for(store, sel, now_ms)?;
    Ok(report::roas_view_cached(store, &sel.query(run_id), cache)?)
}

/// The CAC view of a selection (the screen, `lookback view cac` and both exports share it).
pub fn cac_report(store: &mut Store, sel: &ViewSelection, now_ms: i64) -> Result<report::CacView> {
    let run_id = run_for(store, sel, now_ms)?;
    Ok(report::cac_view(store, &sel.query(run_id), now_ms)?)
}

/// The ROAS view bucketed for ROAS over time: `view` itself when it has buckets, otherwise the
/// same query by week.
fn over_time(store: &Store, view: &report::RoasView) -> Result<report::RoasView> {
    let query = view.query;
    Ok(match query.bucket {
        Some(_) => view.clone(),
        None => report::roas_view(store, &over_time_query(query))?,
    })
}

/// The query of ROAS over time: `query` when it has buckets, otherwise the same query by week.
fn over_time_query(query: ViewQuery) -> ViewQuery {
    ViewQuery {
        bucket: query.bucket.or(Some(TimeBucket::Week)),
        ..query
    }
}

/// The charts on offer: ROAS over time, cost vs revenue, and the model comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChartKind {
    /// ROAS over time per key (bucketed; by week unless the selection says otherwise).
    Roas,
    /// Revenue and cost per key, as bars.
    CostRevenue,
    /// Each compared model's revenue per key, as grouped bars.
    Compare,
}

/// One chart of a selection, drawing at most `top` keys' lines (ROAS over time). The ROAS
/// screen and `lookback chart` draw through here.
pub fn chart_of(
    store: &mut Store,
    kind: ChartKind,
    sel: &ViewSelection,
    top: usize,
    now_ms: i64,
) -> Result<report::Chart> {
    Ok(match kind {
        ChartKind::Roas => {
            let view = roas_report(store, sel, now_ms)?;
            report::roas_chart_svg(&over_time(store, &view)?, top)?
        }
        ChartKind::CostRevenue => {
            report::cost_vs_revenue_chart_svg(&roas_report(store, sel, now_ms)?)?
        }
        ChartKind::Compare => report::compare_chart_svg(&compare_report(store, sel, now_ms)?)?,
    })
}

/// The ROAS screen's table: its rows, totals and provenance (the charts come after, from
/// [`roas_charts`]), with the costs kept in `cache` between requests.
pub fn roas(
    store: &mut Store,
    cache: &mut ViewCache,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<ipc::RoasView> {
    let view = roas_report_cached(store, cache, &ViewSelection::from_request(request)?, now_ms)?;
    Ok(ipc::RoasView {
        rows: view
            .rows
            .iter()
            .map(|r| roas_row(r, &view.currency))
            .collect::<Result<_>>()?,
        totals: roas_row(&view.totals, &view.currency)?,
        provenance: provenance(&view.provenance, now_ms)?,
    })
}

/// The ROAS screen's charts of run `run_id` — the run its table shows, so the charts are of the
/// same numbers even if a newer run appeared in between: ROAS over time and cost vs revenue.
/// Both are drawn from the one bucketed view of ROAS over time: summed per key, its buckets are
/// the table's rows, so the bars are the table's revenue and cost.
pub fn roas_charts(
    store: &Store,
    cache: &mut ViewCache,
    request: &ipc::ViewRequest,
    run_id: i64,
) -> Result<Vec<ipc::ChartSvg>> {
    let sel = ViewSelection::from_request(request)?;
    let over_time = report::roas_view_cached(store, &over_time_query(sel.query(run_id)), cache)?;
    Ok(vec![
        chart(
            report::roas_chart_svg(&over_time, CHART_SERIES)?,
            "ROAS over time",
        ),
        chart(
            report::cost_vs_revenue_chart_svg(&over_time)?,
            "Cost vs attributed revenue",
        ),
    ])
}

fn cac_row(r: &report::CacRow, currency: &str) -> Result<ipc::CacRow> {
    Ok(ipc::CacRow {
        key: r.key.clone(),
        label: r.label.clone(),
        cost: money(r.cost_minor, currency)?,
        new_customers: ppb(r.new_customers_ppb),
        cac: r.cac_minor.map(|m| money(m, currency)).transpose()?,
        payback_30: ratio(r.payback_30.as_ref()),
        payback_60: ratio(r.payback_60.as_ref()),
        payback_90: ratio(r.payback_90.as_ref()),
        payback_customers: r.payback_customers_ppb.iter().map(|c| ppb(*c)).collect(),
    })
}

/// The CAC screen.
pub fn cac(store: &mut Store, request: &ipc::ViewRequest, now_ms: i64) -> Result<ipc::CacView> {
    let view = cac_report(store, &ViewSelection::from_request(request)?, now_ms)?;
    Ok(ipc::CacView {
        rows: view
            .rows
            .iter()
            .map(|r| cac_row(r, &view.currency))
            .collect::<Result<_>>()?,
        totals: cac_row(&view.totals, &view.currency)?,
        provenance: provenance(&view.provenance, now_ms)?,
    })
}

/// The window's selection of a comparison: the request and the models named beside it.
fn compare_selection(
    request: &ipc::ViewRequest,
    models: &[ipc::ModelName],
) -> Result<ViewSelection> {
    Ok(ViewSelection {
        models: models.iter().map(|&m| Model::from(m)).collect(),
        ..ViewSelection::from_request(request)?
    })
}

/// The model choices a comparison runs (see [`compared_models`]): the named models, or the
/// default pair when fewer than two are named, each with the request's parameters (window,
/// half-life, weights), or the workspace's when the request has none.
pub fn compare_choices(
    store: &Store,
    request: &ipc::ViewRequest,
    models: &[ipc::ModelName],
) -> Result<Vec<ipc::ModelChoice>> {
    let (models, params) = compared_models(store, &compare_selection(request, models)?)?;
    Ok(models.into_iter().map(|m| choice_of(m, &params)).collect())
}

/// The comparison of a selection (the screen, `lookback view compare`, the chart and both
/// exports share it).
pub fn compare_report(
    store: &mut Store,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::CompareView> {
    let runs = compare_runs(store, sel, now_ms)?;
    Ok(report::compare_view(
        store,
        sel.by,
        &runs,
        sel.from,
        sel.to,
        sel.settled_only,
        sel.basis,
    )?)
}

/// The compare screen: one column per model, the spread between them, and grouped bars.
pub fn compare(
    store: &mut Store,
    request: &ipc::ViewRequest,
    models: &[ipc::ModelName],
    now_ms: i64,
) -> Result<ipc::CompareView> {
    let view = compare_report(store, &compare_selection(request, models)?, now_ms)?;
    let c = &view.currency;
    let rows = view
        .rows
        .iter()
        .map(|r| {
            Ok(ipc::CompareRow {
                key: r.key.clone(),
                label: r.label.clone(),
                revenue: r
                    .revenue_minor
                    .iter()
                    .map(|m| money(*m, c))
                    .collect::<Result<_>>()?,
                spread: money(r.spread_minor, c)?,
                spread_percent: spread_percent(r.spread_ratio.as_ref()),
            })
        })
        .collect::<Result<_>>()?;
    Ok(ipc::CompareView {
        models: view
            .models
            .iter()
            .map(|p| provenance(p, now_ms))
            .collect::<Result<_>>()?,
        rows,
        charts: vec![chart(
            report::compare_chart_svg(&view)?,
            "Attributed revenue by model",
        )],
    })
}

/// Creators to pick on the creator screen, by name.
pub fn creator_list(store: &Store) -> Result<Vec<ipc::CreatorListItem>> {
    let mut creators: Vec<ipc::CreatorListItem> = store
        .creators()?
        .into_iter()
        .map(|c| ipc::CreatorListItem {
            creator_id: c.creator_id,
            display_name: c.display_name,
        })
        .collect();
    creators.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
    });
    Ok(creators)
}

/// The revenue of the selection's creator (the screen, `lookback view creator` and both
/// exports share it).
pub fn creator_report(
    store: &mut Store,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::CreatorRevenueView> {
    let creator_id = sel.creator_id()?.to_owned();
    let run_id = run_for(store, sel, now_ms)?;
    Ok(report::creator_revenue_view(
        store,
        run_id,
        &creator_id,
        sel.from,
        sel.to,
        sel.basis,
    )?)
}

/// The window's selection of one creator's view.
fn creator_selection(request: &ipc::ViewRequest, creator_id: &str) -> Result<ViewSelection> {
    Ok(ViewSelection {
        creator: Some(creator_id.to_owned()),
        ..ViewSelection::from_request(request)?
    })
}

/// One creator's revenue: content, orders, gross vs net, settled vs provisional, by day.
pub fn creator_revenue(
    store: &mut Store,
    request: &ipc::ViewRequest,
    creator_id: &str,
    now_ms: i64,
) -> Result<ipc::CreatorRevenueView> {
    let v = creator_report(store, &creator_selection(request, creator_id)?, now_ms)?;
    let c = &v.currency;
    Ok(ipc::CreatorRevenueView {
        creator_id: v.creator_id.clone(),
        display_name: v.display_name.clone(),
        gross: money(v.gross_minor, c)?,
        refunds: money(v.refunds_minor, c)?,
        net: money(v.net_minor, c)?,
        settled: money(v.settled_minor, c)?,
        provisional: money(v.provisional_minor, c)?,
        content: v
            .content
            .iter()
            .map(|l| {
                Ok(ipc::CreatorContentRow {
                    content_id: l.content_id.clone(),
                    title: l.title.clone(),
                    kind: l.kind.clone(),
                    url: l.url.clone(),
                    revenue: money(l.attributed_revenue_minor, c)?,
                    orders_credited: ppb(l.orders_credited_ppb),
                })
            })
            .collect::<Result<_>>()?,
        orders: v
            .orders
            .iter()
            .map(|o| {
                Ok(ipc::CreatorOrderRow {
                    order_id: o.order_id.clone(),
                    occurred_at_ms: o.occurred_at_ms,
                    share_percent: Ratio::new(i128::from(o.share_ppb) * 100, 1_000_000_000)
                        .map(|r| r.to_decimal_string(2))
                        .unwrap_or_default(),
                    credited: money(o.credited_revenue_minor, c)?,
                    provisional: o.provisional,
                })
            })
            .collect::<Result<_>>()?,
        by_day: v
            .by_day
            .iter()
            .map(|d| {
                Ok(ipc::CreatorDay {
                    day: d.day.to_string(),
                    revenue: money(d.revenue_minor, c)?,
                })
            })
            .collect::<Result<_>>()?,
        provenance: provenance(&v.provenance, now_ms)?,
    })
}

/// Every change of the workspace's model and of its traffic rules, newest first.
pub fn model_log(store: &Store) -> Result<Vec<ipc::ModelChangeEntry>> {
    crate::attribution::change_log(store)?
        .into_iter()
        .map(|change| match change {
            LoggedChange::Model(c) => Ok(ipc::ModelChangeEntry {
                kind: ipc::ChangeKind::Model,
                changed_at_ms: c.changed_at_ms,
                changed_by: c.changed_by,
                from_model: c
                    .from_model
                    .as_deref()
                    .map(ipc::ModelName::stored)
                    .transpose()?,
                to_model: Some(ipc::ModelName::stored(&c.to_model)?),
                after_in_words: match (
                    Model::parse(&c.to_model),
                    ModelParams::parse_canonical(&c.parameters_after),
                ) {
                    // The touch filter only when it is not the default, which most never change.
                    (Ok(model), Ok(params)) if params.touches != TouchFilter::default() => {
                        format!(
                            "{} · {}",
                            model_in_words(model, &params),
                            params.touches.in_words()
                        )
                    }
                    (Ok(model), Ok(params)) => model_in_words(model, &params),
                    _ => format!("{} {}", c.to_model, c.parameters_after),
                },
                parameters_before: c.parameters_before,
                parameters_after: Some(c.parameters_after),
                from_rules_version: None,
                to_rules_version: None,
                reason: c.reason,
            }),
            LoggedChange::TrafficRules(c) => Ok(ipc::ModelChangeEntry {
                kind: ipc::ChangeKind::TrafficRules,
                changed_at_ms: c.changed_at_ms,
                after_in_words: c.in_words(),
                changed_by: c.changed_by,
                from_model: None,
                to_model: None,
                parameters_before: None,
                parameters_after: None,
                from_rules_version: Some(c.from_version),
                to_rules_version: Some(c.to_version),
                reason: c.reason,
            }),
        })
        .collect()
}

/// Makes `choice` the workspace's model, appending to the model log. A reason is required.
pub fn set_default_model(
    store: &mut Store,
    choice: &ipc::ModelChoice,
    reason: &str,
    now_ms: i64,
) -> Result<ipc::ModelCatalog> {
    // The window's choice carries no touch filter: the workspace keeps its own.
    let (model, params) = model_for(store, Some(choice), None)?;
    crate::models::change_model(store, model, &params, None, reason, now_ms)?;
    model_catalog(store)
}

/// Which table of a screen an export writes, beyond the view request: the compared models, the
/// creator, the source whose dead letters are listed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportTarget<'a> {
    pub models: Option<&'a [ipc::ModelName]>,
    pub creator_id: Option<&'a str>,
    pub source_id: Option<&'a str>,
}

/// The export a screen's Export CSV button asks for: the table `view` of the request, with the window's options
/// (no identity columns, no preamble, a sidecar). The creator screen's `creator` table is its
/// orders (`lookback export creator --table orders`); `creator-content` is its content.
pub fn window_export(
    table: ExportTable,
    request: &ipc::ViewRequest,
    path: &Path,
    target: ExportTarget<'_>,
) -> Result<ExportRequest> {
    Ok(ExportRequest {
        table,
        selection: ViewSelection {
            models: target
                .models
                .unwrap_or_default()
                .iter()
                .map(|&m| Model::from(m))
                .collect(),
            creator: target.creator_id.map(str::to_owned),
            ..ViewSelection::from_request(request)?
        },
        creator_table: CreatorTable::Orders,
        source: target.source_id.map(str::to_owned),
        options: ExportOptions::default(),
        path: path.to_path_buf(),
    })
}

/// Writes the CSV of what a screen's table shows (and its `.json` sidecar) to `path`, through
/// the same [`export`] as `lookback export <table>`.
pub fn export_csv(
    store: &mut Store,
    table: ExportTable,
    request: &ipc::ViewRequest,
    path: &Path,
    target: ExportTarget<'_>,
    now_ms: i64,
) -> Result<ipc::ExportResult> {
    let summary = export(store, &window_export(table, request, path, target)?, now_ms)?;
    Ok(ipc::ExportResult {
        path: summary.path.display().to_string(),
        rows: i64::try_from(summary.rows).unwrap_or(i64::MAX),
    })
}

/// The channel weights the data-driven `model` learned on the workspace's parameters, through
/// the same [`crate::attribution::weights`] as `lookback report weights --model M`.
pub fn weights_report(
    store: &mut Store,
    model: ipc::ModelName,
    now_ms: i64,
) -> Result<report::WeightsReport> {
    crate::attribution::weights(
        store,
        Model::from(model),
        &crate::attribution::ParamOverrides::default(),
        now_ms,
    )
}

/// The Compare models screen's table of learned weights.
pub fn weights_view(
    store: &mut Store,
    model: ipc::ModelName,
    now_ms: i64,
) -> Result<ipc::WeightsView> {
    let r = weights_report(store, model, now_ms)?;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(ipc::WeightsView {
        model,
        run_id: r.run.run_id,
        value_name: r.value_name.to_owned(),
        rows: r
            .rows
            .iter()
            .map(|w| ipc::WeightRowView {
                channel: w.channel.clone(),
                value: w.value,
                weight: w.weight,
                conversions: n(w.conversions),
                paths: n(w.paths),
            })
            .collect(),
    })
}

/// Writes the learned weights as the CSV `lookback report weights --model M --format csv`
/// prints (the same [`report::render::weights_csv`]), whole or not at all.
pub fn export_weights_csv(
    store: &mut Store,
    model: ipc::ModelName,
    path: &Path,
    now_ms: i64,
) -> Result<ipc::ExportResult> {
    let r = weights_report(store, model, now_ms)?;
    write_whole(path, &report::render::weights_csv(&r))?;
    Ok(ipc::ExportResult {
        path: path.display().to_string(),
        rows: i64::try_from(r.rows.len()).unwrap_or(i64::MAX),
    })
}

/// The credits per order of a view request's model and days, through the same
/// [`crate::attribution::credits`] as `lookback report credits --by order` (a chosen model is
/// previewed with its parameters, as `--model M --window-days …` would).
pub fn order_credits_report(
    store: &mut Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<report::CreditsReport> {
    let (model, overrides) = match &request.model {
        Some(choice) => (
            Some(Model::from(choice.model)),
            crate::attribution::ParamOverrides {
                window_days: Some(choice.window_days),
                half_life_days: Some(choice.half_life_days),
                position_weights: Some(choice.position_weights.map(|w| w.to_string()).join(",")),
                touches: request.touches.map(Into::into),
            },
        ),
        None => (
            None,
            crate::attribution::ParamOverrides {
                touches: request.touches.map(Into::into),
                ..crate::attribution::ParamOverrides::default()
            },
        ),
    };
    let credits = crate::attribution::CreditsRequest {
        by: report::CreditKey::Order,
        model,
        overrides,
        from: request.from.as_deref(),
        to: request.to.as_deref(),
        settled_only: request.settled_only,
        basis: request.basis.unwrap_or_default().into(),
    };
    crate::attribution::credits(store, &credits, now_ms)
}

/// The ROAS screen's "Orders credited": each order's credit in the selection's run.
pub fn order_credits(
    store: &mut Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<ipc::OrderCreditsView> {
    let r = order_credits_report(store, request, now_ms)?;
    let currency = r.run.reporting_currency.code();
    Ok(ipc::OrderCreditsView {
        run_id: r.run.run_id,
        model: r.run.model.clone(),
        rows: r
            .rows
            .iter()
            .map(|row| {
                Ok(ipc::OrderCreditRow {
                    order_id: row.key.clone(),
                    conversions: report::format_conversions(row.conversions_ppb),
                    revenue: money(row.revenue_minor, currency)?,
                })
            })
            .collect::<Result<_>>()?,
        total: money(r.total_revenue_minor, currency)?,
    })
}

/// Writes `text` to `path` whole or not at all (a `.partial` file renamed into place).
fn write_whole(path: &Path, text: &str) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::write(&partial, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Writes the orders credited as the CSV `lookback report credits --by order --format csv`
/// prints (the same [`report::render::credits_csv`]).
pub fn export_order_credits_csv(
    store: &mut Store,
    request: &ipc::ViewRequest,
    path: &Path,
    now_ms: i64,
) -> Result<ipc::ExportResult> {
    let r = order_credits_report(store, request, now_ms)?;
    write_whole(path, &report::render::credits_csv(&r))?;
    Ok(ipc::ExportResult {
        path: path.display().to_string(),
        rows: i64::try_from(r.rows.len()).unwrap_or(i64::MAX),
    })
}

/// Writes a chart's SVG as a screen shows it (Rust drew it: the same drawing as `lookback
/// chart --out`) to `path`, whole or not at all; answers the path. Only an SVG document is
/// written.
pub fn save_chart_svg(svg: &str, path: &Path) -> Result<String> {
    if !svg.trim_start().starts_with("<svg") {
        return Err(crate::AppError::invalid("svg", "not an SVG document").into());
    }
    write_whole(path, svg)?;
    Ok(path.display().to_string())
}

/// What each gap cause means, in the words the Reconciliation screen uses.
fn gap_label(cause: lookback_trust::GapCause) -> &'static str {
    use lookback_trust::GapCause as C;
    match cause {
        C::NotInRun => "Orders newer than the last attribution run",
        C::MissingFx => "Currency without an exchange rate for the order's day",
        C::IdentityUnresolved => "Buyer could not be tied to any touch",
        C::NoTouchInWindow => "No touch within the lookback window",
        C::UnknownCreatorOrCampaign => "Touches naming an unknown creator or campaign",
        C::RefundNotSynced => "Refunds whose order has not been synced",
    }
}

/// How many orders each gap cause of a reconciliation lists.
pub const RECONCILE_TOP: usize = 5;

/// The reconciliation of a selection (the screen, both exports and `lookback reconcile` share
/// it): its dates, by default the 30 days ending on the last day with data, naming `top`
/// orders per gap cause (default [`RECONCILE_TOP`]).
pub fn reconcile_report(
    store: &Store,
    sel: &ViewSelection,
    top: Option<usize>,
    now_ms: i64,
) -> Result<lookback_trust::Reconciliation> {
    let options = lookback_trust::ReconcileOptions::days_or_default(
        store,
        sel.from,
        sel.to,
        top.unwrap_or(RECONCILE_TOP),
        now_ms,
    )?;
    Ok(lookback_trust::reconcile(store, &options)?)
}

/// The Reconciliation screen for the request's dates (default: the last 30 days of data).
pub fn reconcile(
    store: &Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<ipc::ReconcileView> {
    let r = reconcile_report(store, &ViewSelection::from_request(request)?, None, now_ms)?;
    let rc = &r.reporting_currency;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(ipc::ReconcileView {
        from_day: r.from_day.clone(),
        to_day: r.to_day.clone(),
        model: ipc::ModelName::stored(&r.model)?,
        run_id: r.run.as_ref().map(|run| run.run_id),
        run_is_current: r.run_is_current,
        rows: r
            .rows
            .iter()
            .map(|row| {
                Ok(ipc::ReconcileRow {
                    source: row.source.clone(),
                    day: row.day.clone(),
                    orders: n(row.orders),
                    gross: money(row.gross_minor, &row.currency)?,
                    net: money(row.net_minor, &row.currency)?,
                    known_to_attribution: money(row.known_to_attribution_minor, rc)?,
                    attributed: money(row.attributed_minor, rc)?,
                    unattributed: money(row.unattributed_minor, rc)?,
                })
            })
            .collect::<Result<_>>()?,
        gaps: r
            .gaps
            .iter()
            .map(|g| {
                Ok(ipc::GapCause {
                    cause: g.cause.into(),
                    label: gap_label(g.cause).to_string(),
                    orders: n(g.orders),
                    amounts: g
                        .amounts
                        .iter()
                        .map(|(c, m)| money(*m, c))
                        .collect::<Result<_>>()?,
                    top: g
                        .top
                        .iter()
                        .map(|t| {
                            Ok(ipc::GapOrder {
                                order_id: t.order_id.clone(),
                                source: t.source.clone(),
                                day: t.day.clone(),
                                amount: money(t.amount_minor, &t.currency)?,
                            })
                        })
                        .collect::<Result<_>>()?,
                })
            })
            .collect::<Result<_>>()?,
        conservation_violations: r
            .conservation
            .as_ref()
            .map(|c| n(c.violations.len() as u64)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Save SVG writes the chart's text as drawn, and nothing that is not an SVG document.
    #[test]
    fn a_chart_is_saved_as_drawn_and_nothing_else_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>ROAS</text></svg>\n";
        assert_eq!(
            save_chart_svg(svg, &path).unwrap(),
            path.display().to_string()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), svg);
        let other = dir.path().join("other.svg");
        let err = crate::AppError::from(save_chart_svg("<script>x</script>", &other).unwrap_err());
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput, "{}", err.message);
        assert!(!other.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// The presets count back from today in the reporting zone, and a view without dates covers
    /// the days of the first and last activity in that zone.
    #[test]
    fn date_presets_are_days_of_the_reporting_zone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        store.set_reporting_timezone("America/New_York").unwrap();
        store
            .write(|tx| {
                // 2026-01-15T02:00Z is the evening of Jan 14 in New York.
                tx.insert_order(&lookback_store::Order {
                    order_id: "o1".into(),
                    source: "shop".into(),
                    occurred_at_ms: 1_768_442_400_000,
                    gross_minor: 100,
                    currency: "USD".into(),
                    status: "paid".into(),
                    click_id: None,
                    identity: lookback_store::IdentityKeys::default(),
                    raw_event_id: None,
                })
                .map(|_| ())
            })
            .unwrap();
        // 2026-03-01T03:00Z is Feb 28, 22:00 in New York.
        let range = date_range(&store, 1_772_334_000_000).unwrap();
        assert_eq!(range.today, "2026-02-28");
        assert_eq!(
            (range.first_day.as_deref(), range.last_day.as_deref()),
            (Some("2026-01-14"), Some("2026-01-14"))
        );
        let presets: Vec<(&str, Option<&str>, Option<&str>)> = range
            .presets
            .iter()
            .map(|p| (p.id.as_str(), p.from.as_deref(), p.to.as_deref()))
            .collect();
        assert_eq!(
            presets,
            vec![
                ("last-7", Some("2026-02-22"), Some("2026-02-28")),
                ("last-30", Some("2026-01-30"), Some("2026-02-28")),
                ("last-90", Some("2025-12-01"), Some("2026-02-28")),
                ("this-month", Some("2026-02-01"), Some("2026-02-28")),
                ("last-month", Some("2026-01-01"), Some("2026-01-31")),
                ("all", None, None),
            ]
        );
    }

    /// The provenance line says what produced a view in words, with only the parameters that
    /// model uses.
    #[test]
    fn a_model_and_its_parameters_read_as_words() {
        let params = ModelParams::parse_canonical(
            r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40]}"#,
        )
        .unwrap();
        assert_eq!(
            model_in_words(Model::LastTouch, &params),
            "Last touch · 30-day window"
        );
        assert_eq!(
            model_in_words(Model::TimeDecay, &params),
            "Time decay · 30-day window · half-life 7 days"
        );
        assert_eq!(
            model_in_words(Model::PositionBased, &params),
            "Position based · 30-day window · 40/20/40"
        );
        assert_eq!(
            model_in_words(Model::Markov, &params),
            "Data-driven (Markov) · 30-day window"
        );
        for (model, label, _) in MODELS {
            assert!(!label.is_empty() && model_label(model) == label);
        }
    }

    /// A change of the touch filter reads in the model log, and the window's Make default keeps
    /// the workspace's filter (its model choice carries none).
    #[test]
    fn the_model_log_names_a_touch_filter_that_is_not_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        let human = ModelParams {
            touches: TouchFilter::Human,
            ..ModelParams::default()
        };
        crate::models::change_model(&mut store, Model::Linear, &human, None, "people only", 1)
            .unwrap();
        let choice = choice_of(Model::LastTouch, &ModelParams::default());
        let catalog = set_default_model(&mut store, &choice, "back to last touch", 2).unwrap();
        assert_eq!(catalog.touches, ipc::Touches::Human);
        let log = model_log(&store).unwrap();
        let words: Vec<&str> = log.iter().map(|c| c.after_in_words.as_str()).collect();
        assert_eq!(
            words,
            [
                "Last touch · 30-day window · only human touches",
                "Linear · 30-day window · only human touches"
            ]
        );
    }
}
