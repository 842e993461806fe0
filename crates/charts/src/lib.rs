//! SVG charts drawn the way the paper draws its figures: CDF and time-series lines, scatter
//! plots, (stacked) proportion bars, stacked areas, box plots and correlation heat maps, on log axes where the
//! paper uses them, arranged as panels of one figure. Built on plotters' SVG backend.

mod areas;
mod layout;
pub mod page;
pub mod ticks;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use ticks::{Axis, Ticks};

/// tab10, the palette of matplotlib's (and the paper's) default figures.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub fn color(i: usize) -> RGBColor {
    TAB10[i % TAB10.len()]
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// A shaded band around a line, as (x, low, high) in x order (e.g. the range over seeds);
    /// empty for none.
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            band: Vec::new(),
        }
    }

    /// The same line with a shaded band (x, low, high) in its colour behind it.
    pub fn band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = band;
        self
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Lines (or dots when `scatter`), with labelled marker points (e.g. daily peaks).
    Lines {
        series: Vec<Series>,
        scatter: bool,
        marks: Vec<(f64, f64, String)>,
    },
    /// values[stack][category]; stacked or side by side.
    Bars {
        categories: Vec<String>,
        stacks: Vec<String>,
        values: Vec<Vec<f64>>,
        stacked: bool,
    },
    /// boxes[group][category] = [p5, p25, p50, p75, p95].
    Boxes {
        categories: Vec<String>,
        groups: Vec<String>,
        boxes: Vec<Vec<Option<[f64; 5]>>>,
    },
    /// values[layer][i] at x[i], stacked in order (the top edge is the total), with a dashed
    /// vertical line and its label at each of `marks` (x, label).
    Areas {
        x: Vec<f64>,
        names: Vec<String>,
        values: Vec<Vec<f64>>,
        marks: Vec<(f64, String)>,
    },
    /// A square matrix in [-1, 1]; marked cells get a star (p < 0.05).
    Heat {
        labels: Vec<String>,
        values: Vec<Vec<f64>>,
        marked: Vec<Vec<bool>>,
    },
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub body: Body,
}

impl Panel {
    pub fn lines(title: &str, x_label: &str, y_label: &str, series: Vec<Series>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            body: Body::Lines {
                series,
                scatter: false,
                marks: Vec::new(),
            },
        }
    }

    pub fn scatter(title: &str, x_label: &str, y_label: &str, series: Vec<Series>) -> Self {
        let mut p = Self::lines(title, x_label, y_label, series);
        if let Body::Lines { scatter, .. } = &mut p.body {
            *scatter = true;
        }
        p
    }

    pub fn body(title: &str, x_label: &str, y_label: &str, body: Body) -> Self {
        let mut p = Self::lines(title, x_label, y_label, Vec::new());
        p.body = body;
        p
    }

    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Triangles at `(x, y)`, each labelled beside it unless its label is empty.
    pub fn marks(mut self, m: Vec<(f64, f64, String)>) -> Self {
        if let Body::Lines { marks, .. } = &mut self.body {
            *marks = m;
        }
        self
    }
}

/// Draws panels on a grid of `cols` columns, each panel `size` pixels; returns the SVG text.
pub fn render(panels: &[Panel], cols: usize, size: (u32, u32)) -> Result<String> {
    let cols = cols.clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(cols).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.0 * cols as u32, size.1 * rows as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let areas = root.split_evenly((rows, cols));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, panel)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing chart: {e:?}")
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

fn draw_panel(area: &Area, p: &Panel) -> Result<()> {
    match &p.body {
        Body::Lines {
            series,
            scatter,
            marks,
        } => lines(area, p, series, *scatter, marks),
        Body::Bars {
            categories,
            stacks,
            values,
            stacked,
        } => bars(area, p, categories, stacks, values, *stacked),
        Body::Boxes {
            categories,
            groups,
            boxes,
        } => box_plot(area, p, categories, groups, boxes),
        Body::Heat {
            labels,
            values,
            marked,
        } => heat(area, p, labels, values, marked),
        Body::Areas {
            x,
            names,
            values,
            marks,
        } => areas::areas(area, p, x, names, values, marks),
    }
}

/// Axis tick text for one number on its own: 0.25, 10, 120k, 1.5M, 3e-3.
pub fn tick(v: f64) -> String {
    ticks::short(v)
}

fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// The data's range, padded a little; a linear axis starts where the data does.
fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if hi <= lo {
        // One value: ticks::Axis widens it around itself.
        return (lo, hi);
    }
    if log {
        let pad = (hi / lo).powf(0.03);
        (lo / pad, hi * pad)
    } else {
        let pad = (hi - lo) * 0.03;
        (lo - pad, hi + pad)
    }
}

/// Pixel room inside a panel of `w` × `h` for the plot itself, roughly: what ChartBuilder
/// leaves after the margin, the caption and the label areas.
fn room(area: &Area, y_label: i32, x_label: i32) -> (i32, i32) {
    let (w, h) = area.dim_in_pixel();
    (
        w as i32 - 2 * MARGIN - y_label,
        h as i32 - 2 * MARGIN - x_label - layout::text_height(layout::CAPTION) - 10,
    )
}

const MARGIN: i32 = 10;

/// An x axis over [lo, hi] with as many ticks as fit side by side in `px` pixels.
fn x_axis(lo: f64, hi: f64, log: bool, px: i32) -> Axis {
    let mut max = (px / 50).clamp(2, 12) as usize;
    loop {
        let a = Axis::new(lo, hi, log, max);
        let widest = widest_tick(&a);
        if max <= 2 || a.ticks.values.len() as i32 * (widest + 14) <= px {
            return a;
        }
        max -= 1;
    }
}

/// The width (pixels) of an axis's widest tick label.
fn widest_tick(a: &Axis) -> i32 {
    (a.ticks.labels.iter())
        .map(|l| layout::text_width(l, layout::LABEL))
        .max()
        .unwrap_or(0)
}

/// A y axis over [lo, hi], a tick every 32 pixels or more.
fn y_axis(lo: f64, hi: f64, log: bool, px: i32) -> Axis {
    Axis::new(lo, hi, log, (px / 32).clamp(2, 10) as usize)
}

/// The width of the y label area: the widest tick label and the axis name beside it.
fn y_label_area(y: &Axis, desc: &str) -> i32 {
    widest_tick(y)
        + 14
        + if desc.is_empty() {
            0
        } else {
            layout::text_height(layout::LABEL) + 6
        }
}

