//! SVG charts of the views, drawn with plotters' SVG backend, and the exact series each chart
//! plots beside it — so a test (or the window, for tooltips) can check that the picture shows
//! the table's numbers.
//!
//! No font backend is compiled in: the SVG backend writes `<text>` elements that the viewer lays
//! out with its own fonts, so charts render the same on a headless CI machine.
//!
//! Conventions: amounts are plotted in major units of the reporting currency (display only;
//! every number a person reads as text comes from the view), ROAS as revenue ÷ cost. A row
//! without a ROAS ("—") has no point rather than a point at 0. At most [`MAX_CATEGORIES`] keys
//! (the views' first rows, which are the largest) are drawn, so labels stay readable.

use lookback_core::money::{Currency, format_minor};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor;

use crate::ReportError;
use crate::views::compare::CompareView;
use crate::views::roas::RoasView;

/// The most keys (bars or lines) one chart draws.
pub const MAX_CATEGORIES: usize = 12;
/// Chart size in pixels.
pub const CHART_SIZE: (u32, u32) = (960, 480);

/// One plotted series: its name and `(x label, y)` points in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub name: String,
    /// y is the plotted value (display only): ROAS, or an amount in major units.
    pub points: Vec<(String, f64)>,
}

/// A chart: the SVG document and what it plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub svg: String,
    pub series: Vec<ChartSeries>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn chart_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart {
        detail: e.to_string(),
    }
}

fn currency(code: &str) -> Result<Currency, ReportError> {
    Currency::parse(code).map_err(ReportError::from)
}

fn major(minor: i64, currency: Currency) -> f64 {
    minor as f64 / currency.minor_per_major() as f64
}

/// A y-axis amount label: whole major units with thousands separators ("12,500").
fn axis_amount(value: f64) -> String {
    let whole = value.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 { format!("-{out}") } else { out }
}

fn short(label: &str) -> String {
    const MAX: usize = 16;
    if label.chars().count() <= MAX {
        label.to_owned()
    } else {
        format!("{}…", label.chars().take(MAX - 1).collect::<String>())
    }
}

/// Draws category labels under the x axis at the given x positions (plotters' own labels sit at
/// "nice" numbers, not at categories).
fn draw_category_labels(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    positions: &[(String, (i32, i32))],
) -> Result<(), ReportError> {
    let style = TextStyle::from(("sans-serif", 12).into_font()).pos(text_anchor::Pos::new(
        text_anchor::HPos::Center,
        text_anchor::VPos::Top,
    ));
    // Thin out labels when there are many, so they never overlap.
    let step = positions.len().div_ceil(16).max(1);
    for (label, (x, y)) in positions.iter().step_by(step) {
        root.draw(&Text::new(short(label), (*x, *y + 6), &style))
            .map_err(chart_error)?;
    }
    Ok(())
}

/// Grouped bars: one group per category, one bar per series.
fn grouped_bars(
    title: &str,
    y_desc: &str,
    categories: &[String],
    series: &[ChartSeries],
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let y_max = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0_f64, f64::max);
        let y_min = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0_f64, f64::min);
        let top = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
        let bottom = if y_min < 0.0 { y_min * 1.1 } else { 0.0 };
        let n = categories.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0_f64..n as f64, bottom..top)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_desc)
            .y_label_formatter(&|v| axis_amount(*v))
            .draw()
            .map_err(chart_error)?;
        let k = series.len().max(1) as f64;
        let width = 0.8 / k;
        for (j, s) in series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            let bars = s.points.iter().enumerate().map(move |(i, (_, y))| {
                let x0 = i as f64 + 0.1 + j as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.95, *y)], color.filled())
            });
            chart
                .draw_series(bars)
                .map_err(chart_error)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(chart_error)?;
        let positions: Vec<(String, (i32, i32))> = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), chart.backend_coord(&(i as f64 + 0.5, bottom))))
            .collect();
        draw_category_labels(&root, &positions)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// ROAS over time: one line per key (the `max_series` keys with the most revenue, at most
