//! Distribution fits of cold-start times and of the gaps between cold starts (figures 10b and
//! 10d, and `coldstart fit`): maximum-likelihood LogNormal, Weibull, gamma and exponential
//! (location 0, as `scipy.stats.<dist>.fit(x, floc=0)`), each with its mean and standard
//! deviation in seconds and its Kolmogorov–Smirnov distance to the data.

use std::collections::BTreeMap;

use anyhow::Result;
use clap::ValueEnum;

use crate::analysis::{floats, strings, Cx};
use crate::chart::{Panel, Series};
use crate::stats::{
    fit_exponential, fit_gamma, fit_lognormal, fit_weibull, ks_statistic, sort, Fit, LogHist,
};
use crate::table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    ColdStartTime,
    InterArrival,
}

impl What {
    pub fn label(self) -> &'static str {
        match self {
            What::ColdStartTime => "cold start time (s)",
            What::InterArrival => "time between cold starts (s)",
        }
    }
}

/// A fit and how far it is from the data.
#[derive(Debug, Clone)]
pub struct FitRow {
    pub fit: Fit,
    pub ks: f64,
    pub n: usize,
}

/// Samples of one group, sorted, with the count of non-positive values dropped before fitting.
pub struct Sample {
    pub sorted: Vec<f64>,
    pub dropped: usize,
}

impl Sample {
    pub fn new(mut v: Vec<f64>) -> Self {
        let before = v.len();
        v.retain(|x| x.is_finite() && *x > 0.0);
        sort(&mut v);
        Self {
            dropped: before - v.len(),
            sorted: v,
        }
    }
}

/// All four fits of positive sorted data, in a fixed order: LogNormal, Weibull, gamma,
/// exponential.
pub fn fit_all(sorted: &[f64]) -> Vec<FitRow> {
    if sorted.len() < 2 {
        return Vec::new();
    }
    [
        fit_lognormal(sorted),
        fit_weibull(sorted),
        fit_gamma(sorted),
        fit_exponential(sorted),
    ]
    .into_iter()
    .map(|fit| FitRow {
        ks: ks_statistic(sorted, |x| fit.cdf(x)),
        fit,
        n: sorted.len(),
    })
    .collect()
}

/// Per group: the values of `what` (groups: one "all", or one per region).
pub fn samples(cx: &Cx, what: What, by_region: bool) -> Result<BTreeMap<String, Sample>> {
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let filter = cx.region_filter("region");
    match what {
        What::ColdStartTime => {
            cx.for_each(
                &format!(
                    "SELECT region, totalCost_cold_start FROM cold_starts WHERE true {filter}"
                ),
                |b| {
                    let r = strings(b.column(0))?;
                    let v = floats(b.column(1))?;
                    for (r, v) in r.into_iter().zip(v) {
                        let g = if by_region { r } else { "all".into() };
                        groups.entry(g).or_default().push(v);
                    }
                    Ok(())
                },
            )?;
        }
        What::InterArrival => {
            for (r, gaps) in inter_arrivals(cx)?.iter() {
                let g = if by_region { r.clone() } else { "all".into() };
                groups.entry(g).or_default().extend(gaps);
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(g, v)| (g, Sample::new(v)))
        .collect())
}

/// Gaps between consecutive cold starts of each region (all its functions), in time order;
/// computed once per report.
pub fn inter_arrivals(cx: &Cx) -> Result<std::rc::Rc<BTreeMap<String, Vec<f64>>>> {
    cx.memo("inter_arrivals", || gaps(cx))
}

fn gaps(cx: &Cx) -> Result<BTreeMap<String, Vec<f64>>> {
    let mut out = BTreeMap::new();
    for r in cx.regions("cold_starts") {
        let mut t = Vec::new();
        cx.for_each(
            &format!(
                "SELECT time FROM cold_starts WHERE region = '{}'",
                r.replace('\'', "''")
            ),
            |b| {
                t.extend(floats(b.column(0))?);
                Ok(())
            },
        )?;
        sort(&mut t);
        out.insert(r, t.windows(2).map(|w| w[1] - w[0]).collect());
    }
    Ok(out)
}

/// The empirical CDF (log-binned) against each fitted CDF, log x.
pub fn fit_panel(title: &str, x_label: &str, sample: &Sample, fits: &[FitRow]) -> Panel {
    let mut h = LogHist::new(-7, 6, 20);
    sample.sorted.iter().for_each(|x| h.add(*x));
    let emp = h.cdf();
    let mut series = vec![Series::new("data", emp.clone())];
    for f in fits {
        series.push(Series::new(
            format!("{} (KS {:.3})", f.fit.name(), f.ks),
            emp.iter().map(|(x, _)| (*x, f.fit.cdf(*x))).collect(),
        ));
    }
    Panel::lines(title, x_label, "CDF", series).log_x()
}

pub fn fits_table(rows: &[(String, FitRow)], dropped: &BTreeMap<String, usize>) -> Table {
    Table::new()
        .str("group", rows.iter().map(|r| r.0.clone()).collect())
        .str(
            "distribution",
            rows.iter().map(|r| r.1.fit.name().to_string()).collect(),
        )
        .str(
            "parameters",
            rows.iter().map(|r| r.1.fit.params()).collect(),
        )
        .f64("mean_s", rows.iter().map(|r| r.1.fit.mean()).collect())
        .f64("std_s", rows.iter().map(|r| r.1.fit.std()).collect())
        .f64("ks", rows.iter().map(|r| r.1.ks).collect())
        .i64("n", rows.iter().map(|r| r.1.n as i64).collect())
        .i64(
            "non_positive_dropped",
            rows.iter()
                .map(|r| dropped.get(&r.0).copied().unwrap_or(0) as i64)
                .collect(),
        )
}
