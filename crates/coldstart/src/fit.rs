//! Distribution fits of positive samples (cold start times, the gaps between cold starts):
//! maximum-likelihood LogNormal, Weibull, gamma and exponential
//! (location 0, as `scipy.stats.<dist>.fit(x, floc=0)`), each with its mean and standard
//! deviation in seconds and its Kolmogorov–Smirnov distance to the data.

use std::collections::BTreeMap;

use crate::chart::{Panel, Series};
use crate::stats::{
    fit_exponential, fit_gamma, fit_lognormal, fit_weibull, ks_statistic, sort, Fit, LogHist,
};
use crate::table::Table;

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
