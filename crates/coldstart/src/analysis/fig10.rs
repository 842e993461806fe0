//! Figure 10: cold start times and their arrivals. (a) cold start time CDF per region (or
//! `--by`), (b) distribution fits to all cold start times, (c) CDF of the time between
//! consecutive cold starts of a region, (d) fits to those gaps (Weibull in the paper).

use std::collections::BTreeMap;

use anyhow::Result;

use super::fits::{inter_arrivals, Fits, What};
use super::{cdf_table, key, num, Analysis, By, Cx, Output};
use crate::chart::Panel;
use crate::stats::{quantile_sorted, sort, LogHist};
use coldstart_trace::paper::median_inter_arrival;
use coldstart_trace::paper::{
    range_text, LOGNORMAL_COLD_START, MEDIAN_COLD_START_S, R1_MEAN_COLD_START_S,
    R3_MEAN_COLD_START_BELOW_S, WEIBULL_INTER_ARRIVAL,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        Box::new(Fig10a),
        Box::new(FitFigure(What::ColdStartTime)),
        Box::new(Fig10c),
        Box::new(FitFigure(What::InterArrival)),
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
}

struct FitFigure(What);

impl Analysis for FitFigure {
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
        let fits = Fits::compute(cx, self.0, false)?;
        let (dist, published) = match self.0 {
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
        out.panels = fits.panels(|_| self.title().to_string());
        out.tables.push(("fits".into(), fits.table()));
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
            let published = median_inter_arrival(r);
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
