//! Figure 7: the holiday. Running pods (mean over the hour of the summed per-minute `num_pods`)
//! and mean CPU usage (mean over function-minutes of `cpu_usage_avg`) per hour, each
//! normalised to its maximum over the same number of days before the holiday (days 5–13 for
//! the 9-day holiday 14–22), drawn for days 10–30.

use std::collections::BTreeMap;

use anyhow::Result;
use coldstart_trace::paper::{day_kind, DayKind, HOLIDAY};

use super::{figure, judged, sql_list, Analysis, Cx, Figure, Output, Units};
use crate::chart::{Panel, Series};
use crate::table::Table;
use coldstart_trace::paper::{
    holiday_effect, holiday_over_weekdays_pods, WEEKDAY_OVER_WEEKEND_PODS,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig7",
            "Load around the holiday",
            "Hourly running pods and mean CPU usage per region, normalised to their maximum over the 9 days before the holiday (days 5–13); days 10–30, holiday 14–22.",
            fig7,
        )
        .boxed(),
    ]
}

/// First and last day drawn.
const SHOWN: (i64, i64) = (10, 30);

fn fig7(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let regions = cx.minute_regions(&["num_pods", "cpu_usage_avg"]);
    let mut out = Output::new(2);
    out.skip_missing(
        cx.regions("minute_metrics"),
        &regions,
        "per-minute num_pods or cpu_usage_avg table missing",
    );
    if regions.is_empty() {
        out.skipped
            .push("no region has per-minute num_pods and cpu_usage_avg tables".into());
        return Ok(out);
    }
    let c = cx.columns(&format!(
        "SELECT region, minute / 60 AS hour, \
         SUM(CASE WHEN metric = 'num_pods' THEN value END) / 60.0 AS pods, \
         AVG(CASE WHEN metric = 'cpu_usage' AND stat = 'avg' THEN value END) AS cpu \
         FROM minute_metrics WHERE region IN ({}) AND \
         (metric = 'num_pods' OR (metric = 'cpu_usage' AND stat = 'avg')) \
         GROUP BY region, minute / 60",
        sql_list(&regions)
    ))?;
    let before =
        (*HOLIDAY.start() as i64 - HOLIDAY.clone().count() as i64)..*HOLIDAY.start() as i64;
    let mut per: BTreeMap<String, BTreeMap<i64, (f64, f64)>> = BTreeMap::new();
    for i in 0..c.len() {
        per.entry(c.s("region")[i].clone())
            .or_default()
            .insert(c.f("hour")[i] as i64, (c.f("pods")[i], c.f("cpu")[i]));
    }
    let (mut tr, mut th, mut tp) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tc, mut tpn, mut tcn) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sp, mut sc) = (Vec::new(), Vec::new());
    for (r, hours) in &per {
        let max_before = |f: fn(&(f64, f64)) -> f64| {
            hours
                .iter()
                .filter(|(h, _)| before.contains(&(**h / 24)))
                .map(|(_, v)| f(v))
                .filter(|v| v.is_finite())
                .fold(f64::NAN, f64::max)
        };
        let (mp, mc) = (max_before(|v| v.0), max_before(|v| v.1));
        let (mut pts_p, mut pts_c) = (Vec::new(), Vec::new());
        // Means by kind of day, for the weekday/weekend and holiday numbers.
        let mut by_kind: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (h, (p, cpu)) in hours {
            let day = h / 24;
            let (pn, cn) = (p / mp, cpu / mc);
            tr.push(r.clone());
            th.push(*h);
            tp.push(*p);
            tc.push(*cpu);
            tpn.push(pn);
            tcn.push(cn);
            if (SHOWN.0..=SHOWN.1).contains(&day) {
                pts_p.push((*h as f64 / 24.0, pn));
                pts_c.push((*h as f64 / 24.0, cn));
            }
            let kind = if before.contains(&day) && day_kind(day as u32) == DayKind::Weekday {
                Some("before")
            } else if HOLIDAY.contains(&(day as u32)) {
                Some("holiday")
            } else {
                None
            };
            for k in kind.into_iter().chain(match day_kind(day as u32) {
                DayKind::Weekday => Some("weekday"),
                DayKind::Weekend => Some("weekend"),
                DayKind::Holiday => None,
            }) {
                let e = by_kind.entry(k).or_insert((0.0, 0.0));
                e.0 += p;
                e.1 += 1.0;
            }
        }
        let mean = |k: &str| by_kind.get(k).map_or(f64::NAN, |(s, n)| s / n);
        out.numbers.push(judged(
            format!("{r}: running pods, weekday / weekend"),
            mean("weekday") / mean("weekend"),
            Units::Times,
            WEEKDAY_OVER_WEEKEND_PODS,
        ));
        out.numbers.push(
            judged(
                format!("{r}: running pods, holiday / working days before"),
                mean("holiday") / mean("before"),
                Units::Times,
                holiday_over_weekdays_pods(r),
            )
            .with_note(holiday_effect()),
        );
        sp.push(Series::new(r.clone(), pts_p));
        sc.push(Series::new(r.clone(), pts_c));
    }
    out.panels = vec![
        Panel::lines(
            "Running pods (normalised)",
            "day",
            "pods / pre-holiday max",
            sp,
        ),
        Panel::lines(
            "Mean CPU usage (normalised)",
            "day",
            "CPU / pre-holiday max",
            sc,
        ),
    ];
    out.tables.push((
        "hourly".into(),
        Table::new()
            .str("region", tr)
            .i64("hour", th)
            .f64("pods", tp)
            .f64("cpu", tc)
            .f64("pods_normalised", tpn)
            .f64("cpu_normalised", tcn),
    ));
    Ok(out)
}