/// [`MAX_CATEGORIES`]), x = the view's buckets in time order, y = ROAS. Needs a bucketed view.
pub fn roas_chart_svg(view: &RoasView, max_series: usize) -> Result<Chart, ReportError> {
    if view.query.bucket.is_none() {
        return Err(ReportError::ChartNeedsBuckets);
    }
    let mut buckets: Vec<String> = view.rows.iter().filter_map(|r| r.bucket.clone()).collect();
    buckets.sort();
    buckets.dedup();
    // Rows are sorted by key revenue, so the first keys met are the largest.
    let mut keys: Vec<(String, String)> = Vec::new();
    for row in &view.rows {
        if !keys.iter().any(|(k, _)| *k == row.key) {
            keys.push((row.key.clone(), row.label.clone()));
        }
    }
    keys.truncate(max_series.clamp(1, MAX_CATEGORIES));
    let series: Vec<ChartSeries> = keys
        .iter()
        .map(|(key, label)| ChartSeries {
            name: label.clone(),
            points: view
                .rows
                .iter()
                .filter(|r| r.key == *key)
                .filter_map(|r| Some((r.bucket.clone()?, r.roas?.to_f64())))
                .collect(),
        })
        .collect();
    let by = view.query.by.as_str();
    let bucket = view.query.bucket.map(|b| b.as_str()).unwrap_or("day");
    let title = format!(
        "ROAS by {by} per {bucket} — {} (run {})",
        view.provenance.model, view.provenance.run_id
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let y_max = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0_f64, f64::max);
        let n = buckets.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                -0.5_f64..(n as f64 - 0.5),
                0.0_f64..(if y_max > 0.0 { y_max * 1.1 } else { 1.0 }),
            )
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("ROAS (revenue ÷ cost)")
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()
            .map_err(chart_error)?;
        let index = |bucket: &str| buckets.iter().position(|b| b == bucket).unwrap_or(0) as f64;
        for (j, s) in series.iter().enumerate() {
            let color = PALETTE[j % PALETTE.len()];
            let points: Vec<(f64, f64)> = s.points.iter().map(|(b, y)| (index(b), *y)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(chart_error)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(chart_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(chart_error)?;
        let positions: Vec<(String, (i32, i32))> = buckets
            .iter()
            .enumerate()
            .map(|(i, b)| (b.clone(), chart.backend_coord(&(i as f64, 0.0))))
            .collect();
        draw_category_labels(&root, &positions)?;
        root.present().map_err(chart_error)?;
    }
    Ok(Chart { title, svg, series })
}

/// Revenue and cost per key as grouped bars (the view's first [`MAX_CATEGORIES`] keys; a
/// bucketed view's buckets are summed per key).
pub fn cost_vs_revenue_chart_svg(view: &RoasView) -> Result<Chart, ReportError> {
    let currency = currency(&view.currency)?;
    let mut keys: Vec<(String, String, i64, i64)> = Vec::new();
    for row in &view.rows {
        match keys.iter_mut().find(|(k, ..)| *k == row.key) {
            Some(entry) => {
                entry.2 += row.attributed_revenue_minor;
                entry.3 += row.cost_minor;
            }
            None => keys.push((
                row.key.clone(),
                row.label.clone(),
                row.attributed_revenue_minor,
                row.cost_minor,
            )),
        }
    }
    keys.truncate(MAX_CATEGORIES);
    let categories: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
    let series = vec![
        ChartSeries {
            name: "Attributed revenue".to_owned(),
            points: keys
                .iter()
                .map(|k| (k.1.clone(), major(k.2, currency)))
                .collect(),
        },
        ChartSeries {
            name: "Cost".to_owned(),
            points: keys
                .iter()
                .map(|k| (k.1.clone(), major(k.3, currency)))
                .collect(),
        },
    ];
    let title = format!(
        "Revenue and cost by {} — {} (run {}) · total {} vs {} {}",
        view.query.by,
        view.provenance.model,
        view.provenance.run_id,
        format_minor(view.totals.attributed_revenue_minor, currency),
        format_minor(view.totals.cost_minor, currency),
        currency.code()
    );
    let svg = grouped_bars(
        &title,
        &format!("{} (major units)", currency.code()),
        &categories,
        &series,
    )?;
    Ok(Chart { title, svg, series })
}

/// Each run's revenue per key as grouped bars, one series per run (the first
/// [`MAX_CATEGORIES`] rows).
pub fn compare_chart_svg(view: &CompareView) -> Result<Chart, ReportError> {
    let currency = currency(&view.currency)?;
    let rows: Vec<_> = view.rows.iter().take(MAX_CATEGORIES).collect();
    let categories: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let series: Vec<ChartSeries> = view
        .models
        .iter()
        .enumerate()
        .map(|(j, model)| ChartSeries {
            name: format!("{} (run {})", model.model, model.run_id),
            points: rows
                .iter()
                .map(|r| (r.label.clone(), major(r.revenue_minor[j], currency)))
                .collect(),
        })
        .collect();
    let title = format!(
        "Attributed revenue by {} under {} models",
        view.by,
        view.models.len()
    );
    let svg = grouped_bars(
        &title,
        &format!("{} (major units)", currency.code()),
        &categories,
        &series,
    )?;
    Ok(Chart { title, svg, series })
}

#[cfg(test)]
mod tests {
    use lookback_core::attribution::Model;
    use lookback_core::time::TimeBucket;

    use super::*;
    use crate::views::test_support::{run, workspace};
    use crate::{ViewKey, ViewQuery, compare_view, roas_view};

    #[test]
    fn roas_chart_plots_the_tables_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let run_id = run(&mut store, Model::Linear);
        let flat = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Creator)).unwrap();
        assert!(matches!(
            roas_chart_svg(&flat, 5),
            Err(ReportError::ChartNeedsBuckets)
        ));

        let q = ViewQuery {
            bucket: Some(TimeBucket::Week),
            ..ViewQuery::new(run_id, ViewKey::Creator)
        };
        let view = roas_view(&store, &q).unwrap();
        let chart = roas_chart_svg(&view, 5).unwrap();
        assert!(
            chart.svg.starts_with("<svg") && chart.svg.contains("<text"),
            "{}",
            &chart.svg[..200]
        );
        assert!(chart.svg.contains("2026-W10") && chart.svg.contains("Ana"));
        let mut plotted = 0;
        for series in &chart.series {
            for (bucket, y) in &series.points {
                let row = view
                    .rows
                    .iter()
                    .find(|r| r.label == series.name && r.bucket.as_deref() == Some(bucket))
                    .unwrap();
                assert_eq!(*y, row.roas.unwrap().to_f64());
                plotted += 1;
            }
        }
        // Every row with a ROAS is a point; the W18 row without cost ("—") is not.
        assert_eq!(
            plotted,
            view.rows.iter().filter(|r| r.roas.is_some()).count()
        );
    }

    #[test]
    fn bar_charts_plot_the_tables_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let linear = run(&mut store, Model::Linear);
        let last = run(&mut store, Model::LastTouch);
        let view = roas_view(&store, &ViewQuery::new(linear, ViewKey::Creator)).unwrap();
        let chart = cost_vs_revenue_chart_svg(&view).unwrap();
        assert_eq!(chart.series.len(), 2);
        for (i, row) in view.rows.iter().enumerate() {
            assert_eq!(
                chart.series[0].points[i],
                (
                    row.label.clone(),
                    row.attributed_revenue_minor as f64 / 100.0
                )
            );
            assert_eq!(
                chart.series[1].points[i],
                (row.label.clone(), row.cost_minor as f64 / 100.0)
            );
        }
        assert!(chart.svg.contains("Attributed revenue") && chart.svg.contains("<rect"));
        // The ROAS screen draws the bars from its weekly view of ROAS over time: its buckets
        // summed per key are the table's rows, so it is the same chart.
        let weekly = roas_view(
            &store,
            &ViewQuery {
                bucket: Some(TimeBucket::Week),
                ..ViewQuery::new(linear, ViewKey::Creator)
            },
        )
        .unwrap();
        assert!(weekly.rows.len() > view.rows.len());
        assert_eq!(cost_vs_revenue_chart_svg(&weekly).unwrap(), chart);

        let compare =
            compare_view(&store, ViewKey::Creator, &[linear, last], None, None, false).unwrap();
        let chart = compare_chart_svg(&compare).unwrap();
        assert_eq!(chart.series.len(), 2);
        assert!(chart.series[1].name.starts_with("last-touch"));
        for (j, series) in chart.series.iter().enumerate() {
            for (i, row) in compare.rows.iter().enumerate() {
                assert_eq!(series.points[i].1, row.revenue_minor[j] as f64 / 100.0);
            }
        }
    }

    #[test]
    fn axis_amounts_have_thousands_separators() {
        assert_eq!(axis_amount(12_500.4), "12,500");
        assert_eq!(axis_amount(999.0), "999");
        assert_eq!(axis_amount(-1_234_567.0), "-1,234,567");
    }
}
