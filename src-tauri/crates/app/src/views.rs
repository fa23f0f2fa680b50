//! The view jobs behind the window's screens: turn a wire `ViewRequest` into an attribution run
//! (cached when the model, parameters and data are unchanged), ask `lookback-report` for the
//! view, and convert it to wire types. No tauri here, so tests and the CLI can call it too.

use std::path::Path;

use anyhow::{Context, Result, bail};
use lookback_core::attribution::{Model, ModelParams, PositionWeights};
use lookback_core::time::{NaiveDate, TimeBucket};
use lookback_report::{self as report, ExportOptions, Ratio, ViewKey, ViewQuery};
use lookback_store::Store;

use crate::wire as ipc;
use crate::workspace::money;

/// Decimal places shown for ROAS and payback ratios.
const RATIO_PLACES: u32 = 2;
/// How many keys the ROAS-over-time chart draws before the rest are left to the table.
const CHART_SERIES: usize = 6;

/// The eight models, with what each means, for the model switch.
pub fn model_catalog(store: &Store) -> Result<ipc::ModelCatalog> {
    let models = [
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
    let (model, params) = lookback_engine::current_model(store)?;
    Ok(ipc::ModelCatalog {
        models: models
            .into_iter()
            .map(|(m, label, description)| ipc::ModelInfo {
                name: m.as_str().to_string(),
                label: label.to_string(),
                description: description.to_string(),
                data_driven: m.is_data_driven(),
            })
            .collect(),
        default: choice_of(model, &params),
    })
}

fn choice_of(model: Model, params: &ModelParams) -> ipc::ModelChoice {
    let w = params.position_weights;
    ipc::ModelChoice {
        model: model.as_str().to_string(),
        window_days: params.lookback_days,
        half_life_days: params.half_life_days,
        position_weights: [w.first, w.middle, w.last],
    }
}

fn model_of(choice: &ipc::ModelChoice) -> Result<(Model, ModelParams)> {
    let model = Model::parse(&choice.model)?;
    let [first, middle, last] = choice.position_weights;
    let params = ModelParams {
        lookback_days: choice.window_days,
        half_life_days: choice.half_life_days,
        position_weights: PositionWeights {
            first,
            middle,
            last,
        },
    };
    params.validate()?;
    Ok((model, params))
}

/// The model a request asks for: the chosen one (a preview) or the workspace's default.
pub fn model_for(store: &Store, choice: Option<&ipc::ModelChoice>) -> Result<(Model, ModelParams)> {
    Ok(match choice {
        Some(choice) => model_of(choice)?,
        None => lookback_engine::current_model(store)?,
    })
}

/// The run for a request (see [`model_for`]), computed or reused from the cache. Never changes
/// the workspace's model. The window computes new runs beforehand on a connection of their own
/// (`crate::runs`), so here it finds them cached.
pub fn run_for(store: &mut Store, choice: Option<&ipc::ModelChoice>, now_ms: i64) -> Result<i64> {
    let (model, params) = model_for(store, choice)?;
    Ok(lookback_engine::run_model(store, model, &params, now_ms)?.run_id)
}

fn parse_day(text: Option<&str>, field: &str) -> Result<Option<NaiveDate>> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .with_context(|| format!("{field} {t:?} is not a date of the form YYYY-MM-DD"))
        })
        .transpose()
}

fn query_for(request: &ipc::ViewRequest, run_id: i64) -> Result<ViewQuery> {
    let bucket = match request.bucket.as_deref() {
        None | Some("") => None,
        Some(b) => Some(TimeBucket::parse(b)?),
    };
    Ok(ViewQuery {
        run_id,
        by: ViewKey::parse(&request.by)?,
        from: parse_day(request.from.as_deref(), "from")?,
        to: parse_day(request.to.as_deref(), "to")?,
        bucket,
        settled_only: request.settled_only,
    })
}

fn ratio(r: Option<&Ratio>) -> Option<String> {
    r.map(|r| r.to_decimal_string(RATIO_PLACES))
}

