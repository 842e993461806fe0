//! Figure 14: per function, total requests against total cold starts, coloured by trigger type
//! (regions with the functions table). Requests come from the per-minute requests table (all
//! days) where present, else from the per-request rows, and then cold starts are counted over
//! the same days.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{figure, sql_list, Analysis, Cx, Figure, Output};
use crate::chart::{Panel, Series};
use crate::table::Table;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig14",
            "Requests against cold starts per function",
            "Per function: total requests against total cold starts, coloured by trigger type (log-log).",
            fig14,
        )
        .boxed(),
    ]
}

fn fig14(fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let Some(regions) = super::function_regions(cx, &mut out) else {
        return Ok(out);
    };
    let minute = cx.minute_regions(&["requests"]);
    let mut parts = Vec::new();
    let with_minute: Vec<String> = regions
        .iter()
        .filter(|r| minute.contains(r))
        .cloned()
        .collect();
    let without: Vec<String> = regions
        .iter()
        .filter(|r| !minute.contains(r))
        .cloned()
        .collect();
    if !with_minute.is_empty() {
        parts.push(format!(
            "SELECT m.region, m.funcID, m.requests, COALESCE(c.n, 0) AS cold_starts FROM \
             (SELECT region, funcID, SUM(value) AS requests FROM minute_metrics \
              WHERE metric = 'requests' AND region IN ({l}) GROUP BY region, funcID) m \
             LEFT JOIN (SELECT region, funcID, COUNT(*) AS n FROM cold_starts \
              WHERE region IN ({l}) GROUP BY region, funcID) c \
             ON m.funcID = c.funcID AND m.region = c.region",
            l = sql_list(&with_minute)
        ));
    }
    if !without.is_empty() {
        out.skipped.push(format!(
            "{}: no per-minute requests table; requests and cold starts of the per-request day only",
            without.join(", ")
        ));
        parts.push(format!(
            "SELECT q.region, q.funcID, q.requests, COALESCE(c.n, 0) AS cold_starts FROM \
             (SELECT region, funcID, CAST(COUNT(*) AS DOUBLE) AS requests FROM requests \
              WHERE region IN ({l}) GROUP BY region, funcID) q \
             LEFT JOIN (SELECT region, funcID, COUNT(*) AS n FROM cold_starts \
              WHERE region IN ({l}) AND day IN (SELECT DISTINCT day FROM requests) \
              GROUP BY region, funcID) c \
             ON q.funcID = c.funcID AND q.region = c.region",
            l = sql_list(&without)
        ));
    }
    let c = cx.columns(&format!(
        "SELECT x.region, x.funcID, concat(f.trigger_type, '-', f.invocation_type) AS trigger, \
         x.requests, CAST(x.cold_starts AS DOUBLE) AS cold_starts FROM ({}) x \
         JOIN functions f ON x.funcID = f.funcID AND x.region = f.region ORDER BY x.region, x.funcID",
        parts.join(" UNION ALL ")
    ))?;
    let mut groups: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for i in 0..c.len() {
        groups
            .entry(c.s("trigger")[i].as_str())
            .or_default()
            .push((c.f("requests")[i], c.f("cold_starts")[i]));
    }
    let series = groups
        .into_iter()
        .map(|(g, pts)| Series::new(g, pts))
        .collect();
    out.panels = vec![Panel::scatter(fig.title, "requests", "cold starts", series)
        .log_x()
        .log_y()];
    out.tables.push((
        "functions".into(),
        Table::new()
            .str("region", c.s("region").to_vec())
            .str("funcID", c.s("funcID").to_vec())
            .str("trigger", c.s("trigger").to_vec())
            .f64("requests", c.f("requests").to_vec())
            .f64("cold_starts", c.f("cold_starts").to_vec()),
    ));
    Ok(out)
}
