//! Figure 5: the daily cycle. Requests per minute of each region over its first three days,
//! smoothed by a centred 15-minute moving average and normalised to the window's maximum;
//! each day's largest smoothed value is marked as that day's peak.

use std::collections::BTreeMap;

use anyhow::Result;
use coldstart_trace::paper::fig5_peak_hour;

use super::{figure, judged, key, sql_list, Analysis, Cx, Figure, KeyNumber, Output, Units};
use crate::chart::{Panel, Series};
use crate::stats::moving_average;
use crate::table::Table;

pub const DAYS: i64 = 3;
pub use coldstart_trace::paper::FIG5_SMOOTHING_MINUTES as SMOOTHING_MINUTES;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig5",
            "Requests per minute over three days",
            "Requests per minute per region, days 0–2, 15-minute centred moving average, normalised to the maximum, a panel per region; triangles mark each day's peak, labelled with its time.",
            fig5,
        )
        .boxed(),
    ]
}

fn fig5(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let regions = cx.minute_regions(&["requests"]);
    let mut out = Output::new(2);
    out.skip_missing(
        cx.regions("cold_starts"),
        &regions,
        "no per-minute requests table",
    );
    if regions.is_empty() {
        return Ok(out);
    }
    let c = cx.columns(&format!(
        "SELECT region, minute, SUM(value) AS n FROM minute_metrics \
         WHERE metric = 'requests' AND day < {DAYS} AND region IN ({}) \
         GROUP BY region, minute",
        sql_list(&regions)
    ))?;
    let minutes = (DAYS * 1440) as usize;
    let mut raw: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..c.len() {
        let m = c.f("minute")[i] as usize;
        if m < minutes {
            raw.entry(c.s("region")[i].clone())
                .or_insert_with(|| vec![0.0; minutes])[m] = c.f("n")[i];
        }
    }
    // The days the store has (a release shorter than three days is drawn as long as it is).
    let last = raw
        .values()
        .filter_map(|v| v.iter().rposition(|x| *x > 0.0))
        .max();
    let days = last.map_or(0, |m| m / 1440 + 1).min(DAYS as usize);
    let minutes = days * 1440;
    for v in raw.values_mut() {
        v.truncate(minutes);
    }
    let (mut tr, mut tm, mut tn, mut ts, mut tnorm) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut pr, mut pd, mut pm, mut pv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, v) in &raw {
        let mut marks = Vec::new();
        let s = moving_average(v, SMOOTHING_MINUTES);
        let max = s.iter().cloned().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let norm: Vec<f64> = s.iter().map(|x| x / max).collect();
        for m in 0..minutes {
            tr.push(r.clone());
            tm.push(m as i64);
            tn.push(v[m]);
            ts.push(s[m]);
            tnorm.push(norm[m]);
        }
        for d in 0..days {
            let day = &norm[d * 1440..(d + 1) * 1440];
            let (i, y) = day
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |a, (i, y)| if *y > a.1 { (i, *y) } else { a },
                );
            let m = d * 1440 + i;
            // Each region has its own panel, so its few daily peaks are labelled.
            marks.push((m as f64 / 60.0, y, format!("{:02}:{:02}", i / 60, i % 60)));
            pr.push(r.clone());
            pd.push(d as i64);
            pm.push(m as i64);
            pv.push(y);
            let what = format!("{r}: day {d} peak");
            let at = format!("{:02}:{:02}", i / 60, i % 60);
            out.numbers.push(match fig5_peak_hour(r) {
                Some(hour) => KeyNumber {
                    measured: at,
                    ..judged(what, i as f64 / 60.0, Units::Plain, hour)
                }
                .with_note("read off the figure"),
                None => key(what, at, "—"),
            });
        }
        out.panels.push(
            Panel::lines(
                &format!("{r}: normalised requests per minute (15-min moving average)"),
                "hours since day 0",
                "requests / max",
                vec![Series::new(
                    "",
                    norm.iter()
                        .enumerate()
                        .step_by(5)
                        .map(|(m, y)| (m as f64 / 60.0, *y))
                        .collect(),
                )],
            )
            .marks(marks),
        );
    }
    out.tables.push((
        "series".into(),
        Table::new()
            .str("region", tr)
            .i64("minute", tm)
            .f64("requests", tn)
            .f64("smoothed", ts)
            .f64("normalised", tnorm),
    ));
    out.tables.push((
        "peaks".into(),
        Table::new()
            .str("region", pr)
            .i64("day", pd)
            .i64("minute", pm)
            .f64("normalised", pv),
    ));
    Ok(out)
}
