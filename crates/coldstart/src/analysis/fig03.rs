//! Figure 3: how much functions are used. (a) requests per function per day, (b) mean
//! execution time per minute, (c) mean CPU usage per minute, one CDF per region.
//!
//! Sources: the per-minute tables where a region has them (all 31 days); otherwise the
//! per-request rows (the released day only), and the report says so.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{
    cdf_table, figure, judged, key, num, sql_list, Analysis, Cx, Figure, Output, Target, Units,
};
use crate::chart::Panel;
use crate::stats::{quantile_sorted, sort, LogHist};
use coldstart_trace::paper::{median_exec, per_minute_function_share, MEDIAN_CPU_CORES};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig3a",
            "Requests per function per day",
            "CDF over functions of the median day's request count, per region (log x).",
            fig3a,
        )
        .boxed(),
        figure(
            "fig3b",
            "Mean execution time per minute",
            "CDF over function-minutes of the mean request execution time (totalCost), per region (log x).",
            fig3b,
        )
        .boxed(),
        figure(
            "fig3c",
            "Mean CPU usage per minute",
            "CDF over function-minutes of the mean CPU usage of a request, per region (log x).",
            fig3c,
        )
        .boxed(),
    ]
}

/// Requests per function per day over the days the region's data covers (days with no request
/// count as 0): (funcID, the median day's, the mean day's) of each region.
type PerRegion = BTreeMap<String, Vec<(String, f64, f64)>>;

fn requests_per_day(cx: &Cx) -> Result<(PerRegion, Vec<String>)> {
    let (minute, fallback) = cx.request_sources("requests");
    let mut notes = Vec::new();
    let mut per_region: PerRegion = BTreeMap::new();
    let mut queries = Vec::new();
    if !minute.is_empty() {
        queries.push(format!(
            "SELECT region, funcID, day, SUM(value) AS n FROM minute_metrics \
             WHERE metric = 'requests' AND region IN ({}) GROUP BY region, funcID, day",
            sql_list(&minute)
        ));
    }
    if !fallback.is_empty() {
        notes.push(format!(
            "{}: no per-minute requests table; counted from the per-request rows (released day only)",
            fallback.join(", ")
        ));
        queries.push(format!(
            "SELECT region, funcID, day, COUNT(*) AS n FROM requests \
             WHERE region IN ({}) GROUP BY region, funcID, day",
            sql_list(&fallback)
        ));
    }
    if queries.is_empty() {
        notes.push("no per-minute requests table and no per-request rows".into());
    }
    for q in queries {
        let c = cx.columns(&q)?;
        // region -> days seen, and (region, func) -> per-day counts
        let mut days: BTreeMap<&str, std::collections::BTreeSet<i64>> = BTreeMap::new();
        let mut funcs: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
        for i in 0..c.len() {
            let r = c.s("region")[i].as_str();
            days.entry(r).or_default().insert(c.f("day")[i] as i64);
            funcs
                .entry((r, c.s("funcID")[i].as_str()))
                .or_default()
                .push(c.f("n")[i]);
        }
        for ((r, f), mut v) in funcs {
            v.resize(days[r].len(), 0.0);
            sort(&mut v);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            per_region.entry(r.to_string()).or_default().push((
                f.to_string(),
                quantile_sorted(&v, 0.5),
                mean,
            ));
        }
    }
    Ok((per_region, notes))
}

fn fig3a(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let (per_region, notes) = requests_per_day(cx)?;
    let mut hists = BTreeMap::new();
    let mut out = Output {
        skipped: notes,
        ..Default::default()
    };
    for (r, v) in &per_region {
        let mut h = LogHist::new(-1, 10, 20);
        v.iter().for_each(|(_, x, _)| h.add(*x));
        hists.insert(r.clone(), h);
        let mut xs: Vec<f64> = v.iter().map(|p| p.1).collect();
        sort(&mut xs);
        out.numbers.push(key(
            format!("{r}: median requests per function per day"),
            num(quantile_sorted(&xs, 0.5)),
            "—",
        ));
        // At least one request a minute on average: 1,440 a day over the days covered.
        let share = v.iter().filter(|f| f.2 >= 1440.0).count() as f64 / v.len() as f64;
        let what = format!("{r}: functions with at least one request a minute on average");
        out.numbers.push(match per_minute_function_share(r) {
            Some(t) => judged(what, share, Units::Percent, t).with_note("read off Fig 3a"),
            None => key(what, super::pct(share), "—"),
        });
    }
    let (t, series) = cdf_table("region", "requests_per_day", &hists);
    out.panels = vec![Panel::lines(
        "Requests per function per day (median day)",
        "requests per day",
        "CDF of functions",
        series,
    )
    .log_x()];
    out.cols = 1;
    out.tables.push(("cdf".into(), t));
    Ok(out)
}

