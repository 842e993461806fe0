//! Figure 15: cold start time and each component by runtime (regions with the functions
//! table), one CDF per runtime and panel per metric. The same routine draws figure 16 (by
//! trigger type) and figure 10a (by region).

use std::collections::BTreeMap;

use anyhow::Result;
use coldstart_sim::profile::RUNTIME_COLD_STARTS_R2;

use super::{cdf_table, floats, key, num, strings, Analysis, By, Cx, Output, COLD_START_METRICS};
use crate::chart::Panel;
use crate::stats::LogHist;
use crate::table::Table;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![Box::new(Fig15)]
}

struct Fig15;

/// R2's published cold starts of a runtime (spec section 4), with its share.
pub fn published_runtime(runtime: &str) -> String {
    let total: u64 = RUNTIME_COLD_STARTS_R2.iter().map(|r| r.1).sum();
    RUNTIME_COLD_STARTS_R2
        .iter()
        .find(|r| r.0 == runtime)
        .map_or("—".into(), |r| {
            format!("{} ({:.1} %)", r.1, r.1 as f64 / total as f64 * 100.0)
        })
}

/// CDFs of `metrics` per group, exact medians and counts per group.
pub fn component_cdfs(cx: &Cx, by: By, metrics: &[&str]) -> Result<Output> {
    let mut out = Output {
        cols: metrics.len().min(3),
        ..Default::default()
    };
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

/// Key numbers of a per-group summary: the median cold start of the named groups.
pub fn median_numbers(out: &mut Output, groups: &[(&str, &str)]) {
    let Some((_, t)) = out.tables.iter().find(|(n, _)| n == "summary") else {
        return;
    };
    let (names, medians) = match (&t.columns[0].1, t.columns.get(2).map(|c| &c.1)) {
        (crate::table::Col::Str(n), Some(crate::table::Col::F64(m))) => (n.clone(), m.clone()),
        _ => return,
    };
    for (g, published) in groups {
        if let Some(i) = names.iter().position(|n| n == g) {
            out.numbers.push(key(
                format!("R2: median cold start of {g} (s)"),
                num(medians[i]),
                published,
            ));
        }
    }
}

impl Analysis for Fig15 {
    fn id(&self) -> &'static str {
        "fig15"
    }
    fn title(&self) -> &'static str {
        "Cold start time and components by runtime"
    }
    fn caption(&self) -> &'static str {
        "CDFs of cold start time and each component, one line per runtime (log x)."
    }
    fn default_grouping(&self) -> Option<&'static str> {
        Some("runtime")
    }
    fn run(&self, cx: &Cx) -> Result<Output> {
        let by = cx.opts.by.unwrap_or(By::Runtime);
        let metrics = COLD_START_METRICS;
        let mut out = component_cdfs(cx, by, &metrics)?;
        if by == By::Runtime {
            median_numbers(&mut out, &[("Custom", "above 10"), ("http", "above 10")]);
        }
        Ok(out)
    }
}
