//! Figure 10: cold start times and their arrivals. (a) cold start time CDF per region (or
//! `--by`), (b) distribution fits to all cold start times, (c) CDF of the time between
//! consecutive cold starts of a region, (d) fits to those gaps (Weibull in the paper).

use std::collections::BTreeMap;

use anyhow::Result;

use super::fits::{inter_arrivals, Fits, What};
use super::{cdf_table, figure, judged, Analysis, By, Cx, Figure, Output, Units};
use crate::chart::Panel;
use crate::stats::{quantile_sorted, sort, LogHist};
use coldstart_trace::paper::{
    mean_cold_start, median_inter_arrival, LOGNORMAL_COLD_START, MEDIAN_COLD_START_S,
    WEIBULL_INTER_ARRIVAL,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig10a",
            "Cold start time",
            "CDF of cold start time (totalCost_cold_start) per region (log x).",
            fig10a,
        )
        .grouped_by("region")
        .boxed(),
        Figure::of(
            What::ColdStartTime,
            "fig10b",
            "Fits to cold start times",
            "Empirical CDF of all cold start times against maximum-likelihood LogNormal, Weibull, gamma and exponential fits (log x).",
            fitted,
        )
        .boxed(),
        figure(
            "fig10c",
            "Time between cold starts",
            "CDF of the gap between consecutive cold starts of a region (all its functions together), per region (log x; zero gaps at x = 0 in the table).",
            fig10c,
        )
        .boxed(),
        Figure::of(
            What::InterArrival,
            "fig10d",
            "Fits to times between cold starts",
            "Empirical CDF of the gaps between consecutive cold starts of a region against maximum-likelihood fits; zero gaps (simultaneous cold starts) are dropped and counted.",
            fitted,
        )
        .boxed(),
    ]
}

fn fig10a(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let by = cx.opts.by.unwrap_or(By::Region);
    let mut out = super::component_cdfs(cx, by, &["totalCost_cold_start"])?;
    if by == By::Region {
        let c = cx.columns(&format!(
            "SELECT region, median(totalCost_cold_start) AS median, avg(totalCost_cold_start) AS mean \
             FROM cold_starts WHERE true {} GROUP BY region ORDER BY region",
            cx.region_filter("region")
        ))?;
        for i in 0..c.len() {
            let r = &c.s("region")[i];
            out.numbers.push(judged(
                format!("{r}: median cold start (s)"),
                c.f("median")[i],
                Units::Plain,
                MEDIAN_COLD_START_S,
            ));
            let mean = judged(
                format!("{r}: mean cold start (s)"),
                c.f("mean")[i],
                Units::Plain,
                mean_cold_start(r),
            );
            out.numbers.push(match r.as_str() {
                "R1" | "R3" => mean,
                _ => mean.with_note(
                    "from about 3 s (R1) to under 0.3 s (R3): between R3's bound and the top of R1's about 3",
                ),
            });
        }
    }
    Ok(out)
}

fn fitted(fig: &Figure<What>, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    if cx.regions("cold_starts").is_empty() {
        out.skipped.push("no cold-start rows".into());
        return Ok(out);
    }
    let fits = Fits::compute(cx, fig.param, false)?;
    let size = super::size::of(cx)?;
    let (dist, published) = match fig.param {
        What::ColdStartTime => ("lognormal", LOGNORMAL_COLD_START),
        What::InterArrival => ("weibull", WEIBULL_INTER_ARRIVAL),
    };
    for g in &fits.groups {
        if g.sample.dropped > 0 {
            out.skipped.push(format!(
                "{}: {} non-positive values left out of the fits",
                g.name, g.sample.dropped
            ));
        }
        if let Some(f) = g.fits.iter().find(|f| f.fit.name() == dist) {
            let [mean, std] = published.targets();
            for (what, v, t) in [("mean", f.fit.mean(), mean), ("std", f.fit.std(), std)] {
                let what = format!("{dist} fit {what} (s)");
                out.numbers.push(match fig.param {
                    What::ColdStartTime => judged(what, v, Units::Plain, t),
                    What::InterArrival => size.gap(what, v, t),
                });
            }
        }
    }
    out.panels = fits.panels(|_| fig.title.to_string());
    out.tables.push(("fits".into(), fits.table()));
    Ok(out)
}

fn fig10c(fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let gaps = inter_arrivals(cx)?;
    let size = super::size::of(cx)?;
    let mut hists = BTreeMap::new();
    for (r, g) in gaps.iter() {
        let mut h = LogHist::new(-7, 6, 20);
        g.iter().for_each(|x| h.add(*x));
        hists.insert(r.clone(), h);
        let mut g = g.clone();
        sort(&mut g);
        out.numbers.push(size.gap(
            format!("{r}: median time between cold starts (s)"),
            quantile_sorted(&g, 0.5),
            median_inter_arrival(r),
        ));
    }
    let (t, series) = cdf_table("region", "gap_s", &hists);
    out.panels =
        vec![Panel::lines(fig.title, "time between cold starts (s)", "CDF", series).log_x()];
    out.tables.push(("cdf".into(), t));
    Ok(out)
}
