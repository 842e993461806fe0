//! Figure 4: users. (a) functions per user, (b) requests per user, one CDF per region.
//!
//! A user's functions are the funcIDs seen under its userID in the cold-start and per-request
//! rows; its requests come from the per-minute requests table (all days) where the region has
//! one, else from the per-request rows (released day only).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{
    ecdf_table, figure, judged, key, num, pct, sql_list, Analysis, Cx, Figure, Output, Units,
};
use crate::chart::Panel;
use crate::stats::{quantile_sorted, sort};
use coldstart_trace::paper::{users_over_1000_requests, SINGLE_FUNCTION_USERS};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig4a",
            "Functions per user",
            "CDF over users of how many functions each owns, per region (log x).",
            fig4a,
        )
        .boxed(),
        figure(
            "fig4b",
            "Requests per user",
            "CDF over users of their total requests (all days from the per-minute table; else the released day), per region (log x).",
            fig4b,
        )
        .boxed(),
    ]
}

fn grouped(c: &super::Columns, value: &str) -> BTreeMap<String, Vec<f64>> {
    let mut m: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (r, v) in c.s("region").iter().zip(c.f(value)) {
        m.entry(r.clone()).or_default().push(*v);
    }
    for v in m.values_mut() {
        sort(v);
    }
    m
}

fn fig4a(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut parts = Vec::new();
    for t in ["cold_starts", "requests"] {
        let regions = cx.regions(t);
        if !regions.is_empty() {
            parts.push(format!(
                "SELECT DISTINCT region, userID, funcID FROM {t} WHERE region IN ({})",
                sql_list(&regions)
            ));
        }
    }
    let mut out = Output::new(1);
    if parts.is_empty() {
        out.skipped
            .push("no cold-start or per-request rows in the store".into());
        return Ok(out);
    }
    let c = cx.columns(&format!(
        "SELECT region, userID, COUNT(*) AS functions FROM \
         (SELECT DISTINCT region, userID, funcID FROM ({})) GROUP BY region, userID",
        parts.join(" UNION ALL ")
    ))?;
    let m = grouped(&c, "functions");
    for (r, v) in &m {
        let single = v.iter().filter(|x| **x == 1.0).count() as f64 / v.len() as f64;
        out.numbers.push(judged(
            format!("{r}: users owning a single function"),
            single,
            Units::Percent,
            SINGLE_FUNCTION_USERS,
        ));
    }
    let (t, series) = ecdf_table("region", "functions_per_user", &m);
    out.panels =
        vec![Panel::lines("Functions per user", "functions", "CDF of users", series).log_x()];
    out.tables.push(("cdf".into(), t));
    Ok(out)
}

fn fig4b(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let (minute, fallback) = cx.request_sources("requests");
    let mut out = Output::new(1);
    let mut parts = Vec::new();
    if !minute.is_empty() {
        parts.push(format!(
            "SELECT region, split_part(funcID, '---', 2) AS userID, SUM(value) AS n \
             FROM minute_metrics WHERE metric = 'requests' AND region IN ({}) \
             GROUP BY region, split_part(funcID, '---', 2)",
            sql_list(&minute)
        ));
    }
    if !fallback.is_empty() {
        out.skipped.push(format!(
            "{}: no per-minute requests table; counted from the per-request rows (released day only)",
            fallback.join(", ")
        ));
        parts.push(format!(
            "SELECT region, CAST(userID AS VARCHAR) AS userID, CAST(COUNT(*) AS DOUBLE) AS n \
             FROM requests WHERE region IN ({}) GROUP BY region, userID",
            sql_list(&fallback)
        ));
    }
    if parts.is_empty() {
        out.skipped
            .push("no per-minute requests table and no per-request rows".into());
        return Ok(out);
    }
    let c = cx.columns(&parts.join(" UNION ALL "))?;
    let m = grouped(&c, "n");
    for (r, v) in &m {
        out.numbers.push(key(
            format!("{r}: median requests per user"),
            num(quantile_sorted(v, 0.5)),
            "—",
        ));
        let over = v.iter().filter(|n| **n > 1000.0).count() as f64 / v.len() as f64;
        let what = format!("{r}: users with more than 1,000 requests");
        out.numbers.push(match users_over_1000_requests(r) {
            Some(t) if fallback.contains(r) => judged(what, over, Units::Percent, t)
                .not_comparable("counted on the released day only, the paper over 31 days"),
            Some(t) if r == "R1" => {
                judged(what, over, Units::Percent, t).with_note("read off Fig 4b")
            }
            Some(t) => judged(what, over, Units::Percent, t),
            None => key(what, pct(over), "—"),
        });
    }
    let (t, series) = ecdf_table("region", "requests_per_user", &m);
    out.panels =
        vec![Panel::lines("Requests per user", "requests", "CDF of users", series).log_x()];
    out.tables.push(("cdf".into(), t));
    Ok(out)
}
