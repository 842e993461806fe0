//! Figure 6: burstiness. Each function's peak-to-trough ratio (see
//! [`crate::stats::peak_to_trough`] for the exact rule: hourly counts, centred 3-hour moving
//! average, largest daily peak over the lowest trough floored at one request per hour, 1 when
//! the smoothed series is flat) against (a) its median requests per day and (b) its number of
//! cold starts.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{judged, key, num, pct, sql_list, Analysis, Cx, Figure, KeyNumber, Output, Units};
use crate::chart::{Panel, Series};
use crate::stats::{peak_to_trough, quantile_sorted, sort};
use crate::table::Table;
use coldstart_trace::paper::{
    LARGEST_WORKLOADS_PEAK_TO_TROUGH, PEAK_TO_TROUGH_HIGHEST, PEAK_TO_TROUGH_LOWEST,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    let (a, b) = (
        "Per function: peak-to-trough ratio of hourly requests (3-h centred moving average; trough floored at 1 request/h; 1 without a peak) against its median requests per day (log-log).",
        "Per function: peak-to-trough ratio of hourly requests (3-h centred moving average; trough floored at 1 request/h; 1 without a peak) against its cold starts (log-log).",
    );
    // `param`: whether x is the function's cold starts (else its median requests per day).
    vec![
        Figure::of(
            false,
            "fig6a",
            "Peak-to-trough ratio vs requests per day",
            a,
            fig6,
        )
        .boxed(),
        Figure::of(
            true,
            "fig6b",
            "Peak-to-trough ratio vs cold starts",
            b,
            fig6,
        )
        .boxed(),
    ]
}

/// One function's burstiness.
pub struct Burst {
    pub region: String,
    pub func: String,
    pub ratio: f64,
    pub median_per_day: f64,
    pub cold_starts: f64,
}

/// Hourly series per function: from the per-minute requests table, else per-request rows.
pub fn burstiness(cx: &Cx) -> Result<(Vec<Burst>, Vec<String>)> {
    let (minute, fallback) = cx.request_sources("requests");
    let mut notes = Vec::new();
    let mut parts = Vec::new();
    if !minute.is_empty() {
        parts.push(format!(
            "SELECT region, funcID, minute / 60 AS hour, SUM(value) AS n FROM minute_metrics \
             WHERE metric = 'requests' AND region IN ({}) GROUP BY region, funcID, minute / 60",
            sql_list(&minute)
        ));
    }
    if !fallback.is_empty() {
        notes.push(format!(
            "{}: no per-minute requests table; hourly counts from the per-request rows (released day only)",
            fallback.join(", ")
        ));
        parts.push(format!(
            "SELECT region, funcID, CAST(floor(time_worker / 3600) AS BIGINT) AS hour, \
             CAST(COUNT(*) AS DOUBLE) AS n FROM requests WHERE region IN ({}) \
             GROUP BY region, funcID, CAST(floor(time_worker / 3600) AS BIGINT)",
            sql_list(&fallback)
        ));
    }
    if parts.is_empty() {
        notes.push("no per-minute requests table and no per-request rows".into());
        return Ok((Vec::new(), notes));
    }
    let c = cx.columns(&parts.join(" UNION ALL "))?;
    // Hours covered per region: whole days from the first to the last hour seen.
    let mut span: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for i in 0..c.len() {
        let h = c.f("hour")[i] as i64;
        let e = span.entry(c.s("region")[i].as_str()).or_insert((h, h));
        e.0 = e.0.min(h);
        e.1 = e.1.max(h);
    }
    let mut series: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    for i in 0..c.len() {
        let r = c.s("region")[i].as_str();
        let (first, last) = span[r];
        let d0 = first.div_euclid(24) * 24;
        let hours = ((last.div_euclid(24) + 1) * 24 - d0) as usize;
        let h = (c.f("hour")[i] as i64 - d0) as usize;
        series
            .entry((r, c.s("funcID")[i].as_str()))
            .or_insert_with(|| vec![0.0; hours])[h] += c.f("n")[i];
    }
    let cs = if cx.regions("cold_starts").is_empty() {
        super::Columns::default()
    } else {
        cx.columns(&format!(
            "SELECT region, funcID, COUNT(*) AS n FROM cold_starts WHERE true {} GROUP BY region, funcID",
            cx.region_filter("region")
        ))?
    };
    let mut colds: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for i in 0..cs.len() {
        colds.insert(
            (cs.s("region")[i].as_str(), cs.s("funcID")[i].as_str()),
            cs.f("n")[i],
        );
    }
    let mut out = Vec::new();
    for ((r, f), hourly) in &series {
        let mut daily: Vec<f64> = hourly.chunks(24).map(|d| d.iter().sum()).collect();
        sort(&mut daily);
        out.push(Burst {
            region: r.to_string(),
            func: f.to_string(),
            ratio: peak_to_trough(hourly),
            median_per_day: quantile_sorted(&daily, 0.5),
            cold_starts: colds.get(&(*r, *f)).copied().unwrap_or(0.0),
        });
    }
    Ok((out, notes))
}

