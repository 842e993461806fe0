//! Figure 11: cold starts through the month and the day. Per region, for each hour of the
//! trace (the paper's figure: the holiday and the rise on day 23 visible) and for each hour of
//! the day (the mean over days), the mean of each of the four cold-start components (stacked;
//! their sum is close to the mean total) and the number of cold starts per hour.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{claim, figure, Analysis, Cx, Figure, Output};
use crate::chart::{Body, Panel, Series};
use crate::table::Table;
use coldstart_trace::paper::{largest_components, COMPONENTS, HOLIDAY};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig11",
            "Cold start components through the day",
            "Per region, for each hour of the trace (stacked areas, the holiday and day 23 marked) and each hour of the day (stacked bars): mean of each cold-start component, and cold starts per hour (lines; mean over days for the hour of day).",
            fig11,
        )
        .boxed(),
    ]
}

fn fig11(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(2);
    if cx.regions("cold_starts").is_empty() {
        out.skipped.push("no cold-start rows".into());
        return Ok(out);
    }
    // One scan: per hour of the trace, each component's sum and count of values (an average
    // skips missing ones, as SQL's does), the cold starts and the days they fall on. The hour
    // of day is summed from it.
    let sums: Vec<String> = COMPONENTS
        .iter()
        .chain(["totalCost_cold_start"].iter())
        .map(|c| format!("sum({c}) AS {c}_sum, CAST(count({c}) AS DOUBLE) AS {c}_n"))
        .collect();
    let month = cx.columns(&format!(
        "SELECT region, CAST(floor(time / 3600) AS BIGINT) AS hour, {}, \
         CAST(COUNT(*) AS DOUBLE) AS n, CAST(min(day) AS DOUBLE) AS dmin, \
         CAST(max(day) AS DOUBLE) AS dmax FROM cold_starts WHERE true {} \
         GROUP BY region, CAST(floor(time / 3600) AS BIGINT) ORDER BY region, hour",
        sums.join(", "),
        cx.region_filter("region")
    ))?;
    let mean_of = |comp: &str, rows: &mut dyn Iterator<Item = usize>| {
        let (sum, n) = (
            month.f(&format!("{comp}_sum")),
            month.f(&format!("{comp}_n")),
        );
        let (s, k) = rows.fold((0.0, 0.0), |(s, k), i| {
            if n[i] > 0.0 {
                (s + sum[i], k + n[i])
            } else {
                (s, k)
            }
        });
        if k > 0.0 {
            s / k
        } else {
            f64::NAN
        }
    };
    let means: Vec<Vec<f64>> = COMPONENTS
        .iter()
        .map(|comp| {
            (0..month.len())
                .map(|i| mean_of(comp, &mut std::iter::once(i)))
                .collect()
        })
        .collect();
    // Days with cold starts per region: from the hours when each falls on one day (as the
    // release has it, day = floor(time / 86400)), else counted apart.
    let mut ndays: BTreeMap<String, f64> = BTreeMap::new();
    if month
        .f("dmin")
        .iter()
        .zip(month.f("dmax"))
        .all(|(a, b)| a == b)
    {
        let mut seen: BTreeMap<&str, std::collections::BTreeSet<i64>> = BTreeMap::new();
        for (r, d) in month.s("region").iter().zip(month.f("dmin")) {
            seen.entry(r.as_str()).or_default().insert(*d as i64);
        }
        for (r, d) in seen {
            ndays.insert(r.to_string(), d.len() as f64);
        }
    } else {
        let days = cx.columns(&format!(
            "SELECT region, CAST(COUNT(DISTINCT day) AS DOUBLE) AS days FROM cold_starts \
             WHERE true {} GROUP BY region",
            cx.region_filter("region")
        ))?;
        for (r, d) in days.s("region").iter().zip(days.f("days")) {
            ndays.insert(r.clone(), *d);
        }
    }
    let mut per_month: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in month.s("region").iter().enumerate() {
        per_month.entry(r.as_str()).or_default().push(i);
    }
    // The hour of day: every hour of the trace that falls on it.
    let mut by_hour: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
    for (i, (r, h)) in month.s("region").iter().zip(month.f("hour")).enumerate() {
        by_hour
            .entry((r.as_str(), (*h as i64).rem_euclid(24)))
            .or_default()
            .push(i);
    }
    let mut hod = HourOfDay::default();
    for ((r, h), rows) in &by_hour {
        hod.region.push(r.to_string());
        hod.hour.push(*h as f64);
        for (k, comp) in COMPONENTS.iter().enumerate() {
            hod.comp[k].push(mean_of(comp, &mut rows.iter().copied()));
        }
        hod.total
            .push(mean_of("totalCost_cold_start", &mut rows.iter().copied()));
        hod.n.push(rows.iter().map(|i| month.f("n")[*i]).sum());
    }
    let c = &hod;
    let mut per: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in c.region.iter().enumerate() {
        per.entry(r.as_str()).or_default().push(i);
    }
    let mut table = Table::new()
        .str("region", c.region.to_vec())
        .i64("hour", c.hour.iter().map(|h| *h as i64).collect());
    for (k, comp) in COMPONENTS.iter().enumerate() {
        table = table.f64(&format!("mean_{comp}"), c.comp[k].clone());
    }
    table = table
        .f64("mean_totalCost_cold_start", c.total.to_vec())
        .f64(
            "cold_starts_per_hour",
            c.region
                .iter()
                .zip(&c.n)
                .map(|(r, n)| n / ndays[r.as_str()])
                .collect(),
        );
    for (r, rows) in &per {
        if let Some(hours) = per_month.get(r) {
            out.panels.extend(month_panels(r, &month, &means, hours));
        }
        let categories: Vec<String> = rows.iter().map(|i| format!("{}", c.hour[*i])).collect();
        let values: Vec<Vec<f64>> = (0..COMPONENTS.len())
            .map(|k| rows.iter().map(|i| c.comp[k][*i]).collect())
            .collect();
        out.panels.push(Panel::body(
            &format!("{r}: mean components per hour"),
            "hour of day",
            "seconds",
            Body::Bars {
                categories,
                stacks: COMPONENTS.iter().map(|s| s.to_string()).collect(),
                values,
                stacked: true,
            },
        ));
        out.panels.push(Panel::lines(
            &format!("{r}: cold starts per hour"),
            "hour of day",
            "cold starts",
            vec![Series::new(
                "",
                rows.iter()
                    .map(|i| (c.hour[*i], c.n[*i] / ndays[*r]))
                    .collect(),
            )],
        ));
        // Which component dominates the region over the whole day (weighted by count).
        let n: f64 = rows.iter().map(|i| c.n[*i]).sum();
        let mut comp_means: Vec<(&str, f64)> = COMPONENTS
            .iter()
            .enumerate()
            .map(|(k, comp)| {
                (
                    *comp,
                    rows.iter().map(|i| c.comp[k][*i] * c.n[*i]).sum::<f64>() / n,
                )
            })
            .collect();
        comp_means.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top2 = [comp_means[0].0, comp_means[1].0];
        let holds = match *r {
            "R1" => top2.contains(&"deployDependencyCost") && top2.contains(&"schedulingCost"),
            "R2" => top2[0] == "podAllocationCost" && top2.contains(&"schedulingCost"),
            _ => top2.contains(&"schedulingCost"),
        };
        out.numbers.push(claim(
            format!("{r}: largest components"),
            format!("{}, {}", top2[0], top2[1]),
            largest_components(r),
            holds,
        ));
    }
    out.tables.push(("hourly".into(), table));
    let mut hourly = Table::new().str("region", month.s("region").to_vec()).i64(
        "hour_of_trace",
        month.f("hour").iter().map(|h| *h as i64).collect(),
    );
    for (k, comp) in COMPONENTS.iter().enumerate() {
        hourly = hourly.f64(&format!("mean_{comp}"), means[k].clone());
    }
    out.tables.push((
        "month".into(),
        hourly.f64("cold_starts", month.f("n").to_vec()),
    ));
    Ok(out)
}

