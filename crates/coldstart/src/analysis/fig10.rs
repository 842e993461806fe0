//! Figure 10: cold start times and their arrivals. (a) cold start time CDF per region (or
//! `--by`), (b) distribution fits to all cold start times, (c) CDF of the time between
//! consecutive cold starts of a region, (d) fits to those gaps (Weibull in the paper).

use std::collections::BTreeMap;

use anyhow::Result;

use super::fits::{inter_arrivals, Fits, What};
use super::{cdf_table, figure, key, num, Analysis, By, Cx, Figure, Output};
use crate::chart::Panel;
use crate::stats::{quantile_sorted, sort, LogHist};
use coldstart_trace::paper::median_inter_arrival;
use coldstart_trace::paper::{
    range_text, LOGNORMAL_COLD_START, MEDIAN_COLD_START_S, R1_MEAN_COLD_START_S,
    R3_MEAN_COLD_START_BELOW_S, WEIBULL_INTER_ARRIVAL,
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
            out.numbers.push(key(
                format!("{r}: median cold start (s)"),
                num(c.f("median")[i]),
                &range_text(&MEDIAN_COLD_START_S),
            ));
            let published = match r.as_str() {
                "R1" => format!("about {R1_MEAN_COLD_START_S}"),
                "R3" => format!("under {R3_MEAN_COLD_START_BELOW_S}"),
                _ => "between".into(),
            };
            out.numbers.push(key(
                format!("{r}: mean cold start (s)"),
                num(c.f("mean")[i]),
                &published,
            ));
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
            out.numbers.push(key(
                format!("{dist} fit mean (s)"),
                num(f.fit.mean()),
                &format!("{:.2}", published.mean),
            ));
            out.numbers.push(key(
                format!("{dist} fit std (s)"),
                num(f.fit.std()),
                &format!("{:.2}", published.std),
            ));
        }
    }
    out.panels = fits.panels(|_| fig.title.to_string());
    out.tables.push(("fits".into(), fits.table()));
    Ok(out)
}

fn fig10c(fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let gaps = inter_arrivals(cx)?;
    let mut hists = BTreeMap::new();
    for (r, g) in gaps.iter() {
        let mut h = LogHist::new(-7, 6, 20);
        g.iter().for_each(|x| h.add(*x));
        hists.insert(r.clone(), h);
        let mut g = g.clone();
        sort(&mut g);
        let published = median_inter_arrival(r);
        out.numbers.push(key(
            format!("{r}: median time between cold starts (s)"),
            num(quantile_sorted(&g, 0.5)),
            published,
        ));
    }
    let (t, series) = cdf_table("region", "gap_s", &hists);
    out.panels =
        vec![Panel::lines(fig.title, "time between cold starts (s)", "CDF", series).log_x()];
    out.tables.push(("cdf".into(), t));
    Ok(out)
}
