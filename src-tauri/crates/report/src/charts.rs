//! SVG charts of the views, drawn with plotters' SVG backend, and the exact series each chart
//! plots beside it — so a test (or the window, for tooltips) can check that the picture shows
//! the table's numbers.
//!
//! No font backend is compiled in: the SVG backend writes `<text>` elements that the viewer lays
//! out with its own fonts, so charts render the same on a headless CI machine. Text widths are
//! therefore estimated (see [`text_width`]) when laying out labels and the legend.
//!
//! What a chart is made of, beyond plotters' axes and marks:
//! - **Readable text.** [`CHART_SIZE`] is about the size the window shows a chart at, and the
//!   text is drawn at [`TITLE_PX`] and [`LABEL_PX`] CSS pixels. Category labels that would
//!   collide are slanted and thinned; the legend sits below the plot, never over it.
//! - **Colors by role.** Every color is a role (text, grid, series 1…) written as its light
//!   color plus `style="fill:var(--chart-text,#…)"`, so a page that shows the SVG inline
//!   recolors it with its theme's CSS variables, and a standalone file keeps the light colors.
//! - **Exact values on hover.** A last group (`<g class="chart-hover">`) has one invisible
//!   target per point or bar with the exact value as the table shows it (`data-value`, the
//!   decimal text) and a `<title>` saying it in words; the group names the unit (`data-unit`:
//!   `money` with `data-currency`, or `ratio`).
//!
//! Conventions: amounts are plotted in major units of the reporting currency (display only;
//! every number a person reads as text comes from the view), ROAS as revenue ÷ cost. A row
//! without a ROAS ("—") has no point rather than a point at 0. At most [`MAX_CATEGORIES`] keys
//! (the views' first rows, which are the largest) are drawn, so labels stay readable.

use lookback_core::money::{Currency, format_minor};
use plotters::prelude::*;

mod cohorts;
pub use cohorts::cohort_revenue_chart_svg;

use crate::ReportError;
use crate::ratio::RATIO_PLACES;
use crate::views::compare::CompareView;
use crate::views::roas::RoasView;

/// The most keys (bars or lines) one chart draws.
pub const MAX_CATEGORIES: usize = 12;
/// Chart size in pixels: about the width the window shows a chart at (one per row at a
/// 1280 px window, two side by side from about 1800 px), so text keeps its drawn size.
pub const CHART_SIZE: (u32, u32) = (880, 440);
/// The title's size in CSS pixels.
const TITLE_PX: f64 = 17.0;
/// Axis labels, category labels and the legend, in CSS pixels.
const LABEL_PX: f64 = 14.0;
/// Space around the plot.
const MARGIN: u32 = 16;
/// The angle (degrees) category labels are slanted at when they do not fit side by side.
const SLANT_DEGREES: f64 = 35.0;
/// Longest category label shown in full; longer ones end in "…" (the hover says it in full).
const MAX_LABEL_CHARS: usize = 18;
/// Longest legend entry shown in full.
const MAX_LEGEND_CHARS: usize = 40;

/// One plotted series: its name and `(x label, y)` points in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub name: String,
    /// y is the plotted value (display only): ROAS, or an amount in major units.
    pub points: Vec<(String, f64)>,
    /// Each point's exact value as the view's table shows it, as decimal text ("1234.50" in
    /// the currency's major units, or ROAS to [`RATIO_PLACES`] places): what hover shows.
    pub exact: Vec<String>,
}

/// A chart: the SVG document and what it plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub svg: String,
    pub series: Vec<ChartSeries>,
}

/// A color by its role in the chart. Plotters draws it as `placeholder` (a color no chart uses
/// otherwise); [`apply_roles`] then writes it as `light` with the CSS variable `var` over it.
struct Role {
    placeholder: RGBColor,
    var: &'static str,
    light: &'static str,
}

const fn role(n: u8, var: &'static str, light: &'static str) -> Role {
    Role {
        placeholder: RGBColor(1, 0, n),
        var,
        light,
    }
}