/// Parts per billion as a decimal with 4 places (fractional conversions and customers).
fn ppb(value: i64) -> String {
    report::format_conversions(i128::from(value))
}

/// The data-health badge of one freshness line at `now_ms`: the trust crate's state for a
/// connected source, `imported` for data without one (a CSV import: no kind).
pub fn freshness_state(f: &report::SourceFreshnessLine, now_ms: i64) -> &'static str {
    if f.kind.is_empty() {
        return "imported";
    }
    lookback_trust::health_state_at(
        f.last_attempt_at_ms,
        f.last_success_at_ms,
        f.last_error.is_some(),
        f.needs_reconnect_since_ms.is_some(),
        now_ms,
        lookback_trust::HealthPolicy::default(),
    )
    .as_str()
}

fn provenance(p: &report::Provenance, now_ms: i64) -> Result<ipc::Provenance> {
    let c = &p.reporting_currency;
    Ok(ipc::Provenance {
        run_id: p.run_id,
        model: p.model.clone(),
        parameters: p.parameters.clone(),
        run_finished_at_ms: p.run_finished_at_ms,
        reporting_currency: c.clone(),
        freshness: p
            .freshness
            .iter()
            .map(|f| ipc::FreshnessLine {
                name: f.name.clone(),
                kind: f.kind.clone(),
                last_success_at_ms: f.last_success_at_ms,
                state: freshness_state(f, now_ms).to_owned(),
            })
            .collect(),
        deterministic: money(p.revenue_by_join_kind.deterministic_minor, c)?,
        identity_graph: money(p.revenue_by_join_kind.identity_graph_minor, c)?,
        probabilistic: money(p.revenue_by_join_kind.probabilistic_minor, c)?,
        unattributed_orders: i64::try_from(p.unattributed_orders).unwrap_or(i64::MAX),
        unattributed: money(p.unattributed_minor, c)?,
        missing_fx_orders: i64::try_from(p.missing_fx_orders).unwrap_or(i64::MAX),
        provisional: money(p.provisional_minor, c)?,
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

/// The ROAS view a request asks for (the screen and its CSV export share it).
fn roas_report(
    store: &mut Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<report::RoasView> {
    let run_id = run_for(store, request.model.as_ref(), now_ms)?;
    Ok(report::roas_view(store, &query_for(request, run_id)?)?)
}

/// The CAC view a request asks for (the screen and its CSV export share it).
fn cac_report(
    store: &mut Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<report::CacView> {
    let run_id = run_for(store, request.model.as_ref(), now_ms)?;
    Ok(report::cac_view(
        store,
        &query_for(request, run_id)?,
        now_ms,
    )?)
}

/// The ROAS screen: the table, plus ROAS over time and cost vs revenue charts.
pub fn roas(store: &mut Store, request: &ipc::ViewRequest, now_ms: i64) -> Result<ipc::RoasView> {
    let view = roas_report(store, request, now_ms)?;
    let query = view.query;
    // ROAS over time needs buckets even when the table shows one row per key.
    let over_time = match query.bucket {
        Some(_) => view.clone(),
        None => report::roas_view(
            store,
            &ViewQuery {
                bucket: Some(TimeBucket::Week),
                ..query
            },
        )?,
    };
    let charts = vec![
        chart(
            report::roas_chart_svg(&over_time, CHART_SERIES)?,
            "ROAS over time",
        ),
        chart(
            report::cost_vs_revenue_chart_svg(&view)?,
            "Cost vs attributed revenue",
        ),
    ];
    Ok(ipc::RoasView {
        rows: view
            .rows
            .iter()
            .map(|r| roas_row(r, &view.currency))
            .collect::<Result<_>>()?,
        totals: roas_row(&view.totals, &view.currency)?,
        provenance: provenance(&view.provenance, now_ms)?,
        charts,
    })
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
    })
}

/// The CAC screen.
pub fn cac(store: &mut Store, request: &ipc::ViewRequest, now_ms: i64) -> Result<ipc::CacView> {
    let view = cac_report(store, request, now_ms)?;
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

/// The model choices a comparison runs: every model with the request's parameters (window,
/// half-life, weights), or the default model's when the request has none.
pub fn compare_choices(
    store: &Store,
    request: &ipc::ViewRequest,
    models: &[String],
) -> Result<Vec<ipc::ModelChoice>> {
    if models.len() < 2 {
        bail!("choose at least two models to compare");
    }
    let base = match &request.model {
        Some(choice) => choice.clone(),
        None => model_catalog(store)?.default,
    };
    Ok(models
        .iter()
        .map(|m| ipc::ModelChoice {
            model: m.clone(),
            ..base.clone()
        })
        .collect())
}

/// Runs every model to compare (see [`compare_choices`]).
fn compare_runs(
    store: &mut Store,
    request: &ipc::ViewRequest,
    models: &[String],
    now_ms: i64,
) -> Result<Vec<i64>> {
    compare_choices(store, request, models)?
        .iter()
        .map(|choice| run_for(store, Some(choice), now_ms))
        .collect()
}

fn compare_report(
    store: &mut Store,
    request: &ipc::ViewRequest,
    models: &[String],
    now_ms: i64,
) -> Result<report::CompareView> {
    let runs = compare_runs(store, request, models, now_ms)?;
    let q = query_for(request, 0)?;
    Ok(report::compare_view(
        store,
        q.by,
        &runs,
        q.from,
        q.to,
        q.settled_only,
    )?)
}

/// The compare screen: one column per model, the spread between them, and grouped bars.
pub fn compare(
    store: &mut Store,
    request: &ipc::ViewRequest,
    models: &[String],
    now_ms: i64,
) -> Result<ipc::CompareView> {
    let view = compare_report(store, request, models, now_ms)?;
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
                spread_percent: r.spread_ratio.as_ref().map(|ratio| {
                    Ratio::new(ratio.numerator() * 100, ratio.denominator())
                        .map(|p| p.to_decimal_string(1))
                        .unwrap_or_default()
                }),
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

fn creator_report(
    store: &mut Store,
    request: &ipc::ViewRequest,
    creator_id: &str,
    now_ms: i64,
) -> Result<report::CreatorRevenueView> {
    let run_id = run_for(store, request.model.as_ref(), now_ms)?;
    let from = parse_day(request.from.as_deref(), "from")?;
    let to = parse_day(request.to.as_deref(), "to")?;
    Ok(report::creator_revenue_view(
        store, run_id, creator_id, from, to,
    )?)
}

/// One creator's revenue: content, orders, gross vs net, settled vs provisional, by day.
pub fn creator_revenue(
    store: &mut Store,
    request: &ipc::ViewRequest,
    creator_id: &str,
    now_ms: i64,
) -> Result<ipc::CreatorRevenueView> {
    let v = creator_report(store, request, creator_id, now_ms)?;
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

/// Every change of the workspace's model, newest first.
pub fn model_log(store: &Store) -> Result<Vec<ipc::ModelChangeEntry>> {
    Ok(store
        .model_changes()?
        .into_iter()
        .map(|c| ipc::ModelChangeEntry {
            changed_at_ms: c.changed_at_ms,
            changed_by: c.changed_by,
            from_model: c.from_model,
            to_model: c.to_model,
            parameters_before: c.parameters_before,
            parameters_after: c.parameters_after,
            reason: c.reason,
        })
        .collect())
}

/// Makes `choice` the workspace's model, appending to the model log. A reason is required.
pub fn set_default_model(
    store: &mut Store,
    choice: &ipc::ModelChoice,
    reason: &str,
    now_ms: i64,
) -> Result<ipc::ModelCatalog> {
    let (model, params) = model_of(choice)?;
    crate::models::change_model(store, model, &params, None, reason, now_ms)?;
    model_catalog(store)
}

/// Which table of a screen an export writes, beyond the view request: the compared models, the
/// creator, the source whose dead letters are listed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportTarget<'a> {
    pub models: Option<&'a [String]>,
    pub creator_id: Option<&'a str>,
    pub source_id: Option<&'a str>,
}

/// Writes the CSV of what a screen's table shows (and its `.json` sidecar) to `path`. Every
/// table goes through the same report function as `lookback export <view>`.
pub fn export_csv(
    store: &mut Store,
    view: &str,
    request: &ipc::ViewRequest,
    path: &Path,
    target: ExportTarget<'_>,
    now_ms: i64,
) -> Result<ipc::ExportResult> {
    let ExportTarget {
        models,
        creator_id,
        source_id,
    } = target;
    let options = ExportOptions::default();
    let summary = match view {
        "roas" => report::export_roas_csv(
            &roas_report(store, request, now_ms)?,
            path,
            &options,
            now_ms,
        )?,
        "cac" => {
            report::export_cac_csv(&cac_report(store, request, now_ms)?, path, &options, now_ms)?
        }
        "compare" => {
            let v = compare_report(store, request, models.unwrap_or_default(), now_ms)?;
            report::export_compare_csv(&v, path, &options, now_ms)?
        }
        "creator" => {
            let id = creator_id.context("which creator? no creator was chosen")?;
            let v = creator_report(store, request, id, now_ms)?;
            report::export_creator_orders_csv(&v, path, &options, now_ms)?
        }
        "creator-content" => {
            let id = creator_id.context("which creator? no creator was chosen")?;
            let v = creator_report(store, request, id, now_ms)?;
            report::export_creator_content_csv(&v, path, &options, now_ms)?
        }
        "model-log" => report::export_model_log_csv(store, path, &options, now_ms)?,
        "reconcile" => report::export_reconcile_csv(
            &reconcile_report(store, request, now_ms)?,
            path,
            &options,
            now_ms,
        )?,
        "dead-letters" => {
            let id = source_id.context("which source? no source was chosen")?;
            report::export_dead_letters_csv(store, Some(id), path, &options, now_ms)?
        }
        "alert-rules" => report::export_alert_rules_csv(store, path, &options, now_ms)?,
        "revenue" => report::export_revenue_csv(store, path, &options, now_ms)?,
        "sources" => {
            let statuses = report::source_statuses(store, now_ms)?;
            report::export_sources_csv(&statuses, path, &options, now_ms)?
        }
        "health" => {
            let policy = lookback_trust::HealthPolicy::default();
            let states = lookback_trust::source_health_states(store, now_ms, policy)?;
            report::export_health_csv(
                &states,
                policy.window_ms / 86_400_000,
                path,
                &options,
                now_ms,
            )?
        }
        other => bail!("there is no {other:?} table to export"),
    };
    Ok(ipc::ExportResult {
        path: summary.path.display().to_string(),
        rows: i64::try_from(summary.rows).unwrap_or(i64::MAX),
    })
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

/// The reconciliation a request asks for (the screen and its CSV export share it): the
/// request's dates, by default the 30 days ending on the last day with data.
fn reconcile_report(
    store: &Store,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<lookback_trust::Reconciliation> {
    let options = lookback_trust::ReconcileOptions::days_or_default(
        store,
        parse_day(request.from.as_deref(), "from")?,
        parse_day(request.to.as_deref(), "to")?,
        5,
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
    let r = reconcile_report(store, request, now_ms)?;
    let rc = &r.reporting_currency;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(ipc::ReconcileView {
        from_day: r.from_day.clone(),
        to_day: r.to_day.clone(),
        model: r.model.clone(),
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
                    cause: g.cause.as_str().to_string(),
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

// ---- Jobs on the session: what the window's view commands call. ----

use crate::error::AppResult;
use crate::session::Session;

/// The models on offer and the workspace's default.
pub async fn catalog_job(session: &Session) -> AppResult<ipc::ModelCatalog> {
    session
        .on_workspace(|open| Ok(model_catalog(&open.store)?))
        .await
}

/// Changes the workspace's default model; appends to the model log with the reason.
pub async fn set_default_model_job(
    session: &Session,
    choice: ipc::ModelChoice,
    reason: String,
) -> AppResult<ipc::ModelCatalog> {
    session
        .on_workspace(move |open| {
            Ok(set_default_model(
                &mut open.store,
                &choice,
                &reason,
                crate::clock::now_ms(),
            )?)
        })
        .await
}

/// Every change of the workspace's model, newest first.
pub async fn model_log_job(session: &Session) -> AppResult<Vec<ipc::ModelChangeEntry>> {
    session
        .on_workspace(|open| Ok(model_log(&open.store)?))
        .await
}

/// The ROAS screen; a new run is computed first, announced and cancellable.
pub async fn roas_job(session: &Session, request: ipc::ViewRequest) -> AppResult<ipc::RoasView> {
    crate::runs::ensure_run(session, request.model.clone()).await?;
    session
        .on_workspace(move |open| Ok(roas(&mut open.store, &request, crate::clock::now_ms())?))
        .await
}

/// The CAC screen; a new run is computed first, announced and cancellable.
pub async fn cac_job(session: &Session, request: ipc::ViewRequest) -> AppResult<ipc::CacView> {
    crate::runs::ensure_run(session, request.model.clone()).await?;
    session
        .on_workspace(move |open| Ok(cac(&mut open.store, &request, crate::clock::now_ms())?))
        .await
}

/// The compare screen: every compared model's run first, then the table.
pub async fn compare_job(
    session: &Session,
    request: ipc::ViewRequest,
    models: Vec<String>,
) -> AppResult<ipc::CompareView> {
    let (r, m) = (request.clone(), models.clone());
    let choices = session
        .on_workspace(move |open| Ok(compare_choices(&open.store, &r, &m)?))
        .await?;
    for choice in choices {
        crate::runs::ensure_run(session, Some(choice)).await?;
    }
    session
        .on_workspace(move |open| {
            Ok(compare(
                &mut open.store,
                &request,
                &models,
                crate::clock::now_ms(),
            )?)
        })
        .await
}

/// Creators to pick on the creator screen.
pub async fn creator_list_job(session: &Session) -> AppResult<Vec<ipc::CreatorListItem>> {
    session
        .on_workspace(|open| Ok(creator_list(&open.store)?))
        .await
}

/// One creator's revenue.
pub async fn creator_revenue_job(
    session: &Session,
    request: ipc::ViewRequest,
    creator_id: String,
) -> AppResult<ipc::CreatorRevenueView> {
    crate::runs::ensure_run(session, request.model.clone()).await?;
    session
        .on_workspace(move |open| {
            Ok(creator_revenue(
                &mut open.store,
                &request,
                &creator_id,
                crate::clock::now_ms(),
            )?)
        })
        .await
}

/// The Reconciliation screen.
pub async fn reconcile_job(
    session: &Session,
    request: ipc::ViewRequest,
) -> AppResult<ipc::ReconcileView> {
    session
        .on_workspace(move |open| Ok(reconcile(&open.store, &request, crate::clock::now_ms())?))
        .await
}

/// What an export from a screen writes: the table, the view request, the file, and which
/// models, creator or source the table is of.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub view: String,
    pub request: ipc::ViewRequest,
    pub path: std::path::PathBuf,
    pub models: Option<Vec<String>>,
    pub creator_id: Option<String>,
    pub source_id: Option<String>,
}

/// Writes the CSV of a screen's table (and its sidecar).
pub async fn export_job(session: &Session, job: ExportJob) -> AppResult<ipc::ExportResult> {
    session
        .on_workspace(move |open| {
            let target = ExportTarget {
                models: job.models.as_deref(),
                creator_id: job.creator_id.as_deref(),
                source_id: job.source_id.as_deref(),
            };
            Ok(export_csv(
                &mut open.store,
                &job.view,
                &job.request,
                &job.path,
                target,
                crate::clock::now_ms(),
            )?)
        })
        .await
}