fn build<'a, 'b>(
    area: &'a Area<'b>,
    p: &Panel,
    x: Axis,
    y: Axis,
    x_label_area: i32,
) -> Result<Chart<'a, 'b>> {
    let y_area = y_label_area(&y, &p.y_label);
    ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", layout::CAPTION))
        .margin(MARGIN)
        .x_label_area_size(x_label_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// Draws the axes: ticks labelled by the axes themselves (x labels left out when `x_names`
/// are drawn upright instead).
fn mesh(chart: &mut Chart, p: &Panel, x_labels: bool, grid: bool) -> Result<()> {
    let (xs, ys) = {
        let spec = chart.as_coord_spec();
        (spec.x_spec().clone(), spec.y_spec().clone())
    };
    let label_style = ("sans-serif", layout::LABEL).into_font();
    let fx = |v: &f64| {
        if x_labels {
            xs.label(*v)
        } else {
            String::new()
        }
    };
    let fy = |v: &f64| ys.label(*v);
    let mut m = chart.configure_mesh();
    m.x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .label_style(label_style.clone())
        .axis_desc_style(label_style)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .bold_line_style(BLACK.mix(0.12));
    if !grid {
        m.disable_x_mesh();
    }
    m.draw().map_err(err)
}

fn entries(names: impl Iterator<Item = (String, RGBColor)>) -> Vec<layout::Entry> {
    names
        .filter(|(n, _)| !n.is_empty())
        .map(|(name, color)| layout::Entry { name, color })
        .collect()
}

/// Plot-area bounds in absolute pixels.
fn bounds(chart: &Chart) -> layout::Box2 {
    let (x, y) = chart.plotting_area().get_pixel_range();
    (x.start, y.start, x.end, y.end)
}

/// Writes `labels` beside their data points where they fit without meeting each other.
fn point_labels(chart: &Chart, labels: &[((f64, f64), String)]) -> Result<()> {
    let at: Vec<((i32, i32), String)> = labels
        .iter()
        .map(|(pt, t)| (chart.backend_coord(pt), t.clone()))
        .collect();
    let spots = layout::dodge(&at, bounds(chart), layout::SMALL);
    let style = ("sans-serif", layout::SMALL)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for ((pt, text), spot) in labels.iter().zip(spots) {
        if let Some(d) = spot {
            chart
                .plotting_area()
                .draw(&(EmptyElement::at(*pt) + Text::new(text.clone(), d, style.clone())))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Scatter points this few or fewer are labelled with their series' name.
const LABEL_POINTS: usize = 12;

fn lines(
    area: &Area,
    p: &Panel,
    series: &[Series],
    scatter: bool,
    marks: &[(f64, f64, String)],
) -> Result<()> {
    // The data a fit is compared with is drawn in black.
    let colour = |i: usize, s: &Series| if s.name == "data" { BLACK } else { color(i) };
    let legend = entries(
        series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), colour(i, s))),
    );
    let area = &layout::legend(area, &legend)?;
    let keep = |(x, y): &(f64, f64)| usable(*x, p.log_x) && usable(*y, p.log_y);
    let bands = || {
        series
            .iter()
            .flat_map(|s| s.band.iter().flat_map(|(x, lo, hi)| [(*x, *lo), (*x, *hi)]))
    };
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .chain(bands())
            .filter(|pt| keep(pt))
    };
    // The axes hold the marks too (a policy beside a sweep's curve may lie beyond it).
    let marked: Vec<(f64, f64)> = marks.iter().map(|(x, y, _)| (*x, *y)).collect();
    let all = || pts().chain(marked.iter().copied().filter(|pt| keep(pt)));
    let (x0, x1) = range(all().map(|p| p.0), p.log_x);
    let (y0, y1) = range(all().map(|p| p.1), p.log_y);
    let x_area = 24 + layout::text_height(layout::LABEL) * 2;
    let (_, ph) = room(area, 60, x_area);
    let y = y_axis(y0, y1, p.log_y, ph);
    let (pw, _) = room(area, y_label_area(&y, &p.y_label), x_area);
    let x = x_axis(x0, x1, p.log_x, pw);
    let mut chart = build(area, p, x, y, x_area)?;
    mesh(&mut chart, p, true, true)?;
    let dots = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|pt| keep(pt));
    let few = scatter && dots.count() <= LABEL_POINTS;
    // Bands first, so every line stays on top of every band.
    for (i, s) in series.iter().enumerate() {
        let band: Vec<&(f64, f64, f64)> = s
            .band
            .iter()
            .filter(|(x, lo, hi)| keep(&(*x, *lo)) && keep(&(*x, *hi)))
            .collect();
        if band.len() >= 2 {
            let outline: Vec<(f64, f64)> = band
                .iter()
                .map(|(x, lo, _)| (*x, *lo))
                .chain(band.iter().rev().map(|(x, _, hi)| (*x, *hi)))
                .collect();
            let fill = colour(i, s).mix(0.18).filled();
            chart
                .draw_series(std::iter::once(Polygon::new(outline, fill)))
                .map_err(err)?;
        }
    }
    let mut labels = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let c = colour(i, s);
        let pts: Vec<(f64, f64)> = s.points.iter().cloned().filter(keep).collect();
        if scatter {
            let r = if few { 6 } else { 3 };
            chart
                .draw_series(
                    pts.iter()
                        .map(|pt| Circle::new(*pt, r, c.mix(0.8).filled())),
                )
                .map_err(err)?;
            if few {
                chart
                    .draw_series(
                        pts.iter()
                            .map(|pt| Circle::new(*pt, r, WHITE.stroke_width(1))),
                    )
                    .map_err(err)?;
                labels.extend(pts.iter().map(|pt| (*pt, s.name.clone())));
            }
        } else {
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(err)?;
        }
    }
    let marks: Vec<_> = marks.iter().filter(|(x, y, _)| keep(&(*x, *y))).collect();
    chart
        .draw_series(marks.iter().map(|(x, y, _)| {
            EmptyElement::at((*x, *y)) + TriangleMarker::new((0, 0), 6, BLACK.filled())
        }))
        .map_err(err)?;
    labels.extend(
        marks
            .iter()
            .filter(|(_, _, l)| !l.is_empty())
            .map(|(x, y, l)| ((*x, *y), l.clone())),
    );
    point_labels(&chart, &labels)
}

