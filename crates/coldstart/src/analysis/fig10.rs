//! Figure 10: cold start times and their arrivals. (a) cold start time CDF per region (or
//! `--by`), (b) distribution fits to all cold start times, (c) CDF of the time between
//! consecutive cold starts of a region, (d) fits to those gaps (Weibull in the paper).

use std::collections::BTreeMap;

use anyhow::Result;

use super::{cdf_table, key, num, Analysis, By, Cx, Output};
use crate::chart::Panel;
use crate::fit::{fit_all, fit_panel, fits_table, inter_arrivals, samples, What};
use crate::stats::{quantile_sorted, sort, LogHist};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        Box::new(Fig10a),
        Box::new(Fits(What::ColdStartTime)),
        Box::new(Fig10c),
        Box::new(Fits(What::InterArrival)),
    ]
}

struct Fig10a;

impl Analysis for Fig10a {
    fn id(&self) -> &'static str {
        "fig10a"
    }
    fn title(&self) -> &'static str {
        "Cold start time"
    }
    fn caption(&self) -> &'static str {
        "CDF of cold start time (totalCost_cold_start) per region (log x)."
    }
    fn default_grouping(&self) -> Option<&'static str> {
        Some("region")
    }
    fn run(&self, cx: &Cx) -> Result<Output> {
        let by = cx.opts.by.unwrap_or(By::Region);
        let mut out = super::fig15::component_cdfs(cx, by, &["totalCost_cold_start"])?;
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
                    "0.1 to 2",
                ));
                let published = match r.as_str() {
                    "R1" => "about 3",
                    "R3" => "under 0.3",
                    _ => "between",
                };
                out.numbers.push(key(
                    format!("{r}: mean cold start (s)"),
                    num(c.f("mean")[i]),
                    published,
                ));
            }
        }
        Ok(out)
    }
}

struct Fits(What);

impl Analysis for Fits {
    fn id(&self) -> &'static str {
        match self.0 {
            What::ColdStartTime => "fig10b",
            What::InterArrival => "fig10d",
        }
    }
    fn title(&self) -> &'static str {
        match self.0 {
            What::ColdStartTime => "Fits to cold start times",
            What::InterArrival => "Fits to times between cold starts",
        }
    }
    fn caption(&self) -> &'static str {
        match self.0 {
            What::ColdStartTime => "Empirical CDF of all cold start times against maximum-likelihood LogNormal, Weibull, gamma and exponential fits (log x).",
            What::InterArrival => "Empirical CDF of the gaps between consecutive cold starts of a region against maximum-likelihood fits; zero gaps (simultaneous cold starts) are dropped and counted.",
        }
    }
    fn run(&self, cx: &Cx) -> Result<Output> {
        let mut out = Output {
            cols: 1,
            ..Default::default()
        };
        if cx.regions("cold_starts").is_empty() {
            out.skipped.push("no cold-start rows".into());
            return Ok(out);
        }
        let s = samples(cx, self.0, false)?;
        let mut rows = Vec::new();
        let mut dropped = BTreeMap::new();
        for (g, sample) in &s {
            let fits = fit_all(&sample.sorted);
            dropped.insert(g.clone(), sample.dropped);
            if sample.dropped > 0 {
                out.skipped.push(format!(
                    "{g}: {} non-positive values left out of the fits",
                    sample.dropped
                ));
            }
            out.panels
                .push(fit_panel(self.title(), self.0.label(), sample, &fits));
            let (dist, pm, ps) = match self.0 {
                What::ColdStartTime => ("lognormal", "3.24", "7.10"),
                What::InterArrival => ("weibull", "1.25", "3.66"),
            };
            if let Some(f) = fits.iter().find(|f| f.fit.name() == dist) {
                out.numbers
                    .push(key(format!("{dist} fit mean (s)"), num(f.fit.mean()), pm));
                out.numbers
                    .push(key(format!("{dist} fit std (s)"), num(f.fit.std()), ps));
            }
            rows.extend(fits.into_iter().map(|f| (g.clone(), f)));
        }
        out.tables
            .push(("fits".into(), fits_table(&rows, &dropped)));
        Ok(out)
    }
}

struct Fig10c;

impl Analysis for Fig10c {
    fn id(&self) -> &'static str {
        "fig10c"
    }
    fn title(&self) -> &'static str {
        "Time between cold starts"
    }
    fn caption(&self) -> &'static str {
        "CDF of the gap between consecutive cold starts of a region (all its functions together), per region (log x; zero gaps at x = 0 in the table)."
    }
    fn run(&self, cx: &Cx) -> Result<Output> {
        let mut out = Output {
            cols: 1,
            ..Default::default()
        };
        let gaps = inter_arrivals(cx)?;
        let mut hists = BTreeMap::new();
        for (r, g) in gaps.iter() {
            let mut h = LogHist::new(-7, 6, 20);
            g.iter().for_each(|x| h.add(*x));
            hists.insert(r.clone(), h);
            let mut g = g.clone();
            sort(&mut g);
            let published = match r.as_str() {
                "R1" => "about 0.1",
                "R3" => "several seconds",
                _ => "0.1 to several",
            };
            out.numbers.push(key(
                format!("{r}: median time between cold starts (s)"),
                num(quantile_sorted(&g, 0.5)),
                published,
            ));
        }
        let (t, series) = cdf_table("region", "gap_s", &hists);
        out.panels =
            vec![Panel::lines(self.title(), "time between cold starts (s)", "CDF", series).log_x()];
        out.tables.push(("cdf".into(), t));
        Ok(out)
    }
}
