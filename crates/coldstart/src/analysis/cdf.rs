//! CDFs that several figures draw: long (group, x, cdf) tables from histograms or exact
//! samples, and the per-group CDFs of cold start time and its components (figures 10a, 15
//! and 16).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{floats, judged, strings, By, Cx, Output, Target, Units};
use crate::chart::{Panel, Series};
use crate::stats::LogHist;
use crate::table::Table;

/// Long CDF table (group, x, cdf) from histograms, and the matching chart series.
pub fn cdf_table(
    group_name: &str,
    x_name: &str,
    hists: &BTreeMap<String, LogHist>,
) -> (Table, Vec<Series>) {
    long_cdf(group_name, x_name, hists.iter().map(|(g, h)| (g, h.cdf())))
}

fn long_cdf<'a>(
    group_name: &str,
    x_name: &str,
    curves: impl Iterator<Item = (&'a String, Vec<(f64, f64)>)>,
) -> (Table, Vec<Series>) {
    let (mut g, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
    let mut series = Vec::new();
    for (name, pts) in curves {
        for (a, b) in &pts {
            g.push(name.clone());
            x.push(*a);
            y.push(*b);
        }
        series.push(Series::new(name.clone(), pts));
    }
    (
        Table::new().str(group_name, g).f64(x_name, x).f64("cdf", y),
        series,
    )
}

/// Exact empirical CDF of sorted data at its distinct values, thinned to about `max_points`
/// (the last point of each kept value is exact; the final point is always kept).
pub fn ecdf_points(sorted: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let mut pts = Vec::new();
    for i in 0..n {
        if i + 1 == n || sorted[i + 1] != sorted[i] {
            pts.push((sorted[i], (i + 1) as f64 / n as f64));
        }
    }
    if pts.len() > max_points {
        let step = pts.len().div_ceil(max_points);
        let last = *pts.last().expect("non-empty");
        pts = pts.into_iter().step_by(step).collect();
        if pts.last() != Some(&last) {
            pts.push(last);
        }
    }
    pts
}

/// Long exact-CDF table (group, x, cdf) from sorted samples per group.
pub fn ecdf_table(
    group_name: &str,
    x_name: &str,
    samples: &BTreeMap<String, Vec<f64>>,
) -> (Table, Vec<Series>) {
    long_cdf(
        group_name,
        x_name,
        samples.iter().map(|(g, v)| (g, ecdf_points(v, 2000))),
    )
}

/// CDFs of `metrics` per group, exact medians and counts per group.
pub fn component_cdfs(cx: &Cx, by: By, metrics: &[&str]) -> Result<Output> {
    let mut out = Output::new(metrics.len().min(3));
    if cx.regions("cold_starts").is_empty() {
        out.skipped.push("no cold-start rows".into());
        return Ok(out);
    }
    let join = if by.needs_functions() {
        if cx.regions("functions").is_empty() {
            out.skipped.push(format!(
                "no functions table: cold starts cannot be grouped by {} (R2 only in the release)",
                by.label()
            ));
            return Ok(out);
        }
        "JOIN functions f ON c.funcID = f.funcID AND c.region = f.region"
    } else {
        ""
    };
    let from = format!(
        "FROM cold_starts c {join} WHERE true {}",
        cx.region_filter("c.region")
    );
    let mut hists: Vec<BTreeMap<String, LogHist>> = vec![BTreeMap::new(); metrics.len()];
    let cols: Vec<String> = metrics.iter().map(|m| format!("c.{m}")).collect();
    cx.for_each(
        &format!("SELECT {} AS g, {} {from}", by.expr(), cols.join(", ")),
        |b| {
            let g = strings(b.column(0))?;
            for (m, h) in hists.iter_mut().enumerate() {
                let v = floats(b.column(m + 1))?;
                for (g, x) in g.iter().zip(v) {
                    h.entry(g.clone()).or_insert_with(LogHist::seconds).add(x);
                }
            }
            Ok(())
        },
    )?;
    let medians: Vec<String> = metrics
        .iter()
        .map(|m| format!("median(c.{m}) AS median_{m}"))
        .collect();
    let s = cx.columns(&format!(
        "SELECT {} AS g, COUNT(*) AS cold_starts, {} {from} GROUP BY {} ORDER BY cold_starts DESC",
        by.expr(),
        medians.join(", "),
        by.expr()
    ))?;
    let mut summary = Table::new().str(by.label(), s.s("g").to_vec()).i64(
        "cold_starts",
        s.f("cold_starts").iter().map(|x| *x as i64).collect(),
    );
    for m in metrics {
        summary = summary.f64(&format!("median_{m}"), s.f(&format!("median_{m}")).to_vec());
    }
    for (m, h) in metrics.iter().zip(&hists) {
        let (t, series) = cdf_table(by.label(), &format!("{m}_s"), h);
        out.panels.push(
            Panel::lines(&format!("{m} by {}", by.label()), "seconds", "CDF", series).log_x(),
        );
        out.tables.push((format!("cdf_{m}"), t));
    }
    out.tables.insert(0, ("summary".into(), summary));
    Ok(out)
}

/// Key numbers of a per-group summary: the median cold start of the named groups against their
/// published targets.
pub fn median_numbers(out: &mut Output, groups: &[(&str, Target)]) {
    let Some((_, t)) = out.tables.iter().find(|(n, _)| n == "summary") else {
        return;
    };
    let (names, medians) = match (&t.columns[0].1, t.columns.get(2).map(|c| &c.1)) {
        (crate::table::Col::Str(n), Some(crate::table::Col::F64(m))) => (n.clone(), m.clone()),
        _ => return,
    };
    for (g, published) in groups {
        if let Some(i) = names.iter().position(|n| n == g) {
            out.numbers.push(judged(
                format!("R2: median cold start of {g} (s)"),
                medians[i],
                Units::Plain,
                *published,
            ));
        }
    }
}
