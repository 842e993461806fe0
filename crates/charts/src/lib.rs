//! SVG charts drawn the way the paper draws its figures: CDF and time-series lines, scatter
//! plots, (stacked) proportion bars, box plots and correlation heat maps, on log axes where the
//! paper uses them, arranged as panels of one figure. Built on plotters' SVG backend.

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

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
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
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

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing chart: {e:?}")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_panel(area: &Area, p: &Panel) -> Result<()> {
    match &p.body {
        Body::Lines {
            series,
            scatter,
            marks,
        } => {
            let pts = || {
                series
                    .iter()
                    .flat_map(|s| s.points.iter())
                    .filter(|(x, y)| usable(*x, p.log_x) && usable(*y, p.log_y))
            };
            let (x0, x1) = range(pts().map(|p| p.0), p.log_x);
            let (y0, y1) = range(pts().map(|p| p.1), p.log_y);
            match (p.log_x, p.log_y) {
                (false, false) => lines(area, p, x0..x1, y0..y1, series, *scatter, marks),
                (true, false) => lines(
                    area,
                    p,
                    (x0..x1).log_scale(),
                    y0..y1,
                    series,
                    *scatter,
                    marks,
                ),
                (false, true) => lines(
                    area,
                    p,
                    x0..x1,
                    (y0..y1).log_scale(),
                    series,
                    *scatter,
                    marks,
                ),
                (true, true) => lines(
                    area,
                    p,
                    (x0..x1).log_scale(),
                    (y0..y1).log_scale(),
                    series,
                    *scatter,
                    marks,
                ),
            }
        }
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
    }
}

/// Axis tick text: short decimals, powers of ten far from 1 (log axes land on 9.999… otherwise).
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        if hi <= lo * 1.0001 {
            return (lo / 2.0, hi * 2.0);
        }
        (lo / 1.2, hi * 1.2)
    } else {
        if hi <= lo {
            return (lo - 1.0, hi + 1.0);
        }
        let pad = (hi - lo) * 0.03;
        (if lo >= 0.0 { lo.max(0.0) } else { lo - pad }, hi + pad)
    }
}

fn lines<X, Y>(
    area: &Area,
    p: &Panel,
    x: X,
    y: Y,
    series: &[Series],
    scatter: bool,
    marks: &[(f64, f64, String)],
) -> Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    let keep = |(x, y): &(f64, f64)| usable(*x, p.log_x) && usable(*y, p.log_y);
    for (i, s) in series.iter().enumerate() {
        // The data a fit is compared with is drawn in black.
        let c = if s.name == "data" { BLACK } else { color(i) };
        let pts: Vec<(f64, f64)> = s.points.iter().cloned().filter(keep).collect();
        let drawn = if scatter {
            chart
                .draw_series(
                    pts.iter()
                        .map(|pt| Circle::new(*pt, 2, c.mix(0.6).filled())),
                )
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(err)?
        };
        if !s.name.is_empty() {
            drawn
                .label(&s.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 14, y + 4)], c.filled()));
        }
    }
    let marks: Vec<_> = marks.iter().filter(|(x, y, _)| keep(&(*x, *y))).collect();
    chart
        .draw_series(marks.iter().map(|(x, y, label)| {
            EmptyElement::at((*x, *y))
                + TriangleMarker::new((0, 0), 5, BLACK.filled())
                + Text::new(label.clone(), (4, -14), ("sans-serif", 11))
        }))
        .map_err(err)?;
    if series.iter().any(|s| !s.name.is_empty()) {
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

fn category_chart<'a, 'b>(
    area: &'a Area<'b>,
    p: &Panel,
    n: usize,
    y0: f64,
    y1: f64,
) -> Result<CategoryChart<'a, 'b>> {
    ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y0..y1)
        .map_err(err)
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
    let mut chart = category_chart(area, p, n, 0.0, (top * 1.05).max(1e-9))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&|x| label_at(categories, *x))
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .draw()
        .map_err(err)?;
    let width = 0.8;
    for (s, name) in stacks.iter().enumerate() {
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
        chart
            .draw_series(rects)
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 14, y + 4)], c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

type CategoryChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn legend<'a, 'b: 'a, C: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, C>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn label_at(categories: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    categories.get(i as usize).cloned().unwrap_or_default()
}

fn box_plot(
    area: &Area,
    p: &Panel,
    categories: &[String],
    groups: &[String],
    boxes: &[Vec<Option<[f64; 5]>>],
) -> Result<()> {
    let n = categories.len();
    let vals = || {
        boxes
            .iter()
            .flatten()
            .flatten()
            .flat_map(|b| b.iter().cloned())
    };
    let (lo, hi) = range(vals().filter(|v| usable(*v, p.log_y)), p.log_y);
    let (lo, hi) = if p.log_y {
        (lo.log10(), hi.log10())
    } else {
        (lo, hi)
    };
    let tf = |v: f64| if p.log_y { v.max(1e-12).log10() } else { v };
    let mut chart = category_chart(area, p, n, lo, hi)?;
    let log = p.log_y;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&|x| label_at(categories, *x))
        .y_label_formatter(&|y| {
            if log {
                format!("{:.3}", 10f64.powf(*y))
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            } else {
                format!("{y:.2}")
            }
        })
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .draw()
        .map_err(err)?;
    let width = 0.8 / groups.len().max(1) as f64;
    for (g, name) in groups.iter().enumerate() {
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
        chart
            .draw_series(rects)
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 14, y + 4)], c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn heat(
    area: &Area,
    p: &Panel,
    labels: &[String],
    values: &[Vec<f64>],
    marked: &[Vec<bool>],
) -> Result<()> {
    let n = labels.len();
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), -0.5..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n.max(1))
        .y_labels(n.max(1))
        .x_label_formatter(&|x| label_at(labels, *x))
        .y_label_formatter(&|y| label_at(labels, n as f64 - 1.0 - *y))
        .draw()
        .map_err(err)?;
    let mut rects = Vec::new();
    let mut texts = Vec::new();
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
            texts.push(Text::new(text, (x - 0.3, y + 0.1), ("sans-serif", 11)));
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
mod tests {
    use super::*;

    #[test]
    fn draws_every_kind_of_panel() {
        let panels = vec![
            Panel::lines(
                "cdf",
                "seconds",
                "CDF",
                vec![Series::new(
                    "R1",
                    vec![(0.01, 0.1), (1.0, 0.5), (100.0, 1.0)],
                )],
            )
            .log_x()
            .marks(vec![(1.0, 0.5, "peak".into())]),
            Panel::scatter("s", "x", "y", vec![Series::new("a", vec![(1.0, 2.0)])])
                .log_x()
                .log_y(),
            Panel::body(
                "bars",
                "",
                "share",
                Body::Bars {
                    categories: vec!["a".into(), "b".into()],
                    stacks: vec!["x".into(), "y".into()],
                    values: vec![vec![0.2, 0.5], vec![0.8, 0.5]],
                    stacked: true,
                },
            ),
            Panel::body(
                "box",
                "",
                "s",
                Body::Boxes {
                    categories: vec!["R1".into()],
                    groups: vec!["small".into(), "large".into()],
                    boxes: vec![vec![Some([0.1, 0.2, 0.3, 0.4, 0.5])], vec![None]],
                },
            )
            .log_y(),
            Panel::body(
                "heat",
                "",
                "",
                Body::Heat {
                    labels: vec!["a".into(), "b".into()],
                    values: vec![vec![1.0, -0.3], vec![-0.3, 1.0]],
                    marked: vec![vec![true, false], vec![false, true]],
                },
            ),
        ];
        assert_eq!(tick(9.999999999999998), "10");
        assert_eq!(tick(1e-6 - 1e-21), "1e-6");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1e7), "1e7");
        let svg = render(&panels, 2, (400, 300)).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "cdf", "R1", "peak", "bars", "small", "1.00*", "-0.30", "seconds",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
    }
}
