//! Figure 8: what runs (regions with the functions table, R2 in the release). (a–c) running
//! pods per hour by trigger type, runtime and resource configuration; (d–f) the shares of
//! running pods (pod-minutes), cold starts and functions by the same three keys. A function
//! with several trigger types counts under its first listed one.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{judged, key, pct, Analysis, Cx, Figure, Output, Units};
use crate::chart::{Body, Panel};
use crate::table::Table;
use coldstart_trace::paper::{
    is_small_pool, runtime_share_r2, R2_OBS_A_POD_SHARE, R2_SMALL_POOL_COLD_START_SHARE,
    R2_TIMER_COLD_START_SHARE, R2_TIMER_FUNCTION_SHARE, R2_TIMER_POD_SHARE,
    R2_WORKFLOW_COLD_START_SHARE, SMALL_POOL_MAX_CPU, SMALL_POOL_MAX_MEMORY_MB,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    let running = "Mean running pods in each hour (per-minute num_pods summed over functions, averaged over the hour), stacked by group: the largest groups, the rest as other.";
    let shared = "Share of running pods (pod-minutes), cold starts and functions per group.";
    let mut v = Vec::new();
    for (dim, id, title) in [
        (
            Dim::Trigger,
            "fig8a",
            "Running pods per hour by trigger type",
        ),
        (Dim::Runtime, "fig8b", "Running pods per hour by runtime"),
        (
            Dim::Config,
            "fig8c",
            "Running pods per hour by resource configuration",
        ),
    ] {
        v.push(Figure::of(dim, id, title, running, running_pods).boxed());
    }
    for (dim, id, title) in [
        (
            Dim::Trigger,
            "fig8d",
            "Pods, cold starts and functions by trigger type",
        ),
        (
            Dim::Runtime,
            "fig8e",
            "Pods, cold starts and functions by runtime",
        ),
        (
            Dim::Config,
            "fig8f",
            "Pods, cold starts and functions by resource configuration",
        ),
    ] {
        v.push(Figure::of(dim, id, title, shared, shares).boxed());
    }
    v
}

#[derive(Clone, Copy, PartialEq)]
pub enum Dim {
    Trigger,
    Runtime,
    Config,
}

impl Dim {
    fn expr(self) -> &'static str {
        match self {
            Dim::Trigger => "concat(f.trigger_type, '-', f.invocation_type)",
            Dim::Runtime => "f.runtime",
            Dim::Config => {
                "concat(CAST(f.cpu_limit AS VARCHAR), '-', CAST(f.memory_limit AS VARCHAR))"
            }
        }
    }
    fn name(self) -> &'static str {
        match self {
            Dim::Trigger => "trigger",
            Dim::Runtime => "runtime",
            Dim::Config => "config",
        }
    }
}

const TOP: usize = 8;

/// Keeps the `TOP` largest groups and folds the rest into "other".
fn top_groups(totals: &BTreeMap<String, f64>) -> Vec<String> {
    let mut v: Vec<(&String, &f64)> = totals.iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter().take(TOP).map(|(k, _)| k.clone()).collect()
}

fn fold(g: &str, top: &[String]) -> String {
    if top.iter().any(|t| t == g) {
        g.to_string()
    } else {
        "other".into()
    }
}