/// An x axis of `n` categories at 0, 1, …, n − 1, and the height their names need under
/// the plot: upright names when they do not fit side by side in `px` pixels.
fn category_axis(names: &[String], px: i32) -> (Axis, Option<i32>) {
    let n = names.len().max(1);
    let axis = Axis::fixed(
        -0.5,
        n as f64 - 0.5,
        (0..names.len()).map(|i| i as f64).collect(),
        names.to_vec(),
    );
    let widest = names
        .iter()
        .map(|s| layout::text_width(s, layout::LABEL))
        .max()
        .unwrap_or(0);
    if (widest + 8) * n as i32 <= px {
        (axis, None)
    } else {
        (axis, Some(widest.min(UPRIGHT)))
    }
}

/// The most pixels an upright category name may take.
const UPRIGHT: i32 = 220;

/// A chart over categories: the x labels side by side, or upright when they do not fit.
fn category_chart<'a, 'b>(
    area: &'a Area<'b>,
    p: &Panel,
    names: &[String],
    y: (f64, f64),
    log: bool,
    grid: bool,
) -> Result<Chart<'a, 'b>> {
    let plain = 24 + layout::text_height(layout::LABEL) * 2;
    let (_, ph) = room(area, 60, plain);
    let probe = y_axis(y.0, y.1, log, ph);
    let (pw, _) = room(area, y_label_area(&probe, &p.y_label), plain);
    let (x, upright) = category_axis(names, pw);
    let x_area = upright.map_or(plain, |u| u + 14 + layout::text_height(layout::LABEL) + 6);
    let (_, ph) = room(area, 60, x_area);
    let y = y_axis(y.0, y.1, log, ph);
    let mut chart = build(area, p, x, y, x_area)?;
    mesh(&mut chart, p, upright.is_none(), grid)?;
    if let Some(u) = upright {
        let (_, bottom) = chart.backend_coord(&(0.0, chart.y_range().start));
        let xs: Vec<i32> = (0..names.len())
            .map(|i| chart.backend_coord(&(i as f64, 0.0)).0)
            .collect();
        layout::upright(area, &xs, bottom, names, u)?;
    }
    Ok(chart)
}

fn bars(
    area: &Area,
    p: &Panel,
    categories: &[String],
    stacks: &[String],
    values: &[Vec<f64>],
    stacked: bool,
) -> Result<()> {
    let n = categories.len();
    let top = if stacked {
        (0..n)
            .map(|c| values.iter().map(|v| v[c]).sum::<f64>())
            .fold(0.0, f64::max)
    } else {
        values.iter().flatten().cloned().fold(0.0, f64::max)
    };
    // One stack named like the axis needs no legend.
    let legend = if stacks.len() == 1 && (stacks[0] == p.y_label || stacks[0] == p.title) {
        Vec::new()
    } else {
        entries(
            stacks
                .iter()
                .enumerate()
                .map(|(s, n)| (n.clone(), color(s))),
        )
    };
    let area = &layout::legend(area, &legend)?;
    // Counts and shares start at zero.
    let mut chart = category_chart(
        area,
        p,
        categories,
        (0.0, (top * 1.05).max(1e-9)),
        false,
        false,
    )?;
    let width = 0.8;
    for (s, _) in stacks.iter().enumerate() {
        let c = color(s);
        let rects: Vec<_> = (0..n)
            .map(|cat| {
                let x = cat as f64;
                let (x0, x1, y0, y1) = if stacked {
                    let below: f64 = values[..s].iter().map(|v| v[cat]).sum();
                    (
                        x - width / 2.0,
                        x + width / 2.0,
                        below,
                        below + values[s][cat],
                    )
                } else {
                    let w = width / stacks.len() as f64;
                    let left = x - width / 2.0 + w * s as f64;
                    (left, left + w, 0.0, values[s][cat])
                };
                Rectangle::new([(x0, y0), (x1, y1)], c.filled())
            })
            .collect();
        chart.draw_series(rects).map_err(err)?;
    }
    Ok(())
}

