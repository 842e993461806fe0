//! Figure 13: small against large pools. Box plots (5th, 25th, 50th, 75th, 95th percentiles,
//! linear interpolation as pandas) of cold start time and each component per region, for
//! small pools (≤ 400 mCPU and ≤ 256 MB) and large ones. Zeros of deployDependencyCost
//! (functions without dependencies) are left out of that component, as in the paper.

use std::collections::BTreeMap;

use anyhow::Result;

use datafusion::arrow::array::AsArray;

use super::{figure, floats, judged, Analysis, Cx, Figure, Output, Units};
use crate::chart::{Body, Panel};
use crate::stats::{quantile_sorted, sort};
use crate::table::Table;
use coldstart_trace::paper::large_over_small_pool_median;
use coldstart_trace::paper::COLD_START_METRICS;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig13",
            "Small against large pools",
            "Box plots (5/25/50/75/95th percentiles, log y) of cold start time and components per region, small pools (≤ 400 mCPU, ≤ 256 MB) vs large; deployDependencyCost zeros excluded.",
            fig13,
        )
        .boxed(),
    ]
}

const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Quantiles, count and mean of one box.
type BoxStats = ([f64; 5], usize, f64);

fn fig13(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(3);
    let regions = cx.regions("cold_starts");
    if regions.is_empty() {
        out.skipped.push("no cold-start rows".into());
        return Ok(out);
    }
    let metrics = COLD_START_METRICS;
    // (metric, region, pool) -> quantiles, count, mean
    let mut stats: BTreeMap<(usize, String, &str), BoxStats> = BTreeMap::new();
    for r in &regions {
        let mut vals: BTreeMap<(&str, usize), Vec<f64>> = BTreeMap::new();
        cx.for_each(
            &format!(
                "SELECT ({}) AS small, {} \
                 FROM cold_starts c WHERE c.region = '{}'",
                super::small_pool("c"),
                metrics.join(", "),
                r.replace('\'', "''")
            ),
            |b| {
                let small = b.column(0).as_boolean();
                for (m, metric) in metrics.iter().enumerate() {
                    let v = floats(b.column(m + 1))?;
                    for (i, x) in v.into_iter().enumerate() {
                        if *metric == "deployDependencyCost" && x == 0.0 {
                            continue;
                        }
                        let key = (if small.value(i) { "small" } else { "large" }, m);
                        vals.entry(key).or_default().push(x);
                    }
                }
                Ok(())
            },
        )?;
        for ((pool, m), mut v) in vals {
            sort(&mut v);
            let q = QUANTILES.map(|q| quantile_sorted(&v, q));
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            stats.insert((m, r.clone(), pool), (q, v.len(), mean));
        }
        let med = |pool| {
            stats
                .get(&(0, r.clone(), pool))
                .map_or(f64::NAN, |s| s.0[2])
        };
        out.numbers.push(
            judged(
                format!("{r}: median cold start, large / small pools"),
                med("large") / med("small"),
                Units::Times,
                large_over_small_pool_median(r),
            )
            .with_note("1x (R5) to 5x (R3), each within a factor of 4/3"),
        );
    }
    let pools = ["small", "large"];
    for (m, metric) in metrics.iter().enumerate() {
        let boxes = pools
            .iter()
            .map(|p| {
                regions
                    .iter()
                    .map(|r| stats.get(&(m, r.clone(), *p)).map(|s| s.0))
                    .collect()
            })
            .collect();
        out.panels.push(
            Panel::body(
                metric,
                "region",
                "seconds",
                Body::Boxes {
                    categories: regions.clone(),
                    groups: pools.iter().map(|s| s.to_string()).collect(),
                    boxes,
                },
            )
            .log_y(),
        );
    }
    let rows: Vec<_> = stats.iter().collect();
    let mut t = Table::new()
        .str(
            "metric",
            rows.iter()
                .map(|((m, _, _), _)| metrics[*m].to_string())
                .collect(),
        )
        .str(
            "region",
            rows.iter().map(|((_, r, _), _)| r.clone()).collect(),
        )
        .str(
            "pool",
            rows.iter().map(|((_, _, p), _)| p.to_string()).collect(),
        )
        .i64("n", rows.iter().map(|(_, s)| s.1 as i64).collect())
        .f64("mean", rows.iter().map(|(_, s)| s.2).collect());
    for (i, q) in QUANTILES.iter().enumerate() {
        t = t.f64(
            &format!("p{:02}", (q * 100.0).round() as i64),
            rows.iter().map(|(_, s)| s.0[i]).collect(),
        );
    }
    out.tables.push(("boxes".into(), t));
    Ok(out)
}