fn running_pods(fig: &Figure<Dim>, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let Some(regions) = super::function_regions(cx, &mut out) else {
        return Ok(out);
    };
    let with_pods = cx.minute_regions(&["num_pods"]);
    let regions: Vec<String> = regions
        .into_iter()
        .filter(|r| with_pods.contains(r))
        .collect();
    if regions.is_empty() {
        out.skipped
            .push("no region has both the functions table and a per-minute num_pods table".into());
        return Ok(out);
    }
    let c = cx.columns(&format!(
        "SELECT m.region, {} AS g, m.minute / 60 AS hour, SUM(m.value) / 60.0 AS pods \
         FROM minute_metrics m JOIN functions f ON m.funcID = f.funcID AND m.region = f.region \
         WHERE m.metric = 'num_pods' AND m.region IN ({}) GROUP BY m.region, g, m.minute / 60",
        fig.param.expr(),
        super::sql_list(&regions)
    ))?;
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    for (g, p) in c.s("g").iter().zip(c.f("pods")) {
        *totals.entry(g.clone()).or_default() += p;
    }
    let top = top_groups(&totals);
    let mut lines: BTreeMap<(String, String), BTreeMap<i64, f64>> = BTreeMap::new();
    for i in 0..c.len() {
        let g = fold(&c.s("g")[i], &top);
        *lines
            .entry((c.s("region")[i].clone(), g))
            .or_default()
            .entry(c.f("hour")[i] as i64)
            .or_default() += c.f("pods")[i];
    }
    let (mut tr, mut tg, mut th, mut tp) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((r, g), hours) in &lines {
        for (h, p) in hours {
            tr.push(r.clone());
            tg.push(g.clone());
            th.push(*h);
            tp.push(*p);
        }
    }
    // Per region, the groups stacked as areas (largest at the bottom, "other" on top) over
    // every hour any of them has (an hour a group lacks counts 0 for it).
    let mut order = top.clone();
    order.push("other".into());
    for r in &regions {
        let groups: Vec<&String> = order
            .iter()
            .filter(|g| lines.contains_key(&(r.clone(), (*g).clone())))
            .collect();
        let mut hours: Vec<i64> = groups
            .iter()
            .flat_map(|g| lines[&(r.clone(), (*g).clone())].keys().copied())
            .collect();
        hours.sort_unstable();
        hours.dedup();
        let title = if regions.len() > 1 {
            format!("{}: {}", r, fig.title)
        } else {
            fig.title.to_string()
        };
        out.panels.push(Panel::body(
            &title,
            "day",
            "running pods",
            Body::Areas {
                x: hours.iter().map(|h| *h as f64 / 24.0).collect(),
                names: groups.iter().map(|g| (*g).clone()).collect(),
                values: groups
                    .iter()
                    .map(|g| {
                        let l = &lines[&(r.clone(), (*g).clone())];
                        hours
                            .iter()
                            .map(|h| l.get(h).copied().unwrap_or(0.0))
                            .collect()
                    })
                    .collect(),
                marks: Vec::new(),
            },
        ));
    }
    out.tables.push((
        "hourly".into(),
        Table::new()
            .str("region", tr)
            .str(fig.param.name(), tg)
            .i64("hour", th)
            .f64("running_pods", tp),
    ));
    Ok(out)
}