const TEXT: Role = role(1, "--chart-text", "#1b1e2b");
const MUTED: Role = role(2, "--chart-muted", "#4b5166");
const GRID: Role = role(3, "--chart-grid", "#e6e8f0");
const AXIS: Role = role(4, "--chart-axis", "#9aa1b8");
const SERIES: [Role; 8] = [
    role(11, "--chart-1", "#2563eb"),
    role(12, "--chart-2", "#f08a24"),
    role(13, "--chart-3", "#1f9d6b"),
    role(14, "--chart-4", "#d6453d"),
    role(15, "--chart-5", "#9a5bd6"),
    role(16, "--chart-6", "#8c6a4f"),
    role(17, "--chart-7", "#d9539f"),
    role(18, "--chart-8", "#6b7280"),
];

fn series_color(j: usize) -> RGBColor {
    SERIES[j % SERIES.len()].placeholder
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Rewrites every role color plotters (or this module) wrote as a placeholder into the role's
/// light color with its CSS variable over it. Each element is on its own line, so one `style`
/// attribute per line carries both fill and stroke.
fn apply_roles(svg: &str) -> String {
    let roles: Vec<&Role> = [&TEXT, &MUTED, &GRID, &AXIS]
        .into_iter()
        .chain(SERIES.iter())
        .collect();
    let mut out = String::with_capacity(svg.len() + svg.len() / 3);
    for line in svg.lines() {
        let mut line = line.to_owned();
        let mut style = Vec::new();
        for role in &roles {
            let placeholder = hex(role.placeholder);
            for property in ["fill", "stroke"] {
                let attr = format!("{property}=\"{placeholder}\"");
                if line.contains(&attr) {
                    line = line.replace(&attr, &format!("{property}=\"{}\"", role.light));
                    style.push(format!("{property}:var({},{})", role.var, role.light));
                }
            }
        }
        if !style.is_empty()
            && let Some(space) = line.find(' ')
        {
            line.insert_str(space, &format!(" style=\"{}\"", style.join(";")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A font of `px` CSS pixels in `role`'s color (plotters writes `font-size` as size ÷ 1.24).
fn font(px: f64, role: &Role) -> TextStyle<'static> {
    ("sans-serif", px * 1.24)
        .into_font()
        .color(&role.placeholder)
}

/// The estimated width of `text` at `px` (no font backend to measure with: sans-serif glyphs
/// average a little over half an em).
fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.58
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

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
    grouped(&(value.round() as i64).to_string())
}

/// A decimal's whole part with thousands separators: "-1234567.89" → "-1,234,567.89".
fn grouped(decimal: &str) -> String {
    let (sign, unsigned) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    let (whole, fraction) = match unsigned.find('.') {
        Some(dot) => unsigned.split_at(dot),
        None => (unsigned, ""),
    };
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(fraction);
    out
}

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

/// What the plotted values are, for the hover text.
#[derive(Clone, Copy)]
enum Unit {
    Money(Currency),
    Ratio,
}

impl Unit {
    fn y_label(self, v: f64) -> String {
        match self {
            Unit::Money(_) => axis_amount(v),
            Unit::Ratio => format!("{v:.2}"),
        }
    }

    fn says(self, exact: &str) -> String {
        match self {
            Unit::Money(c) => format!("{exact} {}", c.code()),
            Unit::Ratio => format!("{exact}×"),
        }
    }

    fn attributes(self) -> String {
        match self {
            Unit::Money(c) => format!("data-unit=\"money\" data-currency=\"{}\"", c.code()),
            Unit::Ratio => "data-unit=\"ratio\"".to_owned(),
        }
    }
}

/// How the series are drawn.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// One group of bars per category, one bar per series.
    Bars,
    /// One line per series through its categories (in order), a dot per point.
    Lines,
}

/// Everything one chart draws.
struct Plot<'a> {
    title: &'a str,
    y_desc: &'a str,
    unit: Unit,
    shape: Shape,
    /// The x axis's categories in order; every point's label is one of them.
    categories: &'a [String],
    series: &'a [ChartSeries],
    /// Said under the legend: which keys are left out (see [`left_out`]).
    note: Option<String>,
}

/// The note of a chart that draws `drawn` of a view's `total` keys (the largest), if it leaves
/// any out: the table beside it lists them all.
fn left_out(drawn: usize, total: usize) -> Option<String> {
    (total > drawn)
        .then(|| format!("The {drawn} largest of {total} are drawn; the table lists every one."))
}

/// How the category labels under the x axis are laid out.
struct XLabels {
    slanted: bool,
    /// Every `step`-th label is drawn, so they never overlap.
    step: usize,
    /// The height they take under the axis.
    height: u32,
}

fn x_labels_layout(categories: &[String], plot_width: f64) -> XLabels {
    let slot = plot_width / categories.len().max(1) as f64;
    let widest = categories
        .iter()
        .map(|c| text_width(&short(c, MAX_LABEL_CHARS), LABEL_PX))
        .fold(0.0_f64, f64::max);
    if widest + 8.0 <= slot {
        return XLabels {
            slanted: false,
            step: 1,
            height: (LABEL_PX * 2.2) as u32,
        };
    }
    // Slanted labels need about 1.8 em along the axis each.
    let step = ((LABEL_PX * 1.8) / slot).ceil().max(1.0) as usize;
    let rise = widest * SLANT_DEGREES.to_radians().sin() + LABEL_PX * 1.2;
    XLabels {
        slanted: true,
        step,
        height: rise.ceil() as u32,
    }
}

/// The legend's entries placed in rows under the plot: `(series index, x, row)`.
fn legend_layout(series: &[ChartSeries], width: f64) -> (Vec<(usize, f64, usize)>, usize) {
    let mut placed = Vec::new();
    let (mut x, mut row) = (0.0, 0);
    for (j, s) in series.iter().enumerate() {
        let w = 18.0 + 6.0 + text_width(&short(&s.name, MAX_LEGEND_CHARS), LABEL_PX) + 24.0;
        if x > 0.0 && x + w > width {
            x = 0.0;
            row += 1;
        }
        placed.push((j, x, row));
        x += w;
    }
    let rows = if series.is_empty() { 0 } else { row + 1 };
    (placed, rows)
}

/// A `<text>` element on one line (labels plotters cannot slant, and the legend).
fn text_element(x: f64, y: f64, anchor: &str, slant: bool, role: &Role, text: &str) -> String {
    let transform = if slant {
        format!(" transform=\"rotate(-{SLANT_DEGREES}, {x:.1}, {y:.1})\"")
    } else {
        String::new()
    };
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" dy=\"0.76em\" text-anchor=\"{anchor}\" \
         font-family=\"sans-serif\" font-size=\"{LABEL_PX}\" fill=\"{}\"{transform}>{}</text>\n",
        hex(role.placeholder),
        escape(text)
    )
}

/// Draws `plot` and returns the SVG document.
fn draw(plot: &Plot<'_>) -> Result<String, ReportError> {
    let (width, height) = CHART_SIZE;
    let y_area: u32 = match plot.unit {
        Unit::Money(_) => 96,
        Unit::Ratio => 72,
    };
    let plot_width = f64::from(width - 2 * MARGIN - y_area);
    let x_labels = x_labels_layout(plot.categories, plot_width);
    let (legend, legend_rows) = legend_layout(plot.series, f64::from(width - 2 * MARGIN));
    let note_rows = usize::from(plot.note.is_some());
    let legend_height = (legend_rows + note_rows) as u32 * 24 + 8;

    let n = plot.categories.len().max(1);
    let values = || {
        plot.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
    };
    let y_max = values().fold(0.0_f64, f64::max);
    let y_min = values().fold(0.0_f64, f64::min);
    let top = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let bottom = if y_min < 0.0 { y_min * 1.1 } else { 0.0 };
    let index = |label: &str| plot.categories.iter().position(|c| c == label).unwrap_or(0) as f64;

    let mut extras = String::new();
    let mut hover = String::new();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        let (upper, _) = root.split_vertically(height - legend_height);
        let mut chart = ChartBuilder::on(&upper)
            .caption(plot.title, font(TITLE_PX, &TEXT))
            .margin(MARGIN)
            .x_label_area_size(x_labels.height)
            .y_label_area_size(y_area)
            .build_cartesian_2d(-0.5_f64..(n as f64 - 0.5), bottom..top)
            .map_err(chart_error)?;
        let unit = plot.unit;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc(plot.y_desc)
            .y_label_formatter(&|v| unit.y_label(*v))
            .label_style(font(LABEL_PX, &MUTED))
            .axis_desc_style(font(LABEL_PX, &TEXT))
            .bold_line_style(GRID.placeholder.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.placeholder.stroke_width(1))
            .draw()
            .map_err(chart_error)?;

        let k = plot.series.len().max(1) as f64;
        let bar_width = 0.8 / k;
        for (j, s) in plot.series.iter().enumerate() {
            let color = series_color(j);
            let points: Vec<(f64, f64)> = s.points.iter().map(|(c, y)| (index(c), *y)).collect();
            let mut targets = Vec::new();
            match plot.shape {
                Shape::Bars => {
                    let rects: Vec<[(f64, f64); 2]> = points
                        .iter()
                        .map(|(x, y)| {
                            let x0 = x - 0.4 + j as f64 * bar_width;
                            [(x0, 0.0), (x0 + bar_width * 0.92, *y)]
                        })
                        .collect();
                    chart
                        .draw_series(rects.iter().map(|r| Rectangle::new(*r, color.filled())))
                        .map_err(chart_error)?;
                    for [a, b] in &rects {
                        let (x0, y0) = chart.backend_coord(a);
                        let (x1, y1) = chart.backend_coord(b);
                        // A bar too short to point at still gets a target 8 px high.
                        let (top_y, bottom_y) = (y0.min(y1), y0.max(y1).max(y0.min(y1) + 8));
                        targets.push(format!(
                            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
                            x0.min(x1),
                            top_y.min(bottom_y - 8),
                            (x1 - x0).abs().max(2),
                            bottom_y - top_y
                        ));
                    }
                }
                Shape::Lines => {
                    chart
                        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                        .map_err(chart_error)?;
                    chart
                        .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                        .map_err(chart_error)?;
                    for p in &points {
                        let (x, y) = chart.backend_coord(p);
                        targets.push(format!("<circle cx=\"{x}\" cy=\"{y}\" r=\"10\""));
                    }
                }
            }
            for (target, ((label, _), exact)) in targets.iter().zip(s.points.iter().zip(&s.exact)) {
                hover.push_str(&format!(
                    "{target} fill=\"#000000\" fill-opacity=\"0\" data-series=\"{}\" \
                     data-label=\"{}\" data-value=\"{}\"><title>{}</title></{}>\n",
                    escape(&s.name),
                    escape(label),
                    escape(exact),
                    escape(&format!("{label} · {}: {}", s.name, plot.unit.says(exact))),
                    if plot.shape == Shape::Bars {
                        "rect"
                    } else {
                        "circle"
                    },
                ));
            }
        }

        // Category labels under the x axis, at the categories (plotters' own x labels sit at
        // "nice" numbers), slanted when they would not fit side by side.
        for (i, label) in plot.categories.iter().enumerate().step_by(x_labels.step) {
            let (x, y) = chart.backend_coord(&(i as f64, bottom));
            let (x, y) = (f64::from(x), f64::from(y) + 6.0);
            let shown = short(label, MAX_LABEL_CHARS);
            extras.push_str(&if x_labels.slanted {
                text_element(x, y, "end", true, &MUTED, &shown)
            } else {
                text_element(x, y, "middle", false, &MUTED, &shown)
            });
        }
        // The legend, in rows under the plot.
        let legend_top = f64::from(height - legend_height) + 4.0;
        for (j, x, row) in legend {
            let x = f64::from(MARGIN) + x;
            let y = legend_top + row as f64 * 24.0;
            let swatch = hex(series_color(j));
            extras.push_str(&match plot.shape {
                Shape::Bars => format!(
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"18\" height=\"12\" rx=\"2\" fill=\"{swatch}\"/>\n",
                    y + 2.0
                ),
                Shape::Lines => format!(
                    "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{swatch}\" stroke-width=\"3\"/>\n",
                    y + 8.0,
                    x + 18.0,
                    y + 8.0
                ),
            });
            extras.push_str(&text_element(
                x + 24.0,
                y,
                "start",
                false,
                &TEXT,
                &short(&plot.series[j].name, MAX_LEGEND_CHARS),
            ));
        }
        if let Some(note) = &plot.note {
            extras.push_str(&text_element(
                f64::from(MARGIN),
                legend_top + legend_rows as f64 * 24.0,
                "start",
                false,
                &MUTED,
                note,
            ));
        }
        root.present().map_err(chart_error)?;
    }
    let end = svg
        .rfind("</svg>")
        .ok_or_else(|| chart_error("no </svg> in the drawing"))?;
    svg.insert_str(
        end,
        &format!(
            "{extras}<g class=\"chart-hover\" {}>\n{hover}</g>\n",
            plot.unit.attributes()
        ),
    );
    Ok(apply_roles(&svg))
}