/// One region's month, hour by hour: its mean components (stacked areas; an hour without cold
/// starts is a gap at 0) with the holiday and the first working day after it marked, and its
/// cold starts per hour. The x axis is the day of the trace.
fn month_panels(
    region: &str,
    month: &crate::query::Columns,
    means: &[Vec<f64>],
    rows: &[usize],
) -> [Panel; 2] {
    let x: Vec<f64> = rows.iter().map(|i| month.f("hour")[*i] / 24.0).collect();
    let first = f64::from(*HOLIDAY.start());
    let after = f64::from(*HOLIDAY.end() + 1);
    let marks = vec![
        (first, "holiday".to_string()),
        (after, format!("day {after}")),
    ];
    let areas = Panel::body(
        &format!("{region}: mean components per hour of the trace"),
        "day",
        "seconds",
        Body::Areas {
            x: x.clone(),
            names: COMPONENTS.iter().map(|s| s.to_string()).collect(),
            values: means
                .iter()
                .map(|m| rows.iter().map(|i| m[*i]).collect())
                .collect(),
            marks,
        },
    );
    let counts = Panel::lines(
        &format!("{region}: cold starts per hour of the trace"),
        "day",
        "cold starts",
        vec![Series::new(
            "",
            x.iter()
                .zip(rows)
                .map(|(x, i)| (*x, month.f("n")[*i]))
                .collect(),
        )],
    );
    [areas, counts]
}

/// The hour-of-day profile of every region: one row per (region, hour of day).
#[derive(Default)]
struct HourOfDay {
    region: Vec<String>,
    hour: Vec<f64>,
    comp: [Vec<f64>; 4],
    total: Vec<f64>,
    n: Vec<f64>,
}