fn shares(fig: &Figure<Dim>, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let Some(regions) = super::function_regions(cx, &mut out) else {
        return Ok(out);
    };
    let list = super::sql_list(&regions);
    let e = fig.param.expr();
    let funcs = cx.columns(&format!(
        "SELECT {e} AS g, CAST(COUNT(*) AS DOUBLE) AS n FROM functions f WHERE f.region IN ({list}) GROUP BY g"
    ))?;
    let colds = cx.columns(&format!(
        "SELECT {e} AS g, CAST(COUNT(*) AS DOUBLE) AS n FROM cold_starts c JOIN functions f \
         ON c.funcID = f.funcID AND c.region = f.region WHERE c.region IN ({list}) GROUP BY g"
    ))?;
    let with_pods = cx.minute_regions(&["num_pods"]);
    let pod_regions: Vec<String> = regions
        .iter()
        .filter(|r| with_pods.contains(r))
        .cloned()
        .collect();
    let pods = if pod_regions.is_empty() {
        out.skipped
            .push("no per-minute num_pods table: pod shares left empty".into());
        super::Columns::default()
    } else {
        cx.columns(&format!(
            "SELECT {e} AS g, SUM(m.value) AS n FROM minute_metrics m JOIN functions f \
             ON m.funcID = f.funcID AND m.region = f.region \
             WHERE m.metric = 'num_pods' AND m.region IN ({}) GROUP BY g",
            super::sql_list(&pod_regions)
        ))?
    };
    let share = |c: &super::Columns| -> BTreeMap<String, f64> {
        if c.is_empty() {
            return BTreeMap::new();
        }
        let total: f64 = c.f("n").iter().sum();
        c.s("g")
            .iter()
            .zip(c.f("n"))
            .map(|(g, n)| (g.clone(), n / total))
            .collect()
    };
    let (sf, sc, sp) = (share(&funcs), share(&colds), share(&pods));
    let mut groups: Vec<String> = sf
        .keys()
        .chain(sc.keys())
        .chain(sp.keys())
        .cloned()
        .collect();
    groups.sort();
    groups.dedup();
    groups.sort_by(|a, b| {
        let k = |g: &String| sc.get(g).copied().unwrap_or(0.0) + sf.get(g).copied().unwrap_or(0.0);
        k(b).total_cmp(&k(a)).then(a.cmp(b))
    });
    let get = |m: &BTreeMap<String, f64>, g: &str| {
        m.get(g)
            .copied()
            .unwrap_or(if m.is_empty() { f64::NAN } else { 0.0 })
    };
    let shown: Vec<String> = groups.iter().take(12).cloned().collect();
    let values = vec![
        shown
            .iter()
            .map(|g| get(&sp, g))
            .map(|v| if v.is_finite() { v } else { 0.0 })
            .collect(),
        shown.iter().map(|g| get(&sc, g)).collect(),
        shown.iter().map(|g| get(&sf, g)).collect(),
    ];
    out.panels = vec![Panel::body(
        fig.title,
        fig.param.name(),
        "share",
        Body::Bars {
            categories: shown.clone(),
            stacks: vec![
                "running pods".into(),
                "cold starts".into(),
                "functions".into(),
            ],
            values,
            stacked: false,
        },
    )];
    // A share with no data behind it (no per-minute tables: no running pods) is NaN, which
    // prints as "n/a (no data)", not an empty sum's -0.0.
    let starts_with = |m: &BTreeMap<String, f64>, p: &str| -> f64 {
        if m.is_empty() {
            return f64::NAN;
        }
        m.iter()
            .filter(|(g, _)| g.starts_with(p))
            .map(|(_, v)| v)
            .sum()
    };
    match fig.param {
        Dim::Trigger => {
            for (what, shares, group, published) in [
                (
                    "timer share of functions",
                    &sf,
                    "TIMER",
                    R2_TIMER_FUNCTION_SHARE,
                ),
                (
                    "timer share of cold starts",
                    &sc,
                    "TIMER",
                    R2_TIMER_COLD_START_SHARE,
                ),
                (
                    "timer share of running pods",
                    &sp,
                    "TIMER",
                    R2_TIMER_POD_SHARE,
                ),
                (
                    "workflow share of cold starts",
                    &sc,
                    "workflow",
                    R2_WORKFLOW_COLD_START_SHARE,
                ),
            ] {
                out.numbers.push(judged(
                    format!("R2: {what}"),
                    starts_with(shares, group),
                    Units::Percent,
                    published,
                ));
            }
            out.numbers.push(
                judged(
                    "R2: OBS-A share of running pods",
                    get(&sp, "OBS-A"),
                    Units::Percent,
                    R2_OBS_A_POD_SHARE,
                )
                .with_note("read off Fig 8d"),
            );
        }
        Dim::Runtime => {
            // Shares, not counts: a store of another size has other counts.
            for (g, v) in &sc {
                let what = format!("R2: share of cold starts, {g}");
                out.numbers.push(match runtime_share_r2(g) {
                    Some(t) => judged(what, *v, Units::Percent, t),
                    None => key(what, pct(*v), "—"),
                });
            }
        }
        Dim::Config => {
            let small: f64 = sc
                .iter()
                .filter(|(g, _)| {
                    let mut it = g.split('-').map(|x| x.parse::<f64>().unwrap_or(f64::MAX));
                    matches!((it.next(), it.next()), (Some(c), Some(m)) if is_small_pool(c, m))
                })
                .map(|(_, v)| v)
                .sum();
            out.numbers.push(judged(
                format!("R2: cold starts in small configurations (≤ {SMALL_POOL_MAX_CPU} mCPU, ≤ {SMALL_POOL_MAX_MEMORY_MB} MB)"),
                small,
                Units::Percent,
                R2_SMALL_POOL_COLD_START_SHARE,
            ));
        }
    }
    out.tables.push((
        "shares".into(),
        Table::new()
            .str(fig.param.name(), groups.clone())
            .f64(
                "running_pods_share",
                groups.iter().map(|g| get(&sp, g)).collect(),
            )
            .f64(
                "cold_starts_share",
                groups.iter().map(|g| get(&sc, g)).collect(),
            )
            .f64(
                "functions_share",
                groups.iter().map(|g| get(&sf, g)).collect(),
            ),
    ));
    Ok(out)
}