/// What a chart's title adds about the basis: nothing on the default cash basis, the basis
/// under accrual (the days on its axis are then the touches').
fn basis_note(basis: lookback_store::CreditBasis) -> &'static str {
    match basis {
        lookback_store::CreditBasis::Cash => "",
        lookback_store::CreditBasis::Accrual => " · accrual basis (credits by touch day)",
    }
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
    let total_keys = keys.len();
    keys.truncate(max_series.clamp(1, MAX_CATEGORIES));
    let series: Vec<ChartSeries> = keys
        .iter()
        .map(|(key, label)| {
            let rows: Vec<_> = view
                .rows
                .iter()
                .filter(|r| r.key == *key)
                .filter_map(|r| Some((r.bucket.clone()?, r.roas.as_ref()?)))
                .collect();
            ChartSeries {
                name: label.clone(),
                points: rows
                    .iter()
                    .map(|(b, roas)| (b.clone(), roas.to_f64()))
                    .collect(),
                exact: rows
                    .iter()
                    .map(|(_, roas)| roas.to_decimal_string(RATIO_PLACES))
                    .collect(),
            }
        })
        .collect();
    let by = view.query.by.as_str();
    let bucket = view.query.bucket.map(|b| b.as_str()).unwrap_or("day");
    let title = format!(
        "ROAS by {by} per {bucket} — {} (run {}){}",
        view.provenance.model,
        view.provenance.run_id,
        basis_note(view.provenance.basis)
    );
    let svg = draw(&Plot {
        title: &title,
        y_desc: "ROAS (revenue ÷ cost)",
        unit: Unit::Ratio,
        shape: Shape::Lines,
        categories: &buckets,
        series: &series,
        note: left_out(keys.len(), total_keys),
    })?;
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
    let total_keys = keys.len();
    keys.truncate(MAX_CATEGORIES);
    let categories: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
    let amounts = |name: &str, amount: fn(&(String, String, i64, i64)) -> i64| ChartSeries {
        name: name.to_owned(),
        points: keys
            .iter()
            .map(|k| (k.1.clone(), major(amount(k), currency)))
            .collect(),
        exact: keys
            .iter()
            .map(|k| format_minor(amount(k), currency))
            .collect(),
    };
    let series = vec![
        amounts("Attributed revenue", |k| k.2),
        amounts("Cost", |k| k.3),
    ];
    let title = format!(
        "Revenue and cost by {} — {} (run {}){} · total {} vs {} {}",
        view.query.by,
        view.provenance.model,
        view.provenance.run_id,
        basis_note(view.provenance.basis),
        grouped(&format_minor(
            view.totals.attributed_revenue_minor,
            currency
        )),
        grouped(&format_minor(view.totals.cost_minor, currency)),
        currency.code()
    );
    let svg = draw(&Plot {
        title: &title,
        y_desc: currency.code(),
        unit: Unit::Money(currency),
        shape: Shape::Bars,
        categories: &categories,
        series: &series,
        note: left_out(keys.len(), total_keys),
    })?;
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
            exact: rows
                .iter()
                .map(|r| format_minor(r.revenue_minor[j], currency))
                .collect(),
        })
        .collect();
    let title = format!(
        "Attributed revenue by {} under {} models{}",
        view.by,
        view.models.len(),
        basis_note(
            view.models
                .first()
                .map_or(lookback_store::CreditBasis::Cash, |m| m.basis)
        )
    );
    let svg = draw(&Plot {
        title: &title,
        y_desc: currency.code(),
        unit: Unit::Money(currency),
        shape: Shape::Bars,
        categories: &categories,
        series: &series,
        note: left_out(rows.len(), view.rows.len()),
    })?;
    Ok(Chart { title, svg, series })
}

