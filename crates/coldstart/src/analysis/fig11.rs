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
    let means: Vec<String> = COMPONENTS
        .iter()
        .map(|c| format!("avg({c}) AS {c}"))
        .collect();
    let c = cx.columns(&format!(
        "SELECT region, CAST(floor(time / 3600) AS BIGINT) % 24 AS hour, {}, \
         avg(totalCost_cold_start) AS total, CAST(COUNT(*) AS DOUBLE) AS n \
         FROM cold_starts WHERE true {} GROUP BY region, CAST(floor(time / 3600) AS BIGINT) % 24 \
         ORDER BY region, hour",
        means.join(", "),
        cx.region_filter("region")
    ))?;
    let days = cx.columns(&format!(
        "SELECT region, CAST(COUNT(DISTINCT day) AS DOUBLE) AS days FROM cold_starts WHERE true {} GROUP BY region",
        cx.region_filter("region")
    ))?;
    let ndays: BTreeMap<&str, f64> = days
        .s("region")
        .iter()
        .map(|s| s.as_str())
        .zip(days.f("days").iter().copied())
        .collect();
    let month = cx.columns(&format!(
        "SELECT region, CAST(floor(time / 3600) AS BIGINT) AS hour, {}, \
         CAST(COUNT(*) AS DOUBLE) AS n FROM cold_starts WHERE true {} \
         GROUP BY region, CAST(floor(time / 3600) AS BIGINT) ORDER BY region, hour",
        means.join(", "),
        cx.region_filter("region")
    ))?;
    let mut per_month: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in month.s("region").iter().enumerate() {
        per_month.entry(r.as_str()).or_default().push(i);
    }
    let mut per: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in c.s("region").iter().enumerate() {
        per.entry(r.as_str()).or_default().push(i);
    }
    let mut table = Table::new()
        .str("region", c.s("region").to_vec())
        .i64("hour", c.f("hour").iter().map(|h| *h as i64).collect());
    for comp in COMPONENTS {
        table = table.f64(&format!("mean_{comp}"), c.f(comp).to_vec());
    }
    table = table
        .f64("mean_totalCost_cold_start", c.f("total").to_vec())
        .f64(
            "cold_starts_per_hour",
            c.s("region")
                .iter()
                .zip(c.f("n"))
                .map(|(r, n)| n / ndays[r.as_str()])
                .collect(),
        );
    for (r, rows) in &per {
        if let Some(hours) = per_month.get(r) {
            out.panels.extend(month_panels(r, &month, hours));
        }
        let categories: Vec<String> = rows
            .iter()
            .map(|i| format!("{}", c.f("hour")[*i]))
            .collect();
        let values: Vec<Vec<f64>> = COMPONENTS
            .iter()
            .map(|comp| rows.iter().map(|i| c.f(comp)[*i]).collect())
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
                    .map(|i| (c.f("hour")[*i], c.f("n")[*i] / ndays[r]))
                    .collect(),
            )],
        ));
        // Which component dominates the region over the whole day (weighted by count).
        let n: f64 = rows.iter().map(|i| c.f("n")[*i]).sum();
        let mut comp_means: Vec<(&str, f64)> = COMPONENTS
            .iter()
            .map(|comp| {
                (
                    *comp,
                    rows.iter()
                        .map(|i| c.f(comp)[*i] * c.f("n")[*i])
                        .sum::<f64>()
                        / n,
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
    for comp in COMPONENTS {
        hourly = hourly.f64(&format!("mean_{comp}"), month.f(comp).to_vec());
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
fn month_panels(region: &str, month: &crate::query::Columns, rows: &[usize]) -> [Panel; 2] {
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
            values: COMPONENTS
                .iter()
                .map(|comp| rows.iter().map(|i| month.f(comp)[*i]).collect())
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