fn fig6(fig: &Figure<bool>, cx: &Cx) -> Result<Output> {
    let memo = cx.memo("burstiness", || burstiness(cx))?;
    let (b, notes) = (&memo.0, memo.1.clone());
    let mut out = Output::new(1);
    out.skipped = notes;
    let mut by_region: BTreeMap<&str, Vec<&Burst>> = BTreeMap::new();
    for x in b {
        by_region.entry(&x.region).or_default().push(x);
    }
    let mut series = Vec::new();
    for (r, v) in &by_region {
        let mut ratios: Vec<f64> = v.iter().map(|x| x.ratio).collect();
        sort(&mut ratios);
        if !fig.param {
            out.numbers.push(key(
                format!("{r}: peak-to-trough ratio range (min – max)"),
                format!("{} – {}", num(ratios[0]), num(ratios[ratios.len() - 1])),
                "—",
            ));
            out.numbers.push(key(
                format!("{r}: functions with no identifiable peak (ratio 1)"),
                pct(ratios.iter().filter(|x| **x == 1.0).count() as f64 / ratios.len() as f64),
                "—",
            ));
        }
        series.push(Series::new(
            r.to_string(),
            v.iter()
                .map(|x| {
                    let xv = if fig.param {
                        x.cold_starts
                    } else {
                        x.median_per_day
                    };
                    (xv, x.ratio)
                })
                .collect(),
        ));
    }
    if !fig.param && !b.is_empty() {
        out.numbers.extend(span(b));
    }
    let x_label = if fig.param {
        "cold starts"
    } else {
        "median requests per day"
    };
    out.panels = vec![
        Panel::scatter(fig.title, x_label, "peak-to-trough ratio", series)
            .log_x()
            .log_y(),
    ];
    out.tables.push((
        "functions".into(),
        Table::new()
            .str("region", b.iter().map(|x| x.region.clone()).collect())
            .str("funcID", b.iter().map(|x| x.func.clone()).collect())
            .f64("peak_to_trough", b.iter().map(|x| x.ratio).collect())
            .f64(
                "median_requests_per_day",
                b.iter().map(|x| x.median_per_day).collect(),
            )
            .f64("cold_starts", b.iter().map(|x| x.cold_starts).collect()),
    ));
    Ok(out)
}

/// The paper's span of peak-to-trough ratios over all regions' functions (from under 2 to over
/// 1,000), and the highest ratio among the largest workloads (the 1 % of functions with the
/// most requests a day, at least one), which the paper puts under 60.
fn span(b: &[Burst]) -> Vec<KeyNumber> {
    let lowest = b.iter().map(|x| x.ratio).fold(f64::INFINITY, f64::min);
    let highest = b.iter().map(|x| x.ratio).fold(0.0, f64::max);
    let mut by_load: Vec<&Burst> = b.iter().collect();
    by_load.sort_by(|x, y| y.median_per_day.total_cmp(&x.median_per_day));
    let top = &by_load[..by_load.len().div_ceil(100)];
    let largest = top.iter().map(|x| x.ratio).fold(0.0, f64::max);
    vec![
        judged(
            "all regions: lowest peak-to-trough ratio",
            lowest,
            Units::Plain,
            PEAK_TO_TROUGH_LOWEST,
        ),
        judged(
            "all regions: highest peak-to-trough ratio",
            highest,
            Units::Plain,
            PEAK_TO_TROUGH_HIGHEST,
        ),
        judged(
            format!(
                "all regions: highest ratio of the largest workloads ({} functions, the top 1 % by requests a day)",
                top.len()
            ),
            largest,
            Units::Plain,
            LARGEST_WORKLOADS_PEAK_TO_TROUGH,
        ),
    ]
}