#[cfg(test)]
mod tests {
    use lookback_core::attribution::Model;
    use lookback_core::time::TimeBucket;

    use super::*;
    use crate::views::test_support::{run, workspace};
    use crate::{CreditBasis, ViewKey, ViewQuery, compare_view, roas_view};

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

        let compare = compare_view(
            &store,
            ViewKey::Creator,
            &[linear, last],
            None,
            None,
            false,
            CreditBasis::Cash,
        )
        .unwrap();
        let chart = compare_chart_svg(&compare).unwrap();
        assert_eq!(chart.series.len(), 2);
        assert!(chart.series[1].name.starts_with("last-touch"));
        for (j, series) in chart.series.iter().enumerate() {
            for (i, row) in compare.rows.iter().enumerate() {
                assert_eq!(series.points[i].1, row.revenue_minor[j] as f64 / 100.0);
            }
        }
    }

    /// The `name="…"` attribute values of every element of `tag` in `svg`, in order.
    fn attribute_values(svg: &str, tag: &str, name: &str) -> Vec<String> {
        svg.lines()
            .filter(|l| l.starts_with(&format!("<{tag} ")))
            .filter_map(|l| {
                let start = l.find(&format!(" {name}=\""))? + name.len() + 3;
                let len = l[start..].find('"')?;
                Some(l[start..start + len].to_owned())
            })
            .collect()
    }

    fn hover_part(svg: &str) -> &str {
        &svg[svg.find("<g class=\"chart-hover\"").expect("a hover group")..]
    }

    #[test]
    fn hover_targets_carry_the_tables_exact_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let run_id = run(&mut store, Model::Linear);
        let view = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Creator)).unwrap();
        let chart = cost_vs_revenue_chart_svg(&view).unwrap();
        let hover = hover_part(&chart.svg);
        assert!(
            hover
                .starts_with("<g class=\"chart-hover\" data-unit=\"money\" data-currency=\"USD\">")
        );
        // One target per bar, revenue bars first, each with the row's exact amount.
        let values = attribute_values(hover, "rect", "data-value");
        let labels = attribute_values(hover, "rect", "data-label");
        let mut expected_values = Vec::new();
        let mut expected_labels = Vec::new();
        for amount in [
            |r: &crate::views::roas::RoasRow| r.attributed_revenue_minor,
            |r: &crate::views::roas::RoasRow| r.cost_minor,
        ] {
            for row in &view.rows {
                expected_values.push(format_minor(amount(row), Currency::parse("USD").unwrap()));
                expected_labels.push(row.label.clone());
            }
        }
        assert_eq!(values, expected_values);
        assert_eq!(labels, expected_labels);
        assert_eq!(chart.series[0].exact, expected_values[..view.rows.len()]);
        let first = &view.rows[0];
        assert!(hover.contains(&format!(
            "<title>{} · Attributed revenue: {} USD</title>",
            first.label, expected_values[0]
        )));

        // ROAS points: the ratio to the table's places, as a multiple.
        let weekly = roas_view(
            &store,
            &ViewQuery {
                bucket: Some(TimeBucket::Week),
                ..ViewQuery::new(run_id, ViewKey::Creator)
            },
        )
        .unwrap();
        let chart = roas_chart_svg(&weekly, 5).unwrap();
        let hover = hover_part(&chart.svg);
        assert!(hover.starts_with("<g class=\"chart-hover\" data-unit=\"ratio\">"));
        let values = attribute_values(hover, "circle", "data-value");
        let series = attribute_values(hover, "circle", "data-series");
        let buckets = attribute_values(hover, "circle", "data-label");
        assert_eq!(
            values.len(),
            chart.series.iter().map(|s| s.points.len()).sum::<usize>()
        );
        for ((value, name), bucket) in values.iter().zip(&series).zip(&buckets) {
            let row = weekly
                .rows
                .iter()
                .find(|r| r.label == *name && r.bucket.as_deref() == Some(bucket.as_str()))
                .unwrap();
            assert_eq!(
                *value,
                row.roas.as_ref().unwrap().to_decimal_string(RATIO_PLACES)
            );
        }
    }

    #[test]
    fn the_legend_sits_below_the_plot_and_colors_follow_the_theme() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(&dir);
        let run_id = run(&mut store, Model::Linear);
        let q = ViewQuery {
            bucket: Some(TimeBucket::Week),
            ..ViewQuery::new(run_id, ViewKey::Creator)
        };
        let view = roas_view(&store, &q).unwrap();
        for chart in [
            roas_chart_svg(&view, 8).unwrap(),
            cost_vs_revenue_chart_svg(&view).unwrap(),
        ] {
            let svg = &chart.svg;
            // The lowest point of the plot: bar bottoms (the axis) or line points.
            let hover = hover_part(svg);
            let plot_bottom = attribute_values(hover, "rect", "y")
                .iter()
                .zip(attribute_values(hover, "rect", "height"))
                .map(|(y, h)| y.parse::<f64>().unwrap() + h.parse::<f64>().unwrap())
                .chain(
                    attribute_values(hover, "circle", "cy")
                        .iter()
                        .map(|y| y.parse().unwrap()),
                )
                .fold(0.0_f64, f64::max);
            // Legend entries are texts drawn in the series' names after the plot (a long name
            // shortened, as "Not through a creator: ads, email, direct…" is).
            for series in &chart.series {
                let shown = escape(&short(&series.name, MAX_LEGEND_CHARS));
                let entry = svg
                    .lines()
                    .find(|l| l.starts_with("<text ") && l.ends_with(&format!(">{shown}</text>")))
                    .unwrap_or_else(|| panic!("a legend entry for {}", series.name));
                let y: f64 = attribute_values(entry, "text", "y")[0].parse().unwrap();
                assert!(
                    y > plot_bottom + 20.0,
                    "legend at {y}, plot down to {plot_bottom}"
                );
            }
            // Every color is a role with its CSS variable; no placeholder is left.
            assert!(
                !svg.contains("#01000"),
                "a placeholder color left in the SVG"
            );
            assert!(svg.contains("style=\"fill:var(--chart-text,#1b1e2b)\""));
            assert!(svg.contains("var(--chart-1,#2563eb)"));
            // Text reads at the sizes the window shows: nothing under 14 px at the drawn size.
            for size in attribute_values(svg, "text", "font-size") {
                assert!(
                    size.parse::<f64>().unwrap() >= LABEL_PX,
                    "text of {size} px"
                );
            }
        }
    }

    #[test]
    fn labels_are_escaped_and_long_ones_slanted() {
        let categories: Vec<String> = (0..12)
            .map(|i| format!("<script>&\"creator {i} with a long name"))
            .collect();
        let series = vec![ChartSeries {
            name: "Cost <b>".to_owned(),
            points: categories.iter().map(|c| (c.clone(), 10.0)).collect(),
            exact: categories.iter().map(|_| "10.00".to_owned()).collect(),
        }];
        let svg = draw(&Plot {
            title: "A & B",
            y_desc: "USD",
            unit: Unit::Money(Currency::parse("USD").unwrap()),
            shape: Shape::Bars,
            categories: &categories,
            series: &series,
            note: left_out(12, 13),
        })
        .unwrap();
        assert!(!svg.contains("<script") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;creator…"));
        assert!(svg.contains("data-series=\"Cost &lt;b&gt;\""));
        assert!(svg.contains(&format!("transform=\"rotate(-{SLANT_DEGREES}")));
        assert!(svg.contains(">The 12 largest of 13 are drawn; the table lists every one.</text>"));
    }

    #[test]
    fn axis_amounts_have_thousands_separators() {
        assert_eq!(axis_amount(12_500.4), "12,500");
        assert_eq!(axis_amount(999.0), "999");
        assert_eq!(axis_amount(-1_234_567.0), "-1,234,567");
        assert_eq!(grouped("129813.79"), "129,813.79");
        assert_eq!(grouped("-1234567.891"), "-1,234,567.891");
        assert_eq!(grouped("0.50"), "0.50");
    }
}