fn box_plot(
    area: &Area,
    p: &Panel,
    categories: &[String],
    groups: &[String],
    boxes: &[Vec<Option<[f64; 5]>>],
) -> Result<()> {
    let vals = || {
        boxes
            .iter()
            .flatten()
            .flatten()
            .flat_map(|b| b.iter().cloned())
    };
    let legend = entries(
        groups
            .iter()
            .enumerate()
            .map(|(g, n)| (n.clone(), color(g))),
    );
    let area = &layout::legend(area, &legend)?;
    let y = range(vals().filter(|v| usable(*v, p.log_y)), p.log_y);
    let mut chart = category_chart(area, p, categories, y, p.log_y, false)?;
    let floor = chart.y_range().start;
    let tf = |v: f64| if p.log_y { v.max(floor) } else { v };
    let width = 0.8 / groups.len().max(1) as f64;
    for (g, _) in groups.iter().enumerate() {
        let c = color(g);
        let mut rects = Vec::new();
        let mut paths = Vec::new();
        for (cat, b) in boxes[g].iter().enumerate() {
            let Some(b) = b else { continue };
            let left = cat as f64 - 0.4 + width * g as f64 + width * 0.1;
            let right = left + width * 0.8;
            let mid = (left + right) / 2.0;
            rects.push(Rectangle::new(
                [(left, tf(b[1])), (right, tf(b[3]))],
                c.mix(0.5).filled(),
            ));
            paths.push(PathElement::new(
                vec![(left, tf(b[2])), (right, tf(b[2]))],
                BLACK.stroke_width(2),
            ));
            paths.push(PathElement::new(
                vec![(mid, tf(b[0])), (mid, tf(b[1]))],
                c.stroke_width(1),
            ));
            paths.push(PathElement::new(
                vec![(mid, tf(b[3])), (mid, tf(b[4]))],
                c.stroke_width(1),
            ));
        }
        chart.draw_series(paths).map_err(err)?;
        chart.draw_series(rects).map_err(err)?;
    }
    Ok(())
}

fn heat(
    area: &Area,
    p: &Panel,
    labels: &[String],
    values: &[Vec<f64>],
    marked: &[Vec<bool>],
) -> Result<()> {
    let n = labels.len();
    let rev: Vec<String> = labels.iter().rev().cloned().collect();
    let y = Axis::fixed(
        -0.5,
        n as f64 - 0.5,
        (0..n).map(|i| i as f64).collect(),
        rev,
    );
    let y_area = labels
        .iter()
        .map(|s| layout::text_width(s, layout::LABEL))
        .max()
        .unwrap_or(0)
        + 14;
    let (pw, _) = room(area, y_area, 0);
    let (x, upright) = category_axis(labels, pw);
    let x_area = upright.map_or(30, |u| u + 14);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", layout::CAPTION))
        .margin(MARGIN)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    let blank = Panel::body("", "", "", p.body.clone());
    mesh(&mut chart, &blank, upright.is_none(), false)?;
    if let Some(u) = upright {
        let (_, bottom) = chart.backend_coord(&(0.0, -0.5));
        let xs: Vec<i32> = (0..n)
            .map(|i| chart.backend_coord(&(i as f64, 0.0)).0)
            .collect();
        layout::upright(area, &xs, bottom, labels, u)?;
    }
    let mut rects = Vec::new();
    let mut texts = Vec::new();
    let style = ("sans-serif", layout::SMALL)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    for (i, row) in values.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let x = j as f64;
            rects.push(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                diverging(*v).filled(),
            ));
            let star = if marked[i][j] { "*" } else { "" };
            let text = if v.is_finite() {
                format!("{v:.2}{star}")
            } else {
                "n/a".into()
            };
            texts.push(Text::new(text, (x, y), style.clone()));
        }
    }
    chart.draw_series(rects).map_err(err)?;
    chart.draw_series(texts).map_err(err)?;
    Ok(())
}

/// Blue (−1) to white (0) to red (+1).
fn diverging(v: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(220, 220, 220);
    }
    let v = v.clamp(-1.0, 1.0);
    let mix = |a: u8, t: f64| (255.0 + (a as f64 - 255.0) * t).round() as u8;
    if v >= 0.0 {
        RGBColor(mix(180, v), mix(4, v), mix(38, v))
    } else {
        RGBColor(mix(59, -v), mix(76, -v), mix(192, -v))
    }
}

#[cfg(test)]
mod tests;