/// Per-minute means of a request metric, from the per-minute `{metric}_avg` table or from
/// per-request rows averaged per function and minute.
fn per_minute_cdf(
    cx: &Cx,
    minute_metric: &str,
    request_column: &str,
    hist: fn() -> LogHist,
) -> Result<(BTreeMap<String, LogHist>, Vec<String>)> {
    let table = format!("{minute_metric}_avg");
    let (minute, fallback) = cx.request_sources(&table);
    let mut notes = Vec::new();
    let mut hists = BTreeMap::new();
    if !minute.is_empty() {
        hists = cx.hists(
            &format!(
                "SELECT region, value FROM minute_metrics WHERE metric = '{minute_metric}' \
                 AND stat = 'avg' AND region IN ({})",
                sql_list(&minute)
            ),
            hist,
        )?;
    }
    if !fallback.is_empty() {
        notes.push(format!(
            "{}: no per-minute {table} table; averaged from the per-request rows (released day only)",
            fallback.join(", ")
        ));
        let more = cx.hists(
            &format!(
                "SELECT region, AVG({request_column}) FROM requests WHERE region IN ({}) \
                 GROUP BY region, funcID, CAST(floor(time_worker / 60) AS BIGINT)",
                sql_list(&fallback)
            ),
            hist,
        )?;
        hists.extend(more);
    }
    if minute.is_empty() && fallback.is_empty() {
        notes.push(format!(
            "no per-minute {table} table and no per-request rows"
        ));
    }
    Ok((hists, notes))
}

/// What Fig 3b or 3c shows: the metric, where a request's value is, the histogram, the chart's
/// title and x label, and the published median of a region.
struct PerMinute {
    minute_metric: &'static str,
    request_column: &'static str,
    hist: fn() -> LogHist,
    title: &'static str,
    x_label: &'static str,
    published: fn(&str) -> Target,
}

fn per_minute_output(cx: &Cx, p: PerMinute) -> Result<Output> {
    let PerMinute {
        minute_metric,
        request_column,
        hist,
        title,
        x_label,
        published,
    } = p;
    let (hists, notes) = per_minute_cdf(cx, minute_metric, request_column, hist)?;
    let mut out = Output {
        skipped: notes,
        cols: 1,
        ..Default::default()
    };
    for (r, h) in &hists {
        out.numbers.push(judged(
            format!("{r}: median of {title}"),
            h.quantile(0.5),
            Units::Plain,
            published(r),
        ));
    }
    let (t, series) = cdf_table("region", x_label, &hists);
    out.panels = vec![Panel::lines(title, x_label, "CDF of function-minutes", series).log_x()];
    out.tables.push(("cdf".into(), t));
    Ok(out)
}

fn fig3b(_fig: &Figure, cx: &Cx) -> Result<Output> {
    per_minute_output(
        cx,
        PerMinute {
            minute_metric: "totalCost",
            request_column: "totalCost_worker",
            hist: LogHist::seconds,
            title: "Mean execution time per minute",
            x_label: "execution time (s)",
            published: median_exec,
        },
    )
}

fn fig3c(_fig: &Figure, cx: &Cx) -> Result<Output> {
    per_minute_output(
        cx,
        PerMinute {
            minute_metric: "cpu_usage",
            request_column: "cpu_usage",
            hist: || LogHist::new(-5, 3, 20),
            title: "Mean CPU usage per minute",
            x_label: "CPU usage (cores)",
            published: |_| MEDIAN_CPU_CORES,
        },
    )
}
